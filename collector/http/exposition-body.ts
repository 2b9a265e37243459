/**
 * The /metrics body, gzipped when the scraper asks for it (Prometheus always sends
 * `Accept-Encoding: gzip`): the exposition text is repetitive, so the fastest level
 * already shrinks it several times at little CPU. Small bodies go as they are.
 */
import { promisify } from 'node:util';
import { constants, gzip } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';

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

export async function sendExposition(req: FastifyRequest, reply: FastifyReply, text: string, contentType: string): Promise<FastifyReply> {
  reply.type(contentType).header('vary', 'Accept-Encoding');
  if (text.length < MIN_BYTES || !acceptsGzip(req.headers['accept-encoding'])) return reply.send(text);
  const body = await gzipAsync(text, { level: constants.Z_BEST_SPEED });
  return reply.header('content-encoding', 'gzip').send(body);
}
