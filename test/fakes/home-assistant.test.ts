/** The fake Home Assistant keeps to HA's documented protocol where the exporter relies on it. */
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeHa, type FakeHa } from './home-assistant.js';

let fake: FakeHa | undefined;
afterEach(async () => {
  await fake?.close();
  fake = undefined;
});

function connect(url: string): Promise<{ ws: WebSocket; next: () => Promise<Record<string, unknown>>; closed: Promise<void> }> {
  const ws = new WebSocket(`${url.replace('http', 'ws')}/api/websocket`);
  const queue: Record<string, unknown>[] = [];
  const waiters: ((m: Record<string, unknown>) => void)[] = [];
  ws.on('message', (d) => {
    const m = JSON.parse(String(d)) as Record<string, unknown>;
    const w = waiters.shift();
    if (w) w(m);
    else queue.push(m);
  });
  const closed = new Promise<void>((r) => ws.once('close', () => r()));
  return new Promise((resolve) =>
    ws.once('open', () => resolve({ ws, closed, next: () => new Promise((r) => (queue.length ? r(queue.shift()!) : waiters.push(r))) })),
  );
}

describe('fake Home Assistant', () => {
  it('answers REST with a bad token by a plain-text 401', async () => {
    fake = await startFakeHa({ token: 't' });
    const res = await fetch(`${fake.url}/api/`, { headers: { authorization: 'Bearer nope' } });
    expect(res.status).toBe(401);
    expect(await res.text()).toBe('401: Unauthorized');
    expect(await (await fetch(`${fake.url}/api/`, { headers: { authorization: 'Bearer t' } })).json()).toEqual({ message: 'API running.' });
  });

  it('closes a connection that does not authenticate within the auth window', async () => {
    fake = await startFakeHa({ token: 't', authWindowMs: 200 });
    const c = await connect(fake.url);
    expect(await c.next()).toMatchObject({ type: 'auth_required' });
    await c.closed;
  });

  it('sends auth_invalid then closes on a bad token; refuses reused ids after auth_ok', async () => {
    fake = await startFakeHa({ token: 't' });
    const bad = await connect(fake.url);
    await bad.next();
    bad.ws.send(JSON.stringify({ type: 'auth', access_token: 'x' }));
    expect(await bad.next()).toMatchObject({ type: 'auth_invalid' });
    await bad.closed;
    const good = await connect(fake.url);
    await good.next();
    good.ws.send(JSON.stringify({ type: 'auth', access_token: 't' }));
    expect(await good.next()).toMatchObject({ type: 'auth_ok' });
    good.ws.send(JSON.stringify({ id: 5, type: 'ping' }));
    expect(await good.next()).toEqual({ id: 5, type: 'pong' });
    good.ws.send(JSON.stringify({ id: 5, type: 'ping' }));
    expect(await good.next()).toMatchObject({ id: 5, success: false, error: { code: 'id_reuse' } });
    good.ws.close();
  });
});
