/**
 * The fast paths, on the real podman engine: its /events stream (a killed container
 * is back in seconds, the alert that follows joins the incident, the stream survives
 * an engine restart) and the liveness watch (a frozen service is found by its
 * probe, without any alert).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertPayload, startTestRemediator, type TestRemediator } from '../test/helpers/remediator.js';
import { containerState, podman, removeContainers, reservePort, runWeb, startPodmanService, type PodmanService } from '../test/helpers/podman.js';
import { missingToolsMessage } from '../test/helpers/tools.js';
import { readEvent } from './container-events.js';

const missing = missingToolsMessage(['podman', 'runc', 'busybox']);
const uid = `${process.pid}`;
const N = (n: string) => `hs-t-fast-${n}-${uid}`;
let dir: string;
let socket: string;
let engine: PodmanService;
let rem: TestRemediator;
let frozenPort: { port: number; release(): Promise<void> };

beforeAll(async () => {
  if (missing) {
    if (process.env.CI === 'true') throw new Error(missing);
    return;
  }
  dir = mkdtempSync(join(tmpdir(), 'hs-fast-'));
  socket = join(dir, 'engine.sock');
  engine = await startPodmanService({ socket });
  frozenPort = await reservePort();
  rem = await startTestRemediator(
    `unix://${socket}`,
    `  cooldown: 5m
  events: { enabled: true }
  watch: { enabled: true, period: 1s, failure_threshold: 3 }
  services:
    - { name: crashy, container: ${N('crashy')}, recovery_deadline: 20s, stop_timeout: 1s }
    - { name: selfheal, container: ${N('selfheal')}, recovery_deadline: 20s, stop_timeout: 1s }
    - { name: frozen, container: ${N('frozen')}, probe: { http: { url: "http://127.0.0.1:${frozenPort.port}/" }, timeout: 500ms }, recovery_deadline: 20s, stop_timeout: 1s }
  policies:
    - { match: { alertname: ServiceDown, remediate: "true" }, ladder: [{ action: restart, attempts: 2 }] }
`,
  );
  for (const t0 = Date.now(); !rem.engineStatus().connected; ) {
    if (Date.now() - t0 > 20_000) throw new Error('the remediator did not connect to podman in 20 s');
    await new Promise((r) => setTimeout(r, 100));
  }
}, 120_000);

afterAll(async () => {
  if (missing) return;
  await rem?.stop();
  removeContainers([N('crashy'), N('frozen'), N('other'), N('selfheal')]);
  await engine?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

const incidentsOf = (service: string) => rem.journal.incidents(100).filter((i) => i.service === service);

describe('engine events, in Docker and podman words', () => {
  it('reads a die, an OOM, a health event of either engine, and a stop', () => {
    const actor = { ID: 'abc', Attributes: { name: 'web', exitCode: '137' } };
    expect(readEvent({ Type: 'container', Action: 'die', Actor: actor, timeNano: 1_700_000_000_123_000_000 })).toMatchObject({ kind: 'die', at: 1_700_000_000_123 });
    expect(readEvent({ Type: 'container', Action: 'died', Actor: actor, time: 1_700_000_000 })).toMatchObject({ kind: 'die', at: 1_700_000_000_000 });
    expect(readEvent({ Type: 'container', Action: 'oom', Actor: actor })).toMatchObject({ kind: 'oom' });
    expect(readEvent({ Type: 'container', Action: 'health_status: unhealthy', Actor: actor })).toMatchObject({ kind: 'unhealthy' });
    expect(readEvent({ Type: 'container', Action: 'health_status', HealthStatus: 'unhealthy', Actor: actor })).toMatchObject({ kind: 'unhealthy' });
    expect(readEvent({ Type: 'container', Action: 'health_status', HealthStatus: 'healthy', Actor: actor })).toBeUndefined();
    expect(readEvent({ Type: 'container', Action: 'stop', Actor: actor })).toMatchObject({ kind: 'stop' });
    expect(readEvent({ Type: 'image', Action: 'pull', Actor: actor })).toBeUndefined();
  });
});

describe.runIf(!missing)('fast paths on podman', () => {
  it('a killed container is back in seconds from its die event; the alert that follows joins, nothing is done twice', async () => {
    await runWeb(N('crashy'));
    const t0 = Date.now();
    podman(['kill', N('crashy')]);
    await expect.poll(() => incidentsOf('crashy')[0]?.state, { timeout: 20_000, interval: 50 }).toBe('recovered');
    const took = Date.now() - t0;
    process.stdout.write(`killed container back (events path): ${(took / 1000).toFixed(1)} s after the kill\n`);
    expect(took).toBeLessThan(5000);
    expect(containerState(N('crashy')).running).toBe(true);
    expect(incidentsOf('crashy')[0]).toMatchObject({ since: 'container_event', alertname: 'container event' });
    // Prometheus fires ServiceDown later for the same failure: joined, not acted on, nobody paged.
    const notified = rem.notified.length;
    await rem.post(alertPayload([{ labels: { alertname: 'ServiceDown', service: 'crashy', remediate: 'true' }, startsAt: new Date().toISOString() }]));
    await rem.engine.idle();
    expect(incidentsOf('crashy')).toHaveLength(1);
    expect(rem.notified.slice(notified).filter((n) => n.kind === 'needs_human')).toEqual([]);
    expect(rem.journal.entries(incidentsOf('crashy')[0]!.id).some((e) => e.what === 'joined')).toBe(true);
  }, 60_000);

  it('leaves a crash that the container\'s own restart policy has already undone to the engine', async () => {
    await runWeb(N('selfheal'), { restart: 'always' });
    const before = containerState(N('selfheal')).startedAt;
    // A crash (the process killed from outside, as the OOM killer does): podman restarts it itself.
    process.kill(Number(podman(['inspect', '--format', '{{.State.Pid}}', N('selfheal')])), 'SIGKILL');
    await expect.poll(() => containerState(N('selfheal')).startedAt, { timeout: 5_000, interval: 50 }).not.toBe(before);
    await new Promise((r) => setTimeout(r, 2000));
    await rem.engine.idle();
    expect(incidentsOf('selfheal')).toEqual([]);
    expect(containerState(N('selfheal')).running).toBe(true);
    // Started once, by the engine: the remediator did not restart it a second time.
    const after = containerState(N('selfheal')).startedAt;
    await new Promise((r) => setTimeout(r, 500));
    expect(containerState(N('selfheal')).startedAt).toBe(after);
  }, 30_000);

  it('leaves a container that is not managed alone', async () => {
    await runWeb(N('other'), { optIn: false });
    podman(['kill', N('other')]);
    await new Promise((r) => setTimeout(r, 2500));
    expect(incidentsOf(N('other'))).toEqual([]);
    expect(containerState(N('other')).running).toBe(false);
  });

  it('a frozen service is found by the liveness watch and restarted, with no alert at all', async () => {
    const web = await runWeb(N('frozen'), { port: frozenPort });
    const t0 = Date.now();
    podman(['pause', web.name]);
    await expect.poll(() => incidentsOf('frozen')[0]?.state, { timeout: 30_000, interval: 100 }).toBe('recovered');
    const took = Date.now() - t0;
    process.stdout.write(`frozen service back (watch path, 1 s x 3): ${(took / 1000).toFixed(1)} s after the freeze\n`);
    expect(took).toBeLessThan(15_000);
    expect(incidentsOf('frozen')[0]).toMatchObject({ since: 'watch', alertname: 'liveness watch' });
    expect((await fetch(web.url)).status).toBe(200);
  }, 60_000);

  it('a service failing again inside its cooldown is paged once, not at every detection; paused, nothing is detected', async () => {
    const pagesOf = () => rem.notified.filter((n) => n.kind === 'needs_human' && n.service === 'frozen').length;
    const before = pagesOf();
    podman(['pause', N('frozen')]);
    await new Promise((r) => setTimeout(r, 10_000)); // about three detections at 1 s x 3
    expect(pagesOf()).toBe(before + 1);
    expect(incidentsOf('frozen').filter((i) => i.reason === 'cooldown')).toHaveLength(1);
    rem.engine.setPaused(true, 'test');
    const incidents = incidentsOf('frozen').length;
    const suppressed = await rem.metric('homestation_remediator_suppressions_total', { reason: 'cooldown' });
    await new Promise((r) => setTimeout(r, 4000));
    expect(incidentsOf('frozen')).toHaveLength(incidents);
    expect(await rem.metric('homestation_remediator_suppressions_total', { reason: 'cooldown' })).toBe(suppressed);
    rem.engine.setPaused(false, 'test');
    podman(['unpause', N('frozen')]);
  }, 60_000);

  it('follows the events again after the engine restarts', async () => {
    await engine.stop();
    engine = await startPodmanService({ socket });
    await new Promise((r) => setTimeout(r, 4000)); // the stream reconnects with backoff
    const before = incidentsOf('crashy').length;
    podman(['kill', N('crashy')]);
    // Seen again; inside the 5 min cooldown of the first crash it is a flapping service: a human is told.
    await expect.poll(() => incidentsOf('crashy').length, { timeout: 30_000, interval: 100 }).toBe(before + 1);
    expect(incidentsOf('crashy')[0]).toMatchObject({ state: 'refused', reason: 'cooldown', since: 'container_event' });
    expect(rem.notified.at(-1)?.kind).toBe('needs_human');
  }, 90_000);
});
