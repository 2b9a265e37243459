/**
 * The /metrics body, gzipped when the scraper asks for it (Prometheus always sends
 * `Accept-Encoding: gzip`): the exposition text is repetitive, so the fastest level
 * already shrinks it several times at little CPU. Small bodies go as they are.
 */
import { promisify } from 'node:util';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { constants, createGzip, gzip } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Body } from '../body-buffer.js';

const gzipAsync = promisify(gzip);
/** Under this many bytes compression saves less than it costs. */
const MIN_BYTES = 1024;

/** Whether the request's Accept-Encoding allows gzip (and does not refuse it with q=0). */
export function acceptsGzip(header: string | string[] | undefined): boolean {
  const value = Array.isArray(header) ? header.join(',') : (header ?? '');
  return value
    .split(',')
    .map((p) => p.trim().toLowerCase())
    .some((p) => {
      const [coding, ...params] = p.split(';').map((x) => x.trim());
      if (coding !== 'gzip' && coding !== '*') return false;
      const q = params.find((x) => x.startsWith('q='));
      return q === undefined || Number(q.slice(2)) > 0;
    });
}

/**
 * Sends the exposition: a string (the remediator's registry), or a pooled body
 * (collector/body-buffer.ts) that is released once gzip has read it or the response is
 * done with it.
 */
export async function sendExposition(req: FastifyRequest, reply: FastifyReply, text: string | Body, contentType: string): Promise<FastifyReply> {
  reply.type(contentType).header('vary', 'Accept-Encoding');
  const body = typeof text === 'string' ? bodyOf(text) : text;
  if (body.length < MIN_BYTES || !acceptsGzip(req.headers['accept-encoding'])) {
    // 'close' follows the last byte written, or an aborted request.
    reply.raw.once('close', () => body.release());
    if (body.chunks.length === 1) return reply.send(body.chunks[0]);
    // The chunks as they are, one after another, with the length known: no copy of the body.
    return reply.header('content-length', body.length).send(Readable.from(body.chunks, { objectMode: false }));
  }
  let gz: Buffer;
  try {
    gz = await gzipChunks(body.chunks);
  } finally {
    body.release();
  }
  return reply.header('content-encoding', 'gzip').send(gz);
}

/** A string as a body of one chunk, with nothing to release. */
function bodyOf(text: string): Body {
  const bytes = Buffer.from(text, 'utf8');
  return { chunks: [bytes], length: bytes.length, release: () => {} };
}

/** What zlib.gzip does for one buffer (a Gzip stream written, its output joined), for several. */
async function gzipChunks(chunks: readonly Buffer[]): Promise<Buffer> {
  if (chunks.length === 1) return gzipAsync(chunks[0] as Buffer, { level: constants.Z_BEST_SPEED });
  const gz = createGzip({ level: constants.Z_BEST_SPEED });
  const out: Buffer[] = [];
  gz.on('data', (c: Buffer) => out.push(c));
  const done = once(gz, 'end');
  for (const c of chunks) gz.write(c);
  gz.end();
  await done;
  return Buffer.concat(out);
}
