/**
 * Streams between two engines, never through a disk of ours: an image
 * (`GET /images/{id}/get` into `POST /images/load`) and a mount's content
 * (`GET /containers/{id}/archive` into `PUT /containers/{id}/archive`), counting
 * the bytes as they pass for the progress the CLI shows.
 */
import { PassThrough, Transform, type Readable } from 'node:stream';
import type { DockerDriver } from '../docker/driver.js';
import { unpackPath } from './plan.js';

export type OnBytes = (bytes: number) => void;

/** A pass-through that reports the running byte count at most every `everyMs`, and at the end. */
function counter(onBytes: OnBytes, everyMs = 500): Transform & { bytes(): number } {
  let bytes = 0;
  let last = 0;
  const t = new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      const now = Date.now();
      if (now - last >= everyMs) {
        last = now;
        onBytes(bytes);
      }
      done(null, chunk);
    },
    flush(done) {
      onBytes(bytes);
      done();
    },
  });
  return Object.assign(t, { bytes: () => bytes });
}

/** The name of the first entry of a tar stream (ustar prefix included), and a stream that still holds every byte. */
function peekFirstEntry(source: Readable): Promise<{ name: string; stream: Readable }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    const finish = (ended: boolean) => {
      source.pause();
      source.off('data', onData);
      source.off('end', onEnd);
      source.off('error', onError);
      const head = Buffer.concat(chunks);
      const field = (from: number, to: number) => {
        const raw = head.subarray(from, to);
        const nul = raw.indexOf(0);
        return raw.subarray(0, nul < 0 ? raw.length : nul).toString('utf8');
      };
      const prefix = field(257, 262) === 'ustar' ? field(345, 500) : '';
      const name = prefix ? `${prefix}/${field(0, 100)}` : field(0, 100);
      const stream = new PassThrough();
      stream.write(head);
      if (ended) stream.end();
      else {
        source.once('error', (err) => stream.destroy(err));
        source.pipe(stream);
      }
      resolve({ name, stream });
    };
    const onData = (chunk: Buffer) => {
      chunks.push(chunk);
      length += chunk.length;
      if (length >= 512) finish(false);
    };
    const onEnd = () => finish(true);
    const onError = (err: Error) => reject(err);
    source.on('data', onData);
    source.once('end', onEnd);
    source.once('error', onError);
  });
}

/** Copies what is at `path` in the source container to the same path in the target container; the bytes copied. */
export async function copyMount(
  from: { driver: DockerDriver; container: string },
  to: { driver: DockerDriver; container: string },
  path: string,
  onBytes: OnBytes,
): Promise<number> {
  const archive = await from.driver.getArchive(from.container, path);
  const { name, stream } = await peekFirstEntry(archive);
  const count = counter(onBytes);
  stream.once('error', (err) => count.destroy(err));
  await to.driver.putArchive(to.container, unpackPath(name, path), stream.pipe(count));
  return count.bytes();
}

/** Copies an image by ID from one engine to the other; the bytes copied. */
export async function copyImage(from: DockerDriver, to: DockerDriver, imageId: string, onBytes: OnBytes): Promise<number> {
  const tar = await from.saveImage(imageId);
  const count = counter(onBytes);
  tar.once('error', (err) => count.destroy(err));
  await to.loadImage(tar.pipe(count));
  return count.bytes();
}
