/**
 * One incident per failure whatever Alertmanager's spelling, and no firing alert
 * dropped unseen: against a real remediator, journal and podman engine, fed webhooks
 * in the shapes Alertmanager sends (its notify/webhook payload, resends, offsets,
 * nanoseconds, truncatedAlerts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertPayload, startTestRemediator, type TestRemediator } from '../test/helpers/remediator.js';
import { podman, podmanSuite, reservePort, runWeb } from '../test/helpers/podman.js';

const uid = `${process.pid}`;
const N = (n: string) => `hs-t-id-${n}-${uid}`;
const suite = podmanSuite('hs-identity', () => ['spell', 'flap', 'cool', 'alien', 'frozen', 'timed', 'gone', 'limited'].map(N));
let frozenPort: { port: number; release(): Promise<void> };
let rem: TestRemediator;

beforeAll(async () => {
  if (suite.missing) return;
  frozenPort = await reservePort();
  rem = await startTestRemediator(
    suite.engine().dockerHost,
    `  cooldown: 0s
  services:
    - { name: spell, container: ${N('spell')}, recovery_deadline: 2s, stop_timeout: 1s }
    - { name: flap, container: ${N('flap')}, recovery_deadline: 20s, stop_timeout: 1s }
    - { name: cool, container: ${N('cool')}, recovery_deadline: 20s, stop_timeout: 1s }
    - { name: limited, container: ${N('limited')}, recovery_deadline: 1s, stop_timeout: 1s }
    - { name: gone, container: ${N('gone')}, recovery_deadline: 20s, stop_timeout: 1s }
    - { name: timed, container: ${N('timed')}, recovery_deadline: 20s, stop_timeout: 1s }
    - { name: frozen, container: ${N('frozen')}, probe: { http: { url: "http://127.0.0.1:${frozenPort.port}/" }, timeout: 1s }, recovery_deadline: 20s, stop_timeout: 10s }
  policies:
    - { match: { alertname: ServiceDown, policy: cool }, ladder: [{ action: restart }], cooldown: 10m }
    - { match: { alertname: ServiceDown }, ladder: [{ action: restart }] }
`,
  );
}, 120_000);
afterAll(async () => {
  await rem?.stop();
}, 30_000);

const incidentsOf = (service: string) => rem.journal.incidents(500).filter((i) => i.service === service);
const steps = (id: number) => rem.journal.entries(id).map((e) => `${e.kind}:${e.what}:${e.result}`);

describe.runIf(!suite.missing)('incident identity', () => {
  it('one instant in three spellings is one alert; a resolved alert in a fourth closes its failed incident', async () => {
    // A container that exits at once: the restart does not bring it back, the incident fails.
    podman(['run', '-d', '--name', N('spell'), '--label', 'homestation.remediate=true', 'localhost/hs-busybox:test', 'sh', '-c', 'exit 3']);
    const fp = 'fa11ed0000000001';
    const send = (startsAt: string, status: 'firing' | 'resolved' = 'firing') =>
      rem.post(alertPayload([{ labels: { alertname: 'ServiceDown', service: 'spell' }, startsAt, fingerprint: fp, status }])).then((r) => r.json());
    expect(await send('2026-11-25T10:00:00Z')).toEqual({ accepted: 1, duplicates: 0 });
    expect(await send('2026-11-25T11:00:00+01:00')).toEqual({ accepted: 0, duplicates: 1 });
    expect(await send('2026-11-25T10:00:00.000000000Z')).toEqual({ accepted: 0, duplicates: 1 });
    await rem.engine.idle();
    expect(incidentsOf('spell').map((i) => i.state)).toEqual(['failed']);
    await send('2026-11-25T05:00:00-05:00', 'resolved');
    expect(incidentsOf('spell').map((i) => i.state)).toEqual(['resolved']);
  });

  it('a re-fire while an incident runs joins it, and is taken up when it ends', async () => {
    const web = await runWeb(N('flap'), { ignoreTerm: true }); // its stop takes the whole grace period
    podman(['pause', web.name]);
    const first = await rem.post(alertPayload([{ labels: { alertname: 'ServiceDown', service: 'flap' }, startsAt: new Date(Date.now() - 60_000).toISOString() }]));
    expect(first.status).toBe(200);
    // It resolves and fires again (a new startsAt) while the restart is still running.
    const second = await rem.post(alertPayload([{ labels: { alertname: 'ServiceDown', service: 'flap' }, startsAt: new Date().toISOString() }]));
    expect(await second.json()).toEqual({ accepted: 1, duplicates: 0 });
    await rem.engine.idle();
    const [incident] = incidentsOf('flap');
    expect(incident?.state).toBe('recovered');
    const s = steps(incident!.id);
    expect(s).toContain('decision:joined:ok');
    // Taken up when the lock freed: the service passed its check, which answers the second alert.
    expect(s).toContain('check:joined:ok');
    expect(rem.journal.entries(incident!.id).some((e) => e.what === 'suppressed' && e.result === 'in_progress')).toBe(false);
  });

  it('a re-fire inside the cooldown is not acted on, but a human is told', async () => {
    await runWeb(N('cool'));
    podman(['stop', '-t', '0', N('cool')]);
    const fire = (startsAt: string) => rem.post(alertPayload([{ labels: { alertname: 'ServiceDown', service: 'cool', policy: 'cool' }, startsAt }]));
    await fire(new Date(Date.now() - 5000).toISOString());
    await rem.engine.idle();
    expect(incidentsOf('cool').map((i) => i.state)).toEqual(['recovered']);
    podman(['stop', '-t', '0', N('cool')]);
    const before = rem.notified.length;
    await fire(new Date().toISOString());
    await rem.engine.idle();
    expect(incidentsOf('cool').map((i) => `${i.state}:${i.reason}`)).toEqual(['refused:cooldown', 'recovered:restart (attempt 1)']);
    expect(rem.notified.slice(before).map((n) => n.kind)).toEqual(['needs_human']);
    expect(await rem.metric('homestation_remediator_escalations_total', { service: 'cool', reason: 'refire_in_cooldown' })).toBe(1);
  });

  it('refuses an alert once, however often Alertmanager resends it, and logs one line per request', async () => {
    await runWeb(N('alien'), { optIn: false });
    const fp = 'a11e400000000001';
    const startsAt = new Date().toISOString();
    for (let i = 0; i < 3; i++) await rem.post(alertPayload([{ labels: { alertname: 'ServiceDown', service: N('alien') }, startsAt, fingerprint: fp }]));
    await rem.engine.idle();
    expect(incidentsOf(N('alien')).map((i) => `${i.state}:${i.reason}`)).toEqual(['refused:not_opted_in']);

    const linesBefore = rem.logs.length;
    const group = Array.from({ length: 400 }, (_, i) => ({ labels: { alertname: 'NoSuchPolicy', service: `svc-${i}` } }));
    expect((await rem.post(alertPayload(group))).status).toBe(200);
    const lines = rem.logs.slice(linesBefore);
    // Each suppression is in the journal and at debug level; the info log has one line.
    expect(lines.filter((l) => String(l.msg).startsWith('not acting') && Number(l.level) >= 30)).toHaveLength(0);
    const summary = lines.filter((l) => l.msg === 'webhook received');
    expect(summary).toHaveLength(1);
    expect(summary[0]).toMatchObject({ alerts: 400, accepted: 400, suppressed: { no_policy: 400 } });
  });

  it("counts and says the alerts Alertmanager left out (truncatedAlerts)", async () => {
    const body = alertPayload([{ labels: { alertname: 'NoSuchPolicy', service: 'x' } }]) as Record<string, unknown>;
    body.truncatedAlerts = 17;
    await rem.post(body);
    expect(await rem.metric('homestation_remediator_truncated_alerts_total')).toBe(17);
    expect(rem.logs.some((l) => l.truncated === 17)).toBe(true);
  });
});

describe.runIf(!suite.missing)('a frozen service', () => {
  it('is restarted without waiting the grace period meant for a healthy one, and the journal says so', async () => {
    // PID 1 ignores SIGTERM: a graceful stop would take the whole 10 s stop_timeout.
    const web = await runWeb(N('frozen'), { ignoreTerm: true, port: frozenPort });
    podman(['pause', web.name]);
    const t0 = Date.now();
    await rem.post(alertPayload([{ labels: { alertname: 'ServiceDown', service: 'frozen' } }]));
    await rem.engine.idle();
    const [incident] = incidentsOf('frozen');
    expect(incident?.state).toBe('recovered');
    expect(Date.now() - t0).toBeLessThan(8000);
    const started = rem.journal.entries(incident!.id).find((e) => e.kind === 'action' && e.result === 'started');
    expect(started?.detail).toMatch(/hung, so stopped with 0 s, not its 10 s grace period/);
  }, 60_000);
});

describe.runIf(!suite.missing)('recovery time', () => {
  it("is measured from the failure's best-known start: the alert start less its rule's for:", async () => {
    await runWeb(N('timed'));
    podman(['stop', '-t', '0', N('timed')]);
    const startsAt = new Date(Date.now() - 2000).toISOString();
    const body = alertPayload([{ labels: { alertname: 'ServiceDown', service: 'timed' }, startsAt }]) as { alerts: { annotations: Record<string, string> }[] };
    body.alerts[0]!.annotations = { summary: 'timed is down', detection_for: '30s' };
    await rem.post(body);
    await rem.engine.idle();
    const [incident] = incidentsOf('timed');
    expect(incident).toMatchObject({ state: 'recovered', since: 'alert_start_minus_for' });
    // 30 s of for: plus the 2 s since it fired, plus the restart.
    expect(incident!.recoverySeconds).toBeGreaterThan(32);
    expect(incident!.recoverySeconds).toBeLessThan(60);
    const sum = /homestation_recovery_seconds_sum\{service="timed",since="alert_start_minus_for"\} ([\d.]+)/.exec(await rem.registry.metrics());
    expect(Number(sum?.[1])).toBeGreaterThan(32);
  });
});

describe.runIf(!suite.missing)('a removed container', () => {
  it('is created again from the configuration recorded while it was healthy, with its volume and its data', async () => {
    const volume = N('gone-vol');
    const web = await runWeb(N('gone'), { volume });
    podman(['exec', web.name, 'sh', '-c', 'echo precious > /data/precious']);
    const imageId = podman(['inspect', '--format', '{{.Image}}', web.name]);
    expect(await rem.engine.recordHealthy()).toBeGreaterThanOrEqual(1);
    podman(['rm', '-f', '-t', '0', web.name]);
    await rem.post(alertPayload([{ labels: { alertname: 'ServiceDown', service: 'gone' } }]));
    await rem.engine.idle();
    const [incident] = incidentsOf('gone');
    expect(incident).toMatchObject({ state: 'recovered', reason: 'recreated from the recorded configuration' });
    expect(steps(incident!.id)).toContain('action:recreate:started');
    expect((await fetch(web.url)).status).toBe(200);
    expect(podman(['exec', web.name, 'cat', '/data/precious'])).toBe('precious');
    expect(podman(['inspect', '--format', '{{.Image}}', web.name])).toBe(imageId);
    podman(['rm', '-f', '-t', '0', web.name]);
    podman(['volume', 'rm', '-f', volume]);
  }, 60_000);
});

describe.runIf(!suite.missing)('past the rate limit', () => {
  it('tells a human once, not at every new firing', async () => {
    podman(['run', '-d', '--name', N('limited'), '--label', 'homestation.remediate=true', 'localhost/hs-busybox:test', 'sh', '-c', 'exit 3']);
    for (let i = 0; i < 6; i++) {
      await rem.post(alertPayload([{ labels: { alertname: 'ServiceDown', service: 'limited' }, startsAt: new Date(Date.now() - i * 1000).toISOString() }]));
      await rem.engine.idle();
    }
    // The default cap: 3 actions an hour. Then one rate_limited page, not three.
    expect(await rem.metric('homestation_remediator_escalations_total', { service: 'limited', reason: 'rate_limited' })).toBe(1);
    expect(incidentsOf('limited').filter((i) => i.reason === 'rate_limited')).toHaveLength(1);
  }, 90_000);
});

describe.runIf(!suite.missing)('oversize webhooks', () => {
  it('answers 413 to every 10 MB post so the sender sees it (no EPIPE), and logs each with size and sender', async () => {
    const { request } = await import('node:http');
    const url = new URL(`${rem.url}/webhook/alertmanager`);
    const body = Buffer.alloc(10 * 1024 * 1024, 'x');
    const post = () =>
      new Promise<number | string>((resolve) => {
        const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: 'POST', headers: { 'content-type': 'application/json', 'content-length': body.length, authorization: 'Bearer test-token-0123456789' } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
        req.end(body);
      });
    const before = rem.logs.filter((l) => String(l.msg).startsWith('webhook body too large')).length;
    const results: (number | string)[] = [];
    for (let i = 0; i < 5; i++) results.push(await post());
    expect(results).toEqual([413, 413, 413, 413, 413]);
    const logged = rem.logs.filter((l) => String(l.msg).startsWith('webhook body too large')).slice(before);
    expect(logged).toHaveLength(5);
    expect(logged[0]).toMatchObject({ bytes: body.length, sender: '127.0.0.1' });
  }, 60_000);
});
