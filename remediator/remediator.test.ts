/**
 * The remediator end to end on a real container engine (podman's Docker API):
 * Alertmanager webhooks in, containers restarted or redeployed, recoveries checked,
 * every decision in the SQLite journal. Nothing here mocks dockerode.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertPayload, startTestRemediator, TOKEN, type TestRemediator } from '../test/helpers/remediator.js';
import { IMAGE, containerState, podman, removeContainers, reservePort, runWeb, startPodmanService, type PodmanService } from '../test/helpers/podman.js';
import { missingToolsMessage } from '../test/helpers/tools.js';

const missing = missingToolsMessage(['podman', 'runc', 'busybox']);
let engine: PodmanService;
let rem: TestRemediator;
const uid = `${process.pid}`;
const N = (n: string) => `hs-t-${n}-${uid}`;
const ALL = ['stopped', 'hung', 'redeploy', 'rollback', 'flappy', 'db', 'app', 'dup', 'unlabeled', 'untouched', 'dry', 'paused', 'self', 'broken', 'compose', 'tcp', 'maint', 'front', 'back', 'front2', 'dead'].map(N);
const ports = {} as Record<'hung' | 'rollback' | 'tcp' | 'back', { port: number; release(): Promise<void> }>;

const steps = (incidentId: number) => rem.journal.entries(incidentId).map((e) => `${e.kind}:${e.what}:${e.result}`);
const lastIncident = () => rem.journal.incidents(1)[0]!;
const fire = (service: string, extra: Record<string, string> = {}) =>
  rem.post(alertPayload([{ labels: { alertname: 'ServiceDown', service, ...extra } }]));

beforeAll(async () => {
  if (missing) {
    // In CI a missing engine fails (the describe below would otherwise skip).
    if (process.env.CI === 'true') throw new Error(missing);
    return;
  }
  engine = await startPodmanService();
  ports.hung = await reservePort();
  ports.rollback = await reservePort();
  ports.tcp = await reservePort();
  ports.back = await reservePort();
  rem = await startTestRemediator(
    engine.dockerHost,
    `  cooldown: 0s
  rate_limit: { max_actions: 2, window: 1h }
  services:
    - { name: hung, container: ${N('hung')}, probe: { http: { url: "http://127.0.0.1:${ports.hung.port}/" }, timeout: 1s }, recovery_deadline: 20s, stop_timeout: 1s }
    - { name: redeploy, container: ${N('redeploy')}, probe: { exec: [cat, /data/precious] }, recovery_deadline: 20s, stop_timeout: 1s }
    - { name: rollback, container: ${N('rollback')}, probe: { http: { url: "http://127.0.0.1:${ports.rollback.port}/ready" }, timeout: 1s }, recovery_deadline: 4s, stop_timeout: 1s }
    - { name: flappy, container: ${N('flappy')}, recovery_deadline: 20s, stop_timeout: 1s }
    - { name: db, container: ${N('db')}, recovery_deadline: 20s, stop_timeout: 1s }
    - { name: app, container: ${N('app')}, depends_on: [db], recovery_deadline: 20s, stop_timeout: 1s }
    # front is healthy only while back answers (its probe goes through back, as an app's health check through its database).
    - { name: back, container: ${N('back')}, probe: { http: { url: "http://127.0.0.1:${ports.back.port}/" }, timeout: 1s }, recovery_deadline: 20s, stop_timeout: 1s }
    - { name: front, container: ${N('front')}, depends_on: [back], probe: { http: { url: "http://127.0.0.1:${ports.back.port}/" }, timeout: 1s }, recovery_deadline: 20s, stop_timeout: 1s }
    - { name: dead, container: ${N('dead')}, recovery_deadline: 2s, stop_timeout: 1s }
    - { name: front2, container: ${N('front2')}, depends_on: [dead], recovery_deadline: 20s, stop_timeout: 1s }
    - { name: broken, container: ${N('broken')}, recovery_deadline: 2s, stop_timeout: 1s }
    - { name: composed, compose: { project: hs-test, service: ${N('compose')} }, recovery_deadline: 20s, stop_timeout: 1s }
    - { name: tcp, container: ${N('tcp')}, probe: { tcp: { host: 127.0.0.1, port: ${ports.tcp.port} } }, recovery_deadline: 20s, stop_timeout: 1s }
  policies:
    - { match: { alertname: ServiceDown, ladder: redeploy }, ladder: [{ action: redeploy }] }
    - { match: { alertname: ServiceDown, policy: slow }, ladder: [{ action: restart }], cooldown: 10m }
    - { match: { alertname: ServiceDown }, ladder: [{ action: restart, attempts: 2 }] }
`,
  );
}, 120_000);

afterAll(async () => {
  if (missing) return;
  await rem?.stop();
  removeContainers([...ALL, ...ALL.map((n) => `${n}-gone`)]);
  try {
    podman(['volume', 'rm', '-f', N('vol')]);
  } catch {
    // gone
  }
  await engine?.stop();
}, 60_000);

describe.runIf(!missing)('remediator on podman', () => {
  it('exposes every counter and histogram of a configured service at 0 before its first event', async () => {
    const text = await rem.registry.metrics();
    expect(text).toContain('homestation_remediator_escalations_total{service="broken",reason="ladder_exhausted"} 0');
    expect(text).toContain('homestation_remediator_escalations_total{service="hung",reason="rate_limited"} 0');
    expect(text).toContain('homestation_remediator_suppressions_total{reason="cooldown"} 0');
    expect(text).toContain('homestation_remediator_actions_total{action="restart",result="failed",service="tcp"} 0');
    for (const since of ['alert_start_minus_for', 'alert_start', 'manual']) {
      expect(text).toContain(`homestation_recovery_seconds_bucket{le="120",service="broken",since="${since}"} 0`);
      expect(text).toContain(`homestation_recovery_seconds_count{service="broken",since="${since}"} 0`);
    }
  });

  it('knows a service named only by its first alert before acting on it', async () => {
    const res = await fire(N('never-seen'));
    expect(res.status).toBe(200);
    await rem.engine.idle();
    expect(await rem.metric('homestation_remediator_escalations_total', { service: N('never-seen'), reason: 'ladder_exhausted' })).toBe(0);
    expect(await rem.metric('homestation_recovery_seconds', { service: N('never-seen') })).toBeUndefined();
    expect(await rem.registry.metrics()).toContain(`homestation_recovery_seconds_count{service="${N('never-seen')}",since="alert_start"} 0`);
  });

  it('restarts a stopped container and records the verified recovery', async () => {
    const web = await runWeb(N('stopped'));
    podman(['stop', '-t', '0', web.name]);
    const res = await fire(web.name);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ accepted: 1, duplicates: 0 });
    await rem.engine.idle();
    expect(containerState(web.name).running).toBe(true);
    expect((await fetch(web.url)).status).toBe(200);
    const incident = lastIncident();
    expect(incident).toMatchObject({ service: web.name, state: 'recovered' });
    expect(incident.recoverySeconds).toBeGreaterThan(0);
    expect(steps(incident.id)).toEqual([
      'decision:target:ok',
      'check:before:failed',
      'action:restart:started',
      'check:after:ok',
      'outcome:recovered:restart (attempt 1)',
    ]);
    expect(await rem.metric('homestation_remediator_actions_total', { action: 'restart', result: 'ok', service: web.name })).toBe(1);
    const hist = (await rem.registry.getSingleMetric('homestation_recovery_seconds')!.get()).values as { metricName?: string; labels: Record<string, unknown>; value: number }[];
    expect(hist.find((v) => v.metricName === 'homestation_recovery_seconds_count' && v.labels.service === web.name && v.labels.since === 'alert_start')?.value).toBe(1);
  });

  it('restarts a hung container (SIGSTOP) after its probe fails', async () => {
    const web = await runWeb(N('hung'), { port: ports.hung });
    const before = containerState(web.name);
    podman(['kill', '--signal', 'STOP', web.name]);
    await fire('hung');
    await rem.engine.idle();
    const incident = lastIncident();
    expect(incident).toMatchObject({ service: 'hung', state: 'recovered' });
    const entries = rem.journal.entries(incident.id);
    expect(entries.find((e) => e.what === 'before')).toMatchObject({ result: 'failed', detail: expect.stringMatching(/timed out|paused/) });
    expect(containerState(web.name).startedAt).not.toBe(before.startedAt);
    expect((await fetch(web.url)).status).toBe(200);
  });

  it('redeploys: a new container from the same configuration, same volume and data', async () => {
    const vol = N('vol');
    const web = await runWeb(N('redeploy'), { volume: vol });
    podman(['exec', web.name, 'sh', '-c', 'echo keep-me > /data/precious']);
    const oldId = web.id();
    podman(['stop', '-t', '0', web.name]);
    await fire('redeploy', { ladder: 'redeploy' });
    await rem.engine.idle();
    const incident = lastIncident();
    expect(incident).toMatchObject({ service: 'redeploy', state: 'recovered' });
    const now = containerState(web.name);
    expect(now.running).toBe(true);
    expect(now.id).not.toBe(oldId);
    expect(podman(['exec', web.name, 'cat', '/data/precious'])).toBe('keep-me');
    expect(podman(['inspect', '--format', '{{range .Mounts}}{{.Name}}{{end}}', web.name])).toBe(vol);
    expect(podman(['inspect', '--format', '{{index .Config.Labels "homestation.remediate"}}', web.name])).toBe('true');
    expect((await fetch(web.url)).status).toBe(200);
    // The previous container is gone once the new one passed its check.
    expect(podman(['ps', '-a', '--format', '{{.ID}}', '--filter', `id=${oldId}`])).toBe('');
  });

  it('rolls a redeploy back when the new container fails its check', async () => {
    const web = await runWeb(N('rollback'), { port: ports.rollback });
    // Only the current container's own layer has /www/ready: a new one will 404.
    podman(['exec', web.name, 'sh', '-c', ': > /www/ready']);
    const oldId = web.id();
    podman(['kill', '--signal', 'STOP', web.name]);
    await fire('rollback', { ladder: 'redeploy' });
    await rem.engine.idle();
    const incident = lastIncident();
    const s = steps(incident.id);
    expect(s).toContain('check:new container:failed');
    expect(s).toContain('action:rollback:ok');
    expect(s).toContain('check:after rollback:ok');
    expect(incident.state).toBe('recovered');
    const now = containerState(web.name);
    expect(now).toMatchObject({ id: oldId, running: true });
    expect((await fetch(`${web.url}ready`)).status).toBe(200);
    expect(await rem.metric('homestation_remediator_actions_total', { action: 'redeploy', result: 'rolled_back', service: 'rollback' })).toBe(1);
  });

  it('stops restarting a flapping service at its cap and asks a human', async () => {
    const web = await runWeb(N('flappy'));
    for (let i = 0; i < 2; i++) {
      podman(['stop', '-t', '0', web.name]);
      await fire('flappy');
      await rem.engine.idle();
      expect(lastIncident()).toMatchObject({ service: 'flappy', state: 'recovered' });
    }
    podman(['stop', '-t', '0', web.name]);
    await fire('flappy');
    await rem.engine.idle();
    expect(lastIncident()).toMatchObject({ service: 'flappy', state: 'refused', reason: 'rate_limited' });
    expect(containerState(web.name).running).toBe(false);
    expect(rem.notified.find((n) => n.kind === 'needs_human' && n.service === 'flappy')?.message).toMatch(/needs a human/);
    expect(await rem.metric('homestation_remediator_escalations_total', { service: 'flappy', reason: 'rate_limited' })).toBe(1);
    expect(await rem.metric('homestation_remediator_suppressions_total', { reason: 'rate_limited' })).toBe(1);
  });

  it('acts once on duplicate webhooks (resends of the same firing alert)', async () => {
    const web = await runWeb(N('dup'));
    podman(['stop', '-t', '0', web.name]);
    const body = alertPayload([{ labels: { alertname: 'ServiceDown', service: web.name, policy: 'slow' }, fingerprint: `dup${uid}` }]);
    const responses = await Promise.all([rem.post(body), rem.post(body), rem.post(body)]);
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200]);
    await rem.engine.idle();
    await rem.post(body); // a resend after the recovery, inside the policy's cooldown
    await rem.engine.idle();
    expect(await rem.metric('homestation_remediator_suppressions_total', { reason: 'duplicate' })).toBeGreaterThanOrEqual(3);
    const incidents = rem.journal.incidents(50).filter((i) => i.service === web.name);
    expect(incidents).toHaveLength(1);
    expect(rem.journal.entries(incidents[0]!.id).filter((e) => e.kind === 'action')).toHaveLength(1);
  });

  it('refuses a container that did not opt in, and records why', async () => {
    const web = await runWeb(N('unlabeled'), { optIn: false });
    podman(['stop', '-t', '0', web.name]);
    await fire(web.name);
    await rem.engine.idle();
    expect(lastIncident()).toMatchObject({ service: web.name, state: 'refused', reason: 'not_opted_in' });
    expect(containerState(web.name).running).toBe(false);
  });

  it('never touches the remediator itself', async () => {
    const web = await runWeb(N('self'), { labels: { 'homestation.role': 'remediator' } });
    podman(['stop', '-t', '0', web.name]);
    await fire(web.name);
    await rem.engine.idle();
    expect(lastIncident()).toMatchObject({ service: web.name, state: 'refused', reason: 'self' });
    expect(containerState(web.name).running).toBe(false);
  });

  it('handles a dependency first: db is brought back before app', async () => {
    const db = await runWeb(N('db'));
    const app = await runWeb(N('app'));
    podman(['stop', '-t', '0', db.name]);
    podman(['stop', '-t', '0', app.name]);
    await fire('app');
    await rem.engine.idle();
    const incidents = rem.journal.incidents(2);
    const appIncident = incidents.find((i) => i.service === 'app')!;
    const dbIncident = incidents.find((i) => i.service === 'db')!;
    expect(dbIncident.state).toBe('recovered');
    expect(appIncident.state).toBe('recovered');
    expect(dbIncident.id).toBeGreaterThan(appIncident.id);
    const appStarted = Date.parse(containerState(app.name).startedAt);
    const dbStarted = Date.parse(containerState(db.name).startedAt);
    expect(dbStarted).toBeLessThanOrEqual(appStarted);
    expect(steps(appIncident.id)).toContain('check:dependency db:down');
  });

  it('brings the dependency back and leaves a dependent that comes back with it alone', async () => {
    const back = await runWeb(N('back'), { port: ports.back });
    const front = await runWeb(N('front'));
    const frontStarted = containerState(front.name).startedAt;
    podman(['pause', back.name]);
    await fire('front');
    await rem.engine.idle();
    const frontIncident = rem.journal.incidents(5).find((i) => i.service === 'front')!;
    expect(frontIncident).toMatchObject({ state: 'recovered' });
    expect(frontIncident.reason).toMatch(/^back with its dependency back; not restarted itself/);
    expect(steps(frontIncident.id)).not.toContain('action:restart:started');
    expect(containerState(front.name).startedAt).toBe(frontStarted);
    expect(rem.journal.incidents(5).find((i) => i.service === 'back')).toMatchObject({ state: 'recovered' });
    expect((await fetch(back.url)).status).toBe(200);
  });

  it('does not restart a dependent while its dependency is down, and its next firing waits quietly', async () => {
    await runWeb(N('front2'));
    podman(['stop', '-t', '0', N('front2')]);
    // A dependency that dies as soon as it starts: its one restart cannot help.
    podman(['run', '-d', '--name', N('dead'), '--label', 'homestation.remediate=true', IMAGE, 'sh', '-c', 'exit 3']);
    await fire('front2');
    await rem.engine.idle();
    const first = rem.journal.incidents(5).find((i) => i.service === 'front2')!;
    expect(first).toMatchObject({ state: 'refused', reason: 'dependency_down' });
    expect(rem.journal.incidents(5).find((i) => i.service === 'dead')).toMatchObject({ state: 'failed' });
    const pages = () => rem.notified.filter((n) => n.kind === 'needs_human' && (n.service === 'dead' || n.service === 'front2'));
    expect(pages().map((n) => n.service)).toEqual(['dead']);
    // It fires again (a new firing, inside the cooldown): no action, no page, no new incident.
    await fire('front2', { attempt: 'again' });
    await rem.engine.idle();
    expect(rem.journal.incidents(5).filter((i) => i.service === 'front2').map((i) => i.id), JSON.stringify(rem.journal.incidents(3).map((i) => [i, steps(i.id)]))).toEqual([first.id]);
    expect(pages()).toHaveLength(1);
    expect(containerState(N('front2')).running).toBe(false);
    expect(await rem.metric('homestation_remediator_suppressions_total', { reason: 'dependency_down' })).toBeGreaterThanOrEqual(2);
  });

  it('decides and records without acting under dry_run, and refuses while paused', async () => {
    const web = await runWeb(N('dry'));
    podman(['stop', '-t', '0', web.name]);
    const res = await fetch(`${rem.url}/api/v1/remediate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ service: web.name, action: 'restart', dry_run: true }),
    });
    expect(res.status).toBe(200);
    await rem.engine.idle();
    expect(lastIncident()).toMatchObject({ service: web.name, state: 'refused', reason: 'dry_run' });
    expect(steps(lastIncident().id)).toContain('action:restart:dry_run');
    expect(containerState(web.name).running).toBe(false);

    const auth = { authorization: `Bearer ${TOKEN}` };
    expect((await fetch(`${rem.url}/api/v1/pause`, { method: 'POST', headers: auth })).status).toBe(200);
    await fire(web.name);
    await rem.engine.idle();
    expect(lastIncident()).toMatchObject({ service: web.name, state: 'refused', reason: 'paused' });
    expect(await rem.metric('homestation_remediator_paused')).toBe(1);
    await fetch(`${rem.url}/api/v1/resume`, { method: 'POST', headers: auth });
    await fire(web.name);
    await rem.engine.idle();
    expect(lastIncident()).toMatchObject({ service: web.name, state: 'recovered' });
  });

  it('refuses bad, oversized and unauthenticated webhooks with nothing acted on', async () => {
    const web = await runWeb(N('untouched'));
    podman(['stop', '-t', '0', web.name]);
    const before = rem.journal.incidents(1000).length;
    const good = alertPayload([{ labels: { alertname: 'ServiceDown', service: web.name } }]) as { alerts: Record<string, unknown>[] };

    expect((await rem.post(good, { token: null })).status).toBe(401);
    expect((await rem.post(good, { token: 'wrong-token' })).status).toBe(401);

    const noFingerprint = structuredClone(good);
    delete noFingerprint.alerts[0]!.fingerprint;
    const bad = await rem.post(noFingerprint);
    expect(bad.status).toBe(400);
    const badBody = (await bad.json()) as { field: string; message: string };
    expect(badBody.field).toBe('body/alerts/0');
    expect(badBody.message).toContain('fingerprint');

    const wrongVersion = await rem.post({ ...good, version: '3' });
    expect(wrongVersion.status).toBe(400);
    expect(((await wrongVersion.json()) as { field: string }).field).toBe('body/version');

    expect((await rem.post(undefined, { raw: '{"version": "4", "alerts": [' })).status).toBe(400);
    const huge = { ...good, commonAnnotations: { blob: 'x'.repeat(1_100_000) } };
    expect((await rem.post(huge)).status).toBe(413);

    await rem.engine.idle();
    expect(rem.journal.incidents(1000).length).toBe(before);
    expect(containerState(web.name).running).toBe(false);
    // The server is still there.
    expect((await fetch(`${rem.url}/healthz`)).status).toBe(200);
  });

  it('asks a human when the ladder is exhausted, and a resolved alert closes that incident', async () => {
    const name = N('broken');
    podman(['run', '-d', '--name', name, IMAGE, 'sh', '-c', 'exit 3']);
    const startsAt = new Date().toISOString();
    const labels = { alertname: 'ServiceDown', service: 'broken' };
    await rem.post(alertPayload([{ labels, startsAt, fingerprint: `broken${uid}` }]));
    await rem.engine.idle();
    const incident = lastIncident();
    expect(incident).toMatchObject({ service: 'broken', state: 'failed', reason: 'ladder_exhausted' });
    expect(rem.journal.entries(incident.id).filter((e) => e.kind === 'action' && e.result === 'started')).toHaveLength(2);
    expect(rem.notified.find((n) => n.kind === 'needs_human' && n.service === 'broken')?.message).toMatch(/restart x2; needs a human/);
    await rem.post(alertPayload([{ labels, startsAt, fingerprint: `broken${uid}`, status: 'resolved' }]));
    expect(rem.journal.incident(incident.id)).toMatchObject({ state: 'resolved', reason: 'the alert resolved' });
  });

  it('finds a service by its compose project and service labels', async () => {
    const web = await runWeb(N('compose'), { optIn: false, labels: { 'com.docker.compose.project': 'hs-test', 'com.docker.compose.service': N('compose') } });
    podman(['stop', '-t', '0', web.name]);
    await fire('composed');
    await rem.engine.idle();
    expect(lastIncident()).toMatchObject({ service: 'composed', state: 'recovered' });
    expect(containerState(web.name).running).toBe(true);
  });

  it('checks recovery with a TCP probe', async () => {
    const web = await runWeb(N('tcp'), { port: ports.tcp });
    podman(['stop', '-t', '0', web.name]);
    await fire('tcp');
    await rem.engine.idle();
    const incident = lastIncident();
    expect(incident, JSON.stringify(rem.journal.entries(incident.id))).toMatchObject({ service: 'tcp', state: 'recovered' });
    expect(rem.journal.entries(incident.id).find((e) => e.what === 'after')?.detail).toBe(`tcp 127.0.0.1:${ports.tcp.port}: connected`);
  });

  it('refuses a service in a maintenance silence', async () => {
    const web = await runWeb(N('maint'));
    podman(['stop', '-t', '0', web.name]);
    const res = await fetch(`${rem.url}/api/v1/silences`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ service: web.name, duration: '1h' }),
    });
    expect(res.status).toBe(200);
    await fire(web.name);
    await rem.engine.idle();
    expect(lastIncident()).toMatchObject({ service: web.name, state: 'refused', reason: 'maintenance' });
    expect(containerState(web.name).running).toBe(false);
  });
});
