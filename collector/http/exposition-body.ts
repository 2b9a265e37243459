/**
 * The /metrics body, gzipped when the scraper asks for it (Prometheus always sends
 * `Accept-Encoding: gzip`): the exposition text is repetitive, so the fastest level
 * already shrinks it several times at little CPU. Small bodies go as they are.
 */
import { promisify } from 'node:util';
import { constants, gzip } from 'node:zlib';
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
 * Sends the exposition: a string, or a pooled body (collector/body-buffer.ts) that is
 * released once gzip has read it or the response is done with it.
 */
export async function sendExposition(req: FastifyRequest, reply: FastifyReply, body: string | Body, contentType: string): Promise<FastifyReply> {
  reply.type(contentType).header('vary', 'Accept-Encoding');
  const pooled = typeof body === 'string' ? undefined : body;
  const payload = typeof body === 'string' ? body : body.bytes;
  if (payload.length < MIN_BYTES || !acceptsGzip(req.headers['accept-encoding'])) {
    // 'close' follows the last byte written, or an aborted request.
    if (pooled) reply.raw.once('close', () => pooled.release());
    return reply.send(payload);
  }
  let gz: Buffer;
  try {
    gz = await gzipAsync(payload, { level: constants.Z_BEST_SPEED });
  } finally {
    pooled?.release();
  }
  return reply.header('content-encoding', 'gzip').send(gz);
}
