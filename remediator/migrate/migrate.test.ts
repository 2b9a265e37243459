/**
 * Migrate between independent container engines: three podman engines on this
 * machine, each with its own storage root and socket (no image, container or volume
 * shared), driven through the Engine API by the real remediator. Nothing mocked.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMAGE, existsAt, freePort, podman, podmanAt, removeContainers, removeRoot, startPodmanService, type PodmanService } from '../../test/helpers/podman.js';
import { startTestRemediator, TOKEN, type TestRemediator } from '../../test/helpers/remediator.js';
import { missingToolsMessage } from '../../test/helpers/tools.js';

const missing = missingToolsMessage(['podman', 'runc', 'busybox']);
if (missing && process.env.CI === 'true') throw new Error(missing);

const uid = `${process.pid}`;
const N = (n: string) => `hs-mig-${n}-${uid}`;
let a: PodmanService;
let b: PodmanService;
let c: PodmanService;
let rootB: string;
let rootC: string;
let dir: string;
let rem: TestRemediator;
const port = {} as Record<'vault' | 'picky' | 'keep', number>;

const sha = (data: Buffer) => createHash('sha256').update(data).digest('hex');

/** A busybox httpd serving its volume (/data) on 127.0.0.1:PORT, on the engine of `root` (undefined: the default one). */
function runServer(root: string | undefined, name: string, volume: string, p: number): void {
  podmanAt(root, ['run', '-d', '--name', name, '--label', 'homestation.remediate=true', '-v', `${volume}:/data`, '-p', `127.0.0.1:${p}:80`, IMAGE, 'sh', '-c', 'echo ok > /data/ok.txt && exec httpd -f -p 80 -h /data']);
}

async function get(p: number, path: string): Promise<Buffer | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${p}/${path}`, { signal: AbortSignal.timeout(2000) });
    return res.ok ? Buffer.from(await res.arrayBuffer()) : undefined;
  } catch {
    return undefined;
  }
}

/** Waits until it serves (usable outside a test too, unlike expect.poll). */
async function serving(p: number): Promise<void> {
  const end = Date.now() + 15_000;
  while ((await get(p, 'ok.txt'))?.toString() !== 'ok\n') {
    if (Date.now() > end) throw new Error(`nothing serves on 127.0.0.1:${p} after 15 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}



interface ApiIncident {
  id: number;
  state: string;
  reason: string | null;
  steps: { kind: string; what: string; result: string; detail: string | null }[];
  migrations: { state: string; step: string; progress: { stateBytes?: number; imageBytes?: number; createdVolumes?: string[] } }[];
}

