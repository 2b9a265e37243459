/** The pooled /metrics body: bytes as written, never reused while a response still sends them. */
import { request } from 'node:http';
import { gunzipSync } from 'node:zlib';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { BodyBuffer, BodyPool, CHUNK_BYTES, type Body } from './body-buffer.js';
import { sendExposition } from './http/exposition-body.js';

describe('BodyBuffer', () => {
  it('holds exactly the UTF-8 of what was written, across chunks and multi-byte text, no string split', () => {
    const b = new BodyBuffer(16);
    const parts = ['a 1', 'dévice="küche" 2', '', 'x'.repeat(100), '温度 3', '🌡️ 4'];
    for (const p of parts) b.line(p);
    b.write('tail');
    const want = `${parts.join('\n')}\ntail`;
    expect(b.toString()).toBe(want);
    const chunks = b.chunks();
    expect(chunks.length).toBeGreaterThan(3);
    expect(Buffer.concat(chunks).equals(Buffer.from(want, 'utf8'))).toBe(true);
    expect(b.length).toBe(Buffer.byteLength(want));
    // Each chunk is whole UTF-8 on its own: a chunk boundary never cuts a character.
    for (const c of chunks) expect(Buffer.from(c.toString('utf8'), 'utf8').equals(c)).toBe(true);
    b.reset();
    b.line('again');
    expect(b.toString()).toBe('again\n');
    expect(b.chunks()).toHaveLength(1);
  });

  it('writes the next body into the chunks it kept, allocating none while it is no larger', () => {
    const b = new BodyBuffer(1024);
    const line = `homestation_x{device="a"} 1`;
    for (let i = 0; i < 200; i++) b.line(line);
    const held = b.chunks().length;
    const capacity = b.capacity;
    expect(held).toBeGreaterThan(4);
    b.reset();
    for (let i = 0; i < 200; i++) b.line(line);
    expect(b.capacity).toBe(capacity);
    expect(b.chunks()).toHaveLength(held);
    expect(b.toString()).toBe(`${line}\n`.repeat(200));
  });

  it('sends an empty body as one empty chunk', () => {
    const b = new BodyBuffer();
    expect(b.length).toBe(0);
    expect(b.chunks().map((c) => c.length)).toEqual([0]);
  });
});

describe('BodyPool', () => {
  it('never hands out a buffer that is still in use, and reuses a released one', () => {
    const pool = new BodyPool();
    const a = pool.acquire();
    const b = pool.acquire();
    expect(b).not.toBe(a);
    a.line('first');
    pool.release(a);
    const c = pool.acquire();
    expect(c).toBe(a);
    expect(c.length).toBe(0);
  });

  it('keeps no more chunks than the last body used', () => {
    const pool = new BodyPool();
    const a = pool.acquire();
    for (let i = 0; i < 64; i++) a.write('x'.repeat(64 * 1024));
    expect(a.capacity).toBeGreaterThanOrEqual(4 * 1024 * 1024);
    pool.release(a);
    const again = pool.acquire();
    expect(again).toBe(a);
    again.write('small');
    pool.release(again);
    expect(again.capacity).toBe(CHUNK_BYTES);
  });
});

describe('a pooled body sent as /metrics', () => {
  const text = Array.from({ length: 2000 }, (_, i) => `homestation_x{i="${i}"} ${i}\n`).join('');
  const pooled = (): Body & { released: number } => {
    // Small chunks: the body goes out as many of them.
    const b = new BodyBuffer(1024);
    for (const line of text.split(/(?<=\n)/)) b.write(line);
    const body = {
      chunks: b.chunks(),
      length: b.length,
      released: 0,
      release() {
        body.released += 1;
      },
    };
    return body;
  };

  it('is released once the response is done, plain or gzipped, and arrives whole from its chunks', async () => {
    const app = Fastify();
    const bodies: ReturnType<typeof pooled>[] = [];
    app.get('/metrics', async (req, reply) => {
      const b = pooled();
      bodies.push(b);
      return sendExposition(req, reply, b, 'text/plain; version=0.0.4; charset=utf-8');
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}/metrics`;
    expect(bodies.length).toBe(0);
    const plain = await fetch(url, { headers: { 'accept-encoding': 'identity' } });
    expect(await plain.text()).toBe(text);
    expect(plain.headers.get('content-length')).toBe(String(Buffer.byteLength(text)));
    expect(bodies[0]?.chunks.length).toBeGreaterThan(10);
    const gz = await app.inject({ url: '/metrics', headers: { 'accept-encoding': 'gzip' } });
    expect(gunzipSync(gz.rawPayload).toString('utf8')).toBe(text);
    await expect.poll(() => bodies.map((b) => b.released)).toEqual([1, 1]);
    await app.close();
  });

  it('is released when the scraper hangs up before the body is read', async () => {
    const app = Fastify();
    const big = 'x'.repeat(16 * 1024 * 1024); // more than the socket buffers take at once
    let body: (Body & { released: number }) | undefined;
    app.get('/metrics', async (req, reply) => {
      // Written as lines are, so that the body is many chunks sent one after another.
      const b = new BodyBuffer();
      for (let i = 0; i < big.length; i += 64 * 1024) b.write(big.slice(i, i + 64 * 1024));
      const pooled = {
        chunks: b.chunks(),
        length: b.length,
        released: 0,
        release() {
          pooled.released += 1;
        },
      };
      body = pooled;
      return sendExposition(req, reply, pooled, 'text/plain; version=0.0.4; charset=utf-8');
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const port = (app.server.address() as { port: number }).port;
    await new Promise<void>((resolve) => {
      const req = request({ host: '127.0.0.1', port, path: '/metrics' }, (res) => {
        res.once('data', () => {
          // One chunk read, then gone: the rest of the body is never taken.
          expect(body?.released).toBe(0);
          req.destroy();
          resolve();
        });
      });
      req.end();
    });
    await expect.poll(() => body?.released).toBe(1);
    await app.close();
  });
});
