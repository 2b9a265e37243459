/**
 * The dependency graph as the engine knows it, on podman with a compose-like set of
 * labelled containers: shown by `homestation services`, the root cause remediated
 * first, a container in another's network namespace restarted after it (podman
 * leaves it "Up" with no network), and a migrate refused where it would split what
 * is bound together.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../test/helpers/cli.js';
import { IMAGE, containerState, freePort, podman, podmanSuite } from '../test/helpers/podman.js';
import { alertPayload, startTestRemediator, TOKEN, type TestRemediator } from '../test/helpers/remediator.js';

const uid = `${process.pid}`;
const project = `hs-g-${uid}`;
const N = (n: string) => `${project}-${n}`;
const ALL = ['torrent', 'vpn', 'app', 'db', 'backup'].map(N);
const suite = podmanSuite('hs-graph', () => ALL);
const missing = suite.missing;
const port = {} as Record<'db' | 'app' | 'vpn' | 'torrent', number>;
let rem: TestRemediator;
let configFile: string;

const web = (text: string, p: number) => `mkdir -p /w && echo ${text} > /w/index.html && exec httpd -f -p ${p} -h /w`;
const labels = (service: string, dependsOn = '') => ['--label', `com.docker.compose.project=${project}`, '--label', `com.docker.compose.service=${service}`, '--label', `com.docker.compose.depends_on=${dependsOn}`];
async function serves(p: number): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${p}/`, { signal: AbortSignal.timeout(1000) })).ok;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  if (missing) return;
  for (const k of ['db', 'app', 'vpn', 'torrent'] as const) port[k] = await freePort();
  podman(['run', '-d', '--name', N('db'), ...labels('db'), '-v', `${N('dbdata')}:/data`, '-p', `127.0.0.1:${port.db}:80`, IMAGE, 'sh', '-c', web('db', 80)]);
  podman(['run', '-d', '--name', N('backup'), '-v', `${N('dbdata')}:/data:ro`, IMAGE, 'sleep', '100000']);
  podman(['run', '-d', '--name', N('app'), ...labels('app', 'db:service_started:false'), '-p', `127.0.0.1:${port.app}:80`, IMAGE, 'sh', '-c', web('app', 80)]);
  // torrent lives in vpn's network namespace: its port is published by vpn.
  podman(['run', '-d', '--name', N('vpn'), '-p', `127.0.0.1:${port.vpn}:80`, '-p', `127.0.0.1:${port.torrent}:81`, IMAGE, 'sh', '-c', web('vpn', 80)]);
  podman(['run', '-d', '--name', N('torrent'), '--network', `container:${N('vpn')}`, IMAGE, 'sh', '-c', web('torrent', 81)]);
  for (const p of Object.values(port)) {
    const end = Date.now() + 15_000;
    while (!(await serves(p))) {
      if (Date.now() > end) throw new Error(`nothing serves on 127.0.0.1:${p} after 15 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const body = `  cooldown: 0s
  rate_limit: { max_actions: 20, window: 1h }
  hosts:
    # The same engine under a second name: a migrate target that is reachable.
    - { name: other, host: "${suite.engine().dockerHost}" }
  services:
    - { name: app, compose: { project: ${project}, service: app }, probe: { http: { url: "http://127.0.0.1:${port.app}/" }, timeout: 1s }, recovery_deadline: 15s, stop_timeout: 1s }
    - { name: db, compose: { project: ${project}, service: db }, hosts: [local, other], state: { volumes: [${N('dbdata')}] }, probe: { http: { url: "http://127.0.0.1:${port.db}/" }, timeout: 1s }, recovery_deadline: 15s, stop_timeout: 1s }
    - { name: vpn, container: ${N('vpn')}, hosts: [local, other], probe: { http: { url: "http://127.0.0.1:${port.vpn}/" }, timeout: 1s }, recovery_deadline: 15s, stop_timeout: 1s }
    - { name: torrent, container: ${N('torrent')}, probe: { http: { url: "http://127.0.0.1:${port.torrent}/" }, timeout: 1s }, recovery_deadline: 15s, stop_timeout: 1s }
  policies:
    - { match: { alertname: ServiceDown }, ladder: [{ action: restart }] }
`;
  rem = await startTestRemediator(suite.engine().dockerHost, body);
  configFile = join(rem.dir, 'config.yaml');
  writeFileSync(join(rem.dir, 'token'), TOKEN);
  writeFileSync(configFile, `remediator:\n  auth: { bearer_token_file: ${join(rem.dir, 'token')} }\n  docker: { host: "${suite.engine().dockerHost}" }\n${body}`);
}, 120_000);

afterAll(async () => {
  if (missing) return;
  await rem?.stop();
  try {
    podman(['volume', 'rm', '-f', N('dbdata')]); // -f: with the containers that use it
  } catch {
    // Not made.
  }
}, 60_000);

const steps = (id: number) => rem.journal.entries(id).map((e) => `${e.kind}:${e.what}:${e.result}`);
async function fire(service: string): Promise<number> {
  expect((await rem.post(alertPayload([{ labels: { alertname: 'ServiceDown', service } }]))).status).toBe(200);
  let id: number | undefined;
  await expect.poll(() => (id = rem.journal.incidents(20).find((i) => i.service === service && i.alertname === 'ServiceDown')?.id)).toBeDefined();
  await expect.poll(() => rem.journal.incident(id as number)?.state, { timeout: 60_000 }).not.toBe('acting');
  return id as number;
}

describe.runIf(!missing)('dependencies from the engine', () => {
  it('homestation services shows where each runs, what it needs and the start order', () => {
    const run = runCli(['services', '--config', configFile, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const view = JSON.parse(run.stdout) as { services: { name: string; needs: { to: string; kind: string }[]; sharesVolumeWith: string[]; host: string; state: string }[]; order: string[]; problems: string[] };
    const of = (n: string) => view.services.find((s) => s.name === n);
    expect(of('app')).toMatchObject({ host: 'local', state: 'running', needs: [{ to: 'db', kind: 'compose' }] });
    expect(of('torrent')?.needs).toEqual([{ to: 'vpn', kind: 'network', detail: `network_mode: container:${N('vpn')}` }]);
    expect(of('db')?.sharesVolumeWith).toEqual([N('backup')]);
    const order = view.order;
    expect(order.indexOf('db')).toBeLessThan(order.indexOf('app'));
    expect(order.indexOf('vpn')).toBeLessThan(order.indexOf('torrent'));
    const table = runCli(['services', '--config', configFile]);
    expect(table.stdout).toMatch(/^torrent +local +\S+torrent +running +vpn \(its network namespace\)$/m);
    expect(table.stdout).toMatch(/^start order: .*db -> .*app/m);
  });

  it('brings the root cause back first: app needs db by its compose label, no depends_on in the config', async () => {
    podman(['stop', '-t', '0', N('db')]);
    podman(['stop', '-t', '0', N('app')]);
    const id = await fire('app');
    const s = steps(id);
    expect(s).toEqual(expect.arrayContaining(['decision:dependencies:ok', 'check:dependency db:down', 'check:dependency db:ok', 'action:restart:started']));
    expect(rem.journal.entries(id).find((e) => e.what === 'dependencies')?.detail).toBe('from the engine: db (compose depends_on db (service_started))');
    expect(s.indexOf('check:dependency db:ok')).toBeLessThan(s.indexOf('action:restart:started'));
    expect(rem.journal.incident(id)?.state).toBe('recovered');
    expect(await serves(port.db)).toBe(true);
    expect(await serves(port.app)).toBe(true);
  }, 90_000);

  it('restarts what lives in a restarted container\'s network namespace (podman leaves it Up, unreachable)', async () => {
    const torrentBefore = containerState(N('torrent')).startedAt;
    podman(['stop', '-t', '0', N('vpn')]);
    expect(await serves(port.torrent)).toBe(false);
    expect(containerState(N('torrent')).running).toBe(true); // "Up", but its network went with vpn
    const id = await fire('vpn');
    expect(rem.journal.incident(id)?.state, JSON.stringify(rem.journal.entries(id), null, 1)).toBe('recovered');
    expect(steps(id)).toEqual(expect.arrayContaining(['action:restart:started', 'action:dependent torrent:started', 'check:dependent torrent:ok']));
    expect(containerState(N('torrent')).startedAt).not.toBe(torrentBefore);
    expect(await serves(port.torrent)).toBe(true);
  }, 90_000);

  it('refuses to migrate what would be split: a network namespace, a volume another container mounts', async () => {
    const migrate = async (service: string) => {
      const res = await fetch(`${rem.url}/api/v1/remediate`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ service, action: 'migrate', to: 'other' }),
      });
      const { incident } = (await res.json()) as { incident: { id: number } };
      await expect.poll(() => rem.journal.incident(incident.id)?.state, { timeout: 30_000 }).not.toBe('acting');
      return rem.journal.entries(incident.id).find((e) => e.what === 'migrate' && e.result === 'refused')?.detail;
    };
    expect(await migrate('vpn')).toBe(`not migrating vpn alone: ${N('torrent')} lives in its network namespace on local; moving it would split them (see homestation services)`);
    expect(await migrate('db')).toBe(`not migrating db alone: volume ${N('dbdata')} is also mounted by ${N('backup')} on local; moving it would split them (see homestation services)`);
    expect(containerState(N('vpn')).running && containerState(N('db')).running).toBe(true);
  }, 60_000);
});
