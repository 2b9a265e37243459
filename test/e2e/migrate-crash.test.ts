/**
 * `homestation migrate` as a user runs it, against `homestation remediator` and two
 * independent podman engines: the remediator killed with SIGKILL in the middle of
 * copying a volume is started again and rolls the migration back (nothing left on
 * the target, the source serving its data); the migrate run again then completes,
 * showing its progress, and the target holds the same bytes.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, runCli, startDaemon, type Daemon } from '../helpers/cli.js';
import { IMAGE, existsAt, freePort, podman, podmanAt, podmanSuite, removeRoot, startPodmanService, type PodmanService } from '../helpers/podman.js';
import { TOKEN } from '../helpers/remediator.js';

const name = `hs-t-bigmig-${process.pid}`;
const volume = `${name}-data`;
const suite = podmanSuite('hs-bigmig', () => [name]);
const missing = suite.missing;
/** Enough that the copy takes a while even on a fast disk. */
const MB = 400;

let hostB: PodmanService | undefined;
let rootB: string;

interface ApiIncident {
  id: number;
  state: string;
  steps: { kind: string; what: string; result: string; detail: string | null }[];
  migrations: { state: string; step: string; progress: { stateBytes?: number } }[];
}


const checksum = (root: string | undefined) => podmanAt(root, ['exec', name, 'busybox', 'sha256sum', '/data/big']).split(' ')[0];

beforeAll(async () => {
  if (missing) return;
  rootB = mkdtempSync(join(tmpdir(), 'hs-hostb-'));
  hostB = await startPodmanService({ root: rootB });
}, 60_000);

afterAll(async () => {
  if (missing) return;
  await hostB?.stop();
  removeRoot(rootB);
  try {
    podman(['volume', 'rm', '-f', volume]);
  } catch {
    // Not made.
  }
}, 60_000);

describe.runIf(!missing)('migrate, with the remediator killed mid-copy', () => {
  it('rolls back at the restart, then migrates with progress shown and the same bytes on the target', async () => {
    const port = await freePort();
    podman(['run', '-d', '--name', name, '-v', `${volume}:/data`, '-p', `127.0.0.1:${port}:80`, IMAGE, 'sh', '-c', 'echo ok > /data/ok.txt && exec httpd -f -p 80 -h /data']);
    podman(['exec', name, 'sh', '-c', `busybox head -c ${MB * 1_000_000} /dev/urandom > /data/big`]);
    const sum = checksum(undefined);
    writeFileSync(join(suite.dir(), 'token'), TOKEN);
    const config = join(suite.dir(), 'config.yaml');
    writeFileSync(
      config,
      `remediator:
  host: 127.0.0.1
  port: ${await freePort()}
  auth: { bearer_token_file: ${join(suite.dir(), 'token')} }
  docker: { host: "${suite.engine().dockerHost}" }
  hosts:
    - { name: nas, host: "${hostB!.dockerHost}" }
  journal: ${join(suite.dir(), 'journal.db')}
  events: { enabled: false }
  watch: { enabled: false }
  services:
    - name: big
      container: ${name}
      hosts: [local, nas]
      state: { volumes: [${volume}] }
      probe: { http: { url: "http://{host}:${port}/ok.txt" }, timeout: 1s }
      recovery_deadline: 20s
      stop_timeout: 1s
`,
    );
    const api = async (d: Daemon, path: string) => (await fetch(`${d.url}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } })).json();
    const first = await startDaemon(['--config', config], {}, { command: 'remediator', ready: /^remediator listening/ });
    // The user's command, in the background; it follows the incident until its remediator dies.
    const cli = spawn(process.execPath, [CLI, 'migrate', 'big', '--to', 'nas', '--config', config], { stdio: 'pipe' });
    let firstOut = '';
    cli.stdout.on('data', (d: Buffer) => (firstOut += d.toString()));
    const cliExit = new Promise<number | null>((r) => cli.once('exit', r));
    let copying: ApiIncident | undefined;
    const t0 = Date.now();
    while (!copying && Date.now() - t0 < 60_000) {
      const list = (await api(first, '/api/v1/incidents?limit=1')) as { incidents: { id: number }[] };
      const id = list.incidents[0]?.id;
      const one = id ? ((await api(first, `/api/v1/incidents/${id}`)) as ApiIncident) : undefined;
      if (one?.migrations[0]?.step.startsWith('copy volume')) copying = one;
      else await new Promise((r) => setTimeout(r, 20));
    }
    expect(copying, `never saw the copy step: ${firstOut}`).toBeDefined();
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
    expect(await cliExit).toBe(1);
    expect(firstOut).toMatch(new RegExp(`incident ${copying!.id}: migrating big to nas`));

    // Started again: the migration is rolled back, the source serves its data again.
    const second = await startDaemon(['--config', config], {}, { command: 'remediator', ready: /^remediator listening/ });
    try {
      await expect.poll(async () => ((await api(second, `/api/v1/incidents/${copying!.id}`)) as ApiIncident).state, { timeout: 60_000, interval: 250 }).not.toBe('acting');
      const after = (await api(second, `/api/v1/incidents/${copying!.id}`)) as ApiIncident;
      expect(after.migrations[0]?.state).toBe('rolled_back');
      const rollback = after.steps.find((s) => s.what === 'migrate: rollback');
      expect(rollback?.result, JSON.stringify(after.steps, null, 1)).toBe('ok');
      expect(rollback?.detail).toMatch(/interrupted at copy volume .* by a restart of the remediator: removed what was made on nas; the source container started again on local/);
      expect(existsAt(rootB, 'container', name)).toBe(false);
      expect(existsAt(rootB, 'volume', volume)).toBe(false);
      await expect.poll(async () => (await fetch(`http://127.0.0.1:${port}/ok.txt`).catch(() => undefined))?.status, { timeout: 20_000 }).toBe(200);
      expect(checksum(undefined)).toBe(sum);

      // Once more, to the end: progress shown, recovered, the same bytes on nas.
      const run = runCli(['migrate', 'big', '--to', 'nas', '--config', config]);
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(run.stdout).toMatch(/action migrate: copy volume .*: ok - [\d.]+ MB in [\d.]+ s/);
      expect(run.stdout).toMatch(/incident \d+: recovered/);
      expect(checksum(rootB)).toBe(sum);
      expect(existsAt(undefined, 'container', name)).toBe(false);
      const res = await fetch(`http://127.0.0.1:${port}/ok.txt`);
      expect(res.status).toBe(200);
    } finally {
      await second.stop();
      try {
        podmanAt(rootB, ['rm', '-f', '-t', '0', name]);
      } catch {
        // Not there.
      }
    }
  }, 240_000);
});
