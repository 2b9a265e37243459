/**
 * The host's contract: collections run in the background with their timeout, a
 * scrape reads kept state only, and one bad instance affects its own series only.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { fakePull, fakeStream, fakeStreamControl } from '../test/fakes/fake-kinds.js';
import { memoryLogger } from '../test/helpers/runner.js';
import { parseConfig } from './config/load.js';
import { ExporterError } from './contract.js';
import { Host } from './host.js';
import { buildApp } from './http/app.js';

const kinds = [fakePull, fakeStream];
let hosts: Host[] = [];

function makeHost(yaml: string) {
  const { log, lines } = memoryLogger();
  const config = parseConfig(yaml, 'test.yaml', kinds, { env: {} });
  const host = new Host(config, kinds, { log, processMetrics: false });
  hosts.push(host);
  return { host, lines, app: buildApp({ host, log, configSource: 'test.yaml' }) };
}

afterEach(async () => {
  await Promise.all(hosts.map((h) => h.stop()));
  hosts = [];
});

describe('collector host', () => {
  it('serves a scrape within 1 s while an instance hangs, with that instance up 0 (timeout)', async () => {
    const { host, app, lines } = makeHost(`
exporters:
  fakepull:
    - { name: good, behaviour: ok, value: 42 }
    - { name: stuck, behaviour: hang, timeout: 300ms }
`);
    host.start();
    // During the hang: fast, and the good instance already served.
    let t0 = performance.now();
    let res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(res.statusCode).toBe(200);
    await expect.poll(() => host.runners[1]!.status().lastError?.reason, { timeout: 3000 }).toBe('timeout');
    t0 = performance.now();
    res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(res.body).toContain('homestation_exporter_up{exporter="fakepull",exporter_instance="stuck"} 0');
    expect(res.body).toContain('homestation_exporter_up{exporter="fakepull",exporter_instance="good"} 1');
    expect(res.body).toContain('homestation_fakepull_value{exporter_instance="good",thing="a"} 42');
    expect(res.body).toContain('homestation_exporter_errors_total{exporter="fakepull",exporter_instance="stuck",reason="timeout"} 1');
    expect(res.body).toContain('homestation_exporter_errors_total{exporter="fakepull",exporter_instance="good",reason="timeout"} 0');
    expect(lines.some((l) => l.msg === 'collection failed' && l.instance === 'stuck' && l.reason === 'timeout')).toBe(true);
  });

  it('a hung collection that ignores its abort blocks only its own next runs', async () => {
    const { host } = makeHost(`
exporters:
  fakepull:
    - { name: stuck, behaviour: hang, timeout: 100ms }
`);
    const r = host.runners[0]!;
    await r.collectOnce();
    await r.collectOnce();
    expect(r.status().errors.timeout).toBe(2);
    expect(r.status().lastError?.message).toMatch(/previous collection is still running/);
  });

  it('errors thrown as non-Errors and failing instances are isolated, each with its reason', async () => {
    const { host, app } = makeHost(`
exporters:
  fakepull:
    - { name: a, behaviour: throw }
    - { name: b, behaviour: reject-non-error }
    - { name: c, behaviour: ok }
`);
    for (const r of host.runners) await r.collectOnce();
    const body = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(body).toContain('homestation_exporter_errors_total{exporter="fakepull",exporter_instance="a",reason="unreachable"} 1');
    expect(body).toContain('homestation_exporter_errors_total{exporter="fakepull",exporter_instance="b",reason="other"} 1');
    expect(body).toContain('homestation_fakepull_value{exporter_instance="c",thing="a"} 1');
    expect(body).not.toContain('exporter_instance="a",thing');
  });

  it('drops a sample whose labels do not match its catalogue entry, keeps the rest, says so once', async () => {
    const { host, app, lines } = makeHost(`
exporters:
  fakepull:
    - { name: x, behaviour: bad-sample, value: 7 }
`);
    await host.runners[0]!.collectOnce();
    const body = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    await app.inject({ method: 'GET', url: '/metrics' });
    expect(body).toContain('homestation_fakepull_value{exporter_instance="x",thing="good"} 7');
    expect(body).not.toContain('wrong=');
    expect(lines.filter((l) => l.msg === 'sample does not match its catalogue entry; dropped')).toHaveLength(1);
  });

  it('starts stream instances once, reads them at scrape time and stops them', async () => {
    fakeStreamControl.started = 0;
    fakeStreamControl.stopped = 0;
    fakeStreamControl.failStart = false;
    fakeStreamControl.snapshot = { up: true, samples: [{ metric: 'homestation_fakestream_value', labels: { thing: 's' }, value: 3 }] };
    const { host, app } = makeHost('exporters:\n  fakestream:\n    - name: live\n');
    host.start();
    await expect.poll(() => fakeStreamControl.started).toBe(1);
    expect((await app.inject({ url: '/metrics' })).body).toContain('homestation_fakestream_value{exporter_instance="live",thing="s"} 3');
    // A disconnected stream keeps serving its last-known model: the series do not vanish.
    fakeStreamControl.snapshot = { up: false, samples: fakeStreamControl.snapshot.samples };
    const body = (await app.inject({ url: '/metrics' })).body;
    expect(body).toContain('homestation_exporter_up{exporter="fakestream",exporter_instance="live"} 0');
    expect(body).toContain('homestation_fakestream_value{exporter_instance="live",thing="s"} 3');
    await host.stop();
    expect(fakeStreamControl.stopped).toBe(1);
  });

  it('counts the errors a stream reports and its last success, as for pull instances', async () => {
    fakeStreamControl.failStart = false;
    fakeStreamControl.snapshot = { up: false, samples: [] };
    const { host, app } = makeHost('exporters:\n  fakestream:\n    - name: live\n');
    host.start();
    await expect.poll(() => fakeStreamControl.ctx).toBeDefined();
    const ctx = fakeStreamControl.ctx!;
    let body = (await app.inject({ url: '/metrics' })).body;
    expect(body).toContain('homestation_exporter_errors_total{exporter="fakestream",exporter_instance="live",reason="auth"} 0');
    expect(body).not.toContain('homestation_exporter_last_success_timestamp_seconds{exporter="fakestream"');
    ctx.reportError(new ExporterError('auth', 'refused'));
    ctx.reportError(new ExporterError('unreachable', 'gone'));
    ctx.reportError(new ExporterError('unreachable', 'gone'));
    body = (await app.inject({ url: '/metrics' })).body;
    expect(body).toContain('homestation_exporter_errors_total{exporter="fakestream",exporter_instance="live",reason="auth"} 1');
    expect(body).toContain('homestation_exporter_errors_total{exporter="fakestream",exporter_instance="live",reason="unreachable"} 2');
    expect(host.runners[0]!.status().lastError).toMatchObject({ reason: 'unreachable', message: 'gone' });
    ctx.reportSuccess();
    fakeStreamControl.snapshot = { up: true, samples: [] };
    body = (await app.inject({ url: '/metrics' })).body;
    expect(body).toMatch(/homestation_exporter_last_success_timestamp_seconds\{exporter="fakestream",exporter_instance="live"\} \d+/);
    expect(host.runners[0]!.status().lastError).toBeUndefined();
    await host.stop();
  });

  it('retries a stream whose start failed, and reports why meanwhile', async () => {
    fakeStreamControl.started = 0;
    fakeStreamControl.failStart = true;
    const { host } = makeHost('exporters:\n  fakestream:\n    - name: live\n');
    host.start();
    await expect.poll(() => host.runners[0]!.status().lastError?.reason).toBe('auth');
    fakeStreamControl.failStart = false;
    fakeStreamControl.snapshot = { up: true, samples: [] };
    await expect.poll(() => fakeStreamControl.started, { timeout: 3000 }).toBe(1);
  });

  it('is ready once every instance has finished its first collection', async () => {
    const { host, app } = makeHost(`
exporters:
  fakepull:
    - { name: slow, behaviour: hang, timeout: 300ms }
`);
    host.start();
    const before = await app.inject({ url: '/readyz' });
    expect(before.statusCode).toBe(503);
    expect(before.json()).toEqual({ status: 'starting', pending: ['fakepull/slow'] });
    await expect.poll(async () => (await app.inject({ url: '/readyz' })).statusCode, { timeout: 3000 }).toBe(200);
    expect((await app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' });
  });

  it('shows each instance on the status page and in /api/v1/status', async () => {
    const { host, app } = makeHost(`
exporters:
  fakepull:
    - { name: fine, behaviour: ok }
    - { name: "broken", behaviour: throw }
`);
    for (const r of host.runners) await r.collectOnce();
    const page = await app.inject({ url: '/' });
    expect(page.headers['content-type']).toMatch(/text\/html/);
    expect(page.body).toMatch(/<td>fakepull<\/td><td>fine<\/td><td>up<\/td>/);
    expect(page.body).toMatch(/<td>broken<\/td><td>down<\/td><td>never<\/td>/);
    expect(page.body).toContain('unreachable: the fake peer is down');
    const api = (await app.inject({ url: '/api/v1/status' })).json() as { instances: { instance: string; up: boolean; last_error: unknown }[] };
    expect(api.instances.map((i) => [i.instance, i.up])).toEqual([
      ['fine', true],
      ['broken', false],
    ]);
    expect(api.instances[1]!.last_error).toMatchObject({ reason: 'unreachable', hint: 'start the fake peer' });
  });
});