async function migrate(service: string, to?: string): Promise<ApiIncident> {
  const res = await fetch(`${rem.url}/api/v1/remediate`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ service, action: 'migrate', ...(to ? { to } : {}) }),
  });
  expect(res.status).toBe(200);
  const { incident } = (await res.json()) as { incident: { id: number } };
  const read = async () => (await (await fetch(`${rem.url}/api/v1/incidents/${incident.id}`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as ApiIncident;
  await expect.poll(async () => (await read()).state, { timeout: 90_000, interval: 250 }).not.toBe('acting');
  return read();
}

const line = (i: ApiIncident) => i.steps.map((s) => `${s.kind}:${s.what}:${s.result}`);

beforeAll(async () => {
  if (missing) return;
  dir = mkdtempSync(join(tmpdir(), 'hs-mig-'));
  rootB = mkdtempSync(join(tmpdir(), 'hs-hostb-'));
  rootC = mkdtempSync(join(tmpdir(), 'hs-hostc-'));
  a = await startPodmanService();
  b = await startPodmanService({ root: rootB });
  c = await startPodmanService({ root: rootC });
  // Host c has the image (loaded by hand, as a user's other host would); b has nothing.
  podman(['save', '-o', join(dir, 'image.tar'), IMAGE]);
  podmanAt(rootC, ['load', '-q', '-i', join(dir, 'image.tar')]);
  port.vault = await freePort();
  port.picky = await freePort();
  port.keep = await freePort();
  runServer(undefined, N('vault'), N('vault-data'), port.vault);
  runServer(undefined, N('picky'), N('picky-data'), port.picky);
  // Unpublished (its probe runs inside it): its old copy may run again beside the migrated one, as on two real hosts.
  podmanAt(rootC, ['run', '-d', '--name', N('cache'), '--restart', 'always', '-v', `${N('cache-data')}:/data`, IMAGE, 'sh', '-c', 'echo ok > /data/ok.txt && exec httpd -f -p 80 -h /data']);
  runServer(rootC, N('keep'), N('keep-data'), port.keep);
  rem = await startTestRemediator(
    a.dockerHost,
    `  cooldown: 0s
  rate_limit: { max_actions: 20, window: 1h }
  hosts:
    - { name: b, host: "${b.dockerHost}" }
    # The same engine, its services said to be reached at 127.0.0.2, where nothing is published: a target that fails its check.
    - { name: b-far, host: "${b.dockerHost}", address: 127.0.0.2 }
    - { name: c, host: "${c.dockerHost}" }
  services:
    - name: vault
      container: ${N('vault')}
      hosts: [local, b]
      state: { volumes: [${N('vault-data')}] }
      probe: { http: { url: "http://{host}:${port.vault}/ok.txt" }, timeout: 1s }
      recovery_deadline: 20s
      stop_timeout: 1s
    - name: picky
      container: ${N('picky')}
      hosts: [local, b-far]
      state: { volumes: [${N('picky-data')}] }
      probe: { http: { url: "http://{host}:${port.picky}/ok.txt" }, timeout: 1s }
      recovery_deadline: 3s
      stop_timeout: 1s
    - name: cache
      container: ${N('cache')}
      hosts: [c, b]
      state: { recomputable: true }
      probe: { exec: [cat, /data/ok.txt], timeout: 2s }
      recovery_deadline: 20s
      stop_timeout: 1s
    - name: keep
      container: ${N('keep')}
      hosts: [c, b]
      state: { volumes: [${N('keep-data')}] }
      probe: { http: { url: "http://{host}:${port.keep}/ok.txt" }, timeout: 1s }
      recovery_deadline: 20s
      stop_timeout: 1s
  policies:
    - { match: { alertname: ServiceDown }, ladder: [{ action: restart }] }
`,
  );
  for (const p of [port.vault, port.picky, port.keep]) await serving(p);
}, 120_000);

afterAll(async () => {
  if (missing) return;
  await rem?.stop();
  removeContainers([N('vault'), N('picky')]);
  for (const v of [N('vault-data'), N('picky-data')]) {
    try {
      podman(['volume', 'rm', '-f', v]);
    } catch {
      // Not made.
    }
  }
  await a?.stop();
  await b?.stop();
  await c?.stop();
  removeRoot(rootB);
  removeRoot(rootC);
  rmSync(dir, { recursive: true, force: true });
}, 120_000);

describe.runIf(!missing)('migrate between two engines', () => {
  it('moves a service with its volume: the same bytes served on the target, image copied by ID, source removed, volume kept', async () => {
    const blob = randomBytes(4 * 1024 * 1024);
    writeFileSync(join(dir, 'blob'), blob);
    podman(['cp', join(dir, 'blob'), `${N('vault')}:/data/blob`]);
    podman(['exec', N('vault'), 'sh', '-c', 'mkdir -p /data/sub && echo "kept across hosts" > /data/sub/notes.txt']);
    const imageId = podman(['inspect', '--format', '{{.Image}}', N('vault')]);
    expect(existsAt(rootB, 'container', N('vault'))).toBe(false);

    const incident = await migrate('vault', 'b');
    expect(incident.state, JSON.stringify(incident.steps, null, 1)).toBe('recovered');
    expect(line(incident)).toEqual(
      expect.arrayContaining([
        'decision:migrate:ok',
        'action:migrate: stop_source:started',
        'action:migrate: copy_image:started',
        'action:migrate: create_target:started',
        `action:migrate: copy volume ${N('vault-data')}:started`,
        `action:migrate: copy volume ${N('vault-data')}:ok`,
        'check:migrate: target:ok',
        'action:migrate: finish_source:ok',
      ]),
    );
    expect(incident.migrations).toHaveLength(1);
    expect(incident.migrations[0]).toMatchObject({ state: 'done', step: 'finish_source' });
    expect(incident.migrations[0]!.progress.stateBytes).toBeGreaterThan(blob.length);

    // Served from host b now: same bytes.
    expect(sha((await get(port.vault, 'blob'))!)).toBe(sha(blob));
    expect((await get(port.vault, 'sub/notes.txt'))?.toString()).toBe('kept across hosts\n');
    expect(podmanAt(rootB, ['inspect', '--format', '{{.State.Running}} {{.Image}}', N('vault')])).toBe(`true ${imageId}`);
    // The source container is gone; its volume (the old copy) is kept.
    expect(existsAt(undefined, 'container', N('vault'))).toBe(false);
    expect(existsAt(undefined, 'volume', N('vault-data'))).toBe(true);
    expect(rem.engine.hosts.hostOf({ name: 'vault' })).toBe('b');
    expect(await rem.metric('homestation_remediator_actions_total', { action: 'migrate', result: 'ok', service: 'vault' })).toBe(1);

    // The remediator now acts on the host the service went to.
    const before = podmanAt(rootB, ['inspect', '--format', '{{.State.StartedAt}}', N('vault')]);
    const res = await fetch(`${rem.url}/api/v1/remediate`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ service: 'vault', action: 'restart' }),
    });
    const { incident: restart } = (await res.json()) as { incident: { id: number } };
    // Healthy: refused as already healthy, and it was looked for on b (not "not found" on local).
    await expect.poll(() => rem.journal.incident(restart.id)?.state).not.toBe('acting');
    expect(rem.journal.incident(restart.id)?.reason).toBe('already_healthy');
    expect(podmanAt(rootB, ['inspect', '--format', '{{.State.StartedAt}}', N('vault')])).toBe(before);

    // Moving back home: the old copy of the volume is still there, so the migrate refuses rather than merge.
    const back = await migrate('vault', 'local');
    expect(back.state).toBe('failed');
    expect(back.steps.find((s) => s.what === 'migrate' && s.result === 'refused')?.detail).toMatch(
      new RegExp(`volume ${N('vault-data')} already exists on local .*docker volume rm ${N('vault-data')}`),
    );
    expect(podmanAt(rootB, ['inspect', '--format', '{{.State.Running}}', N('vault')])).toBe('true');
  }, 120_000);

  it('rolls back a target that fails its check: nothing left on the target, the source serves again', async () => {
    const incident = await migrate('picky', 'b-far');
    expect(incident.state).toBe('failed');
    expect(line(incident)).toEqual(expect.arrayContaining(['check:migrate: target:failed', 'action:migrate: rollback:ok']));
    const rollback = incident.steps.find((s) => s.what === 'migrate: rollback');
    expect(rollback?.detail).toMatch(/the target failed its recovery check: .*127\.0\.0\.2.*the source container started again on local/);
    expect(incident.migrations[0]).toMatchObject({ state: 'rolled_back' });
    expect(existsAt(rootB, 'container', N('picky'))).toBe(false);
    expect(existsAt(rootB, 'volume', N('picky-data'))).toBe(false);
    await serving(port.picky);
    expect(rem.engine.hosts.hostOf({ name: 'picky', hosts: ['local', 'b-far'] })).toBe('local');
  }, 60_000);

  it('with its host down: moves recomputable state from the last recorded configuration, and refuses state it cannot copy', async () => {
    // The configurations were recorded when the remediator started (both healthy).
    await expect.poll(() => [rem.journal.getState('last_good:cache') !== undefined, rem.journal.getState('last_good:keep') !== undefined], { timeout: 20_000 }).toEqual([true, true]);
    // b has the image by now only if the first test ran: make sure, as a user would have pulled it there.
    if (!existsAt(rootB, 'container', N('vault'))) podmanAt(rootB, ['load', '-q', '-i', join(dir, 'image.tar')]);
    // Host c goes down: its API gone, its containers with it.
    await c.stop();
    podmanAt(rootC, ['stop', '-t', '0', N('cache'), N('keep')]);

    const moved = await migrate('cache', 'b');
    expect(moved.state, JSON.stringify(moved.steps, null, 1)).toBe('recovered');
    const decision = moved.steps.find((s) => s.what === 'migrate' && s.result === 'ok');
    expect(decision?.detail).toMatch(/^c -> b .*created from its configuration recorded healthy at .*copying no state; not copied: .*state is recomputable/);
    expect(line(moved)).toContain('action:migrate: stop_source:skipped');
    expect(podmanAt(rootB, ['inspect', '--format', '{{.State.Running}}', N('cache')])).toBe('true');
    expect(rem.engine.hosts.hostOf({ name: 'cache', hosts: ['c', 'b'] })).toBe('b');

    // Host c comes back, and its restart policy starts the old copy: the fence stops it and removes it.
    expect(await rem.engine.fence()).toEqual([]); // still down: nothing to do
    c = await startPodmanService({ root: rootC, socket: c.socket });
    podmanAt(rootC, ['start', N('cache')]);
    expect(await rem.engine.fence()).toEqual(['cache']);
    expect(existsAt(rootC, 'container', N('cache'))).toBe(false);
    expect(existsAt(rootC, 'volume', N('cache-data'))).toBe(true);
    expect(podmanAt(rootB, ['inspect', '--format', '{{.State.Running}}', N('cache')])).toBe('true');
    const fenced = rem.journal.entries(moved.id).find((e) => e.what === 'migrate: fence');
    expect(fenced?.detail).toMatch(/^c is back with .* \(running\): stopped, the service runs on b since migration \d+$/);
    expect(await rem.engine.fence()).toEqual([]); // done once
    await c.stop();

    const refused = await migrate('keep', 'b');
    expect(refused.state).toBe('failed');
    expect(refused.steps.find((s) => s.what === 'migrate' && s.result === 'refused')?.detail).toMatch(
      new RegExp(`the source host c is down \\(.*\\): its state \\(volume ${N('keep-data')}\\) cannot be copied, and it is not marked recomputable \\(services\\[3\\]\\.state\\.recomputable\\)`),
    );
    expect(existsAt(rootB, 'container', N('keep'))).toBe(false);
    expect(refused.migrations).toEqual([]);
  }, 120_000);
});
