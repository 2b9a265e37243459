/** /metrics is gzipped when the scraper asks (Prometheus always does), plain otherwise. */
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import Fastify from 'fastify';
import { acceptsGzip, sendExposition } from './exposition-body.js';

describe('the exposition body', () => {
  it('reads Accept-Encoding as Prometheus and other clients send it', () => {
    expect(acceptsGzip('gzip')).toBe(true);
    expect(acceptsGzip('deflate, gzip;q=0.9')).toBe(true);
    expect(acceptsGzip('*')).toBe(true);
    expect(acceptsGzip('gzip;q=0')).toBe(false);
    expect(acceptsGzip('identity')).toBe(false);
    expect(acceptsGzip(undefined)).toBe(false);
  });

  it('gzips a large body for a client that accepts it, sends small ones and other clients plain', async () => {
    const app = Fastify();
    const big = Array.from({ length: 500 }, (_, i) => `homestation_x{i="${i}"} ${i}\n`).join('');
    app.get('/big', async (req, reply) => sendExposition(req, reply, big, 'text/plain; version=0.0.4; charset=utf-8'));
    app.get('/small', async (req, reply) => sendExposition(req, reply, 'a 1\n', 'text/plain; version=0.0.4; charset=utf-8'));
    const gz = await app.inject({ url: '/big', headers: { 'accept-encoding': 'gzip' } });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gz.headers['content-type']).toMatch(/^text\/plain; version=0.0.4/);
    expect(gz.headers.vary).toBe('Accept-Encoding');
    expect(gunzipSync(gz.rawPayload).toString('utf8')).toBe(big);
    expect(gz.rawPayload.length).toBeLessThan(big.length / 4);
    const plain = await app.inject({ url: '/big' });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body).toBe(big);
    const small = await app.inject({ url: '/small', headers: { 'accept-encoding': 'gzip' } });
    expect(small.headers['content-encoding']).toBeUndefined();
    expect(small.body).toBe('a 1\n');
    await app.close();
  });
});
