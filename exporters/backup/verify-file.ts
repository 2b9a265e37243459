/**
 * Is a dump file a complete backup? A 0-byte file, a plain pg_dump without its
 * "dump complete" trailer (the dump was cut off), a custom-format dump without the
 * PGDMP magic, or a gzip that fails its integrity check is a failed backup, even
 * though the file is there and fresh.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export const VERIFY_MODES = ['auto', 'none', 'nonempty', 'gzip', 'pg_dump', 'pg_custom'] as const;
export type VerifyMode = (typeof VERIFY_MODES)[number];

export interface Verdict {
  readonly complete: boolean;
  /** Why not, in words for the log. */
  readonly problem?: string;
}

/** The check `auto` picks from a file name. */
export function modeForName(path: string): Exclude<VerifyMode, 'auto'> {
  return /\.(gz|tgz|snap)$/i.test(path) ? 'gzip' : 'nonempty';
}

const PG_TRAILERS = ['-- PostgreSQL database dump complete', '-- PostgreSQL database cluster dump complete'];
const TAIL_BYTES = 4096;

/** Keeps the last `size` bytes of what is written to it. */
class Tail extends Writable {
  private buf = Buffer.alloc(0);
  constructor(private readonly size: number) {
    super();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    const joined = Buffer.concat([this.buf, chunk]);
    this.buf = joined.length > this.size ? joined.subarray(joined.length - this.size) : joined;
    done();
  }
  text(): string {
    return this.buf.toString('utf8');
  }
}

/** Reads what it must of the file (all of it for gzip) and judges it. */
export async function verifyFile(path: string, size: number, mode: VerifyMode, signal: AbortSignal): Promise<Verdict> {
  if (size === 0) return { complete: false, problem: 'the file is empty (0 bytes)' };
  const m = mode === 'auto' ? modeForName(path) : mode;
  const gzipped = /\.(gz|tgz)$/i.test(path);
  switch (m) {
    case 'none':
    case 'nonempty':
      return { complete: true };
    case 'gzip':
      try {
        await pipeline(createReadStream(path), createGunzip(), new Writable({ write: (_c, _e, done) => done() }), { signal });
        return { complete: true };
      } catch (err) {
        if (signal.aborted) throw err;
        return { complete: false, problem: `gzip integrity check failed: ${(err as Error).message}` };
      }
    case 'pg_custom': {
      const fh = await open(path, 'r');
      try {
        const head = Buffer.alloc(5);
        await fh.read(head, 0, 5, 0);
        return head.toString('latin1') === 'PGDMP'
          ? { complete: true }
          : { complete: false, problem: 'not a pg_dump custom-format archive (no PGDMP header)' };
      } finally {
        await fh.close();
      }
    }
    case 'pg_dump': {
      const tail = new Tail(TAIL_BYTES);
      try {
        if (gzipped) await pipeline(createReadStream(path), createGunzip(), tail, { signal });
        else await pipeline(createReadStream(path, { start: Math.max(0, size - TAIL_BYTES) }), tail, { signal });
      } catch (err) {
        if (signal.aborted) throw err;
        return { complete: false, problem: `cannot read the dump: ${(err as Error).message}` };
      }
      const text = tail.text();
      return PG_TRAILERS.some((t) => text.includes(t))
        ? { complete: true }
        : { complete: false, problem: 'the pg_dump output has no "dump complete" trailer: the dump was cut off' };
    }
  }
}
