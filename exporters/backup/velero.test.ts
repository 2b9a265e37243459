/**
 * The velero source run by the real host against the fake Kubernetes API server:
 * series from their first appearance (a schedule with no backup yet), backups
 * moving through Velero's phases by watch, a failed run, the API server going away
 * and coming back, RBAC refusing, Velero not installed, a broken kubeconfig.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Sample } from '../../collector/contract.js';
import { FakeKubeApi, type FakeKubeOptions } from '../../test/fakes/kube-api.js';
import { memoryLogger, runnerFor } from '../../test/helpers/runner.js';
import { backup } from './index.js';
import { M } from './metrics.js';
import { until } from '../../test/helpers/until.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hs-velero-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});


function kubeconfig(port: number, token: string): string {
  const file = join(dir, `kubeconfig-${port}-${token}`);
  writeFileSync(
    file,
    `apiVersion: v1
kind: Config
clusters: [{ name: fake, cluster: { server: "http://127.0.0.1:${port}" } }]
users: [{ name: sa, user: { token: ${token} } }]
contexts: [{ name: fake, context: { cluster: fake, user: sa } }]
current-context: fake
`,
  );
  return file;
}

const SA = 'system:serviceaccount:homestation:collector';
const READ_VELERO = [{ apiGroups: ['velero.io'], resources: ['backups', 'schedules'], verbs: ['get', 'list', 'watch'], namespaces: ['velero'] }];

async function start(options: FakeKubeOptions = {}, instance: Record<string, unknown> = {}) {
  const api = await new FakeKubeApi({ tokens: { 'sa-token': SA }, rbac: { [SA]: READ_VELERO }, bookmarkMs: 100, ...options }).start();
  cleanup.push(() => api.stop());
  const { log, lines } = memoryLogger();
  const runner = runnerFor(backup, { name: 'cluster', velero: { kubeconfig: kubeconfig(api.port, 'sa-token') }, min_retention: '30d', ...instance }, { log });
  cleanup.push(() => runner.stop());
  return { api, runner, lines };
}

const value = (samples: readonly Sample[], metric: string, set: string) => samples.find((s) => s.metric === metric && s.labels?.set === set)?.value;
const veleroBackup = (name: string, phase: string, start: string, extra: Record<string, unknown> = {}) => ({
  metadata: { name, namespace: 'velero', labels: { 'velero.io/schedule-name': 'nightly', 'velero.io/storage-location': 'default' } },
  spec: { ttl: '720h0m0s', storageLocation: 'default' },
  status: { phase, startTimestamp: start, ...(phase === 'InProgress' ? {} : { completionTimestamp: start.replace(':00:00Z', ':04:12Z') }), version: 1, formatVersion: '1.1.0', ...extra },
});
const nightly = { metadata: { name: 'nightly', namespace: 'velero' }, spec: { schedule: '0 3 * * *', template: { ttl: '720h0m0s', includedNamespaces: ['*'] } }, status: { phase: 'Enabled' } };

describe('the velero backup source', () => {
  it('follows a schedule from its first appearance through a completed and a failed backup, by watch', async () => {
    const { api, runner, lines } = await start();
    api.put('schedules', 'velero.io', nightly);
    runner.start();
    await until('up', () => runner.status().up);
    // First appearance: the schedule is known, no backup yet: 0, so BackupNeverSucceeded can fire.
    let s = runner.status().samples;
    expect(value(s, M.count, 'nightly')).toBe(0);
    expect(value(s, M.interval, 'nightly')).toBe(86_400);
    expect(value(s, M.retention, 'nightly')).toBe(30 * 86_400);
    expect(value(s, M.last, 'nightly')).toBeUndefined();
    expect(value(s, M.complete, 'nightly')).toBeUndefined();

    api.put('backups', 'velero.io', veleroBackup('nightly-20261126030000', 'InProgress', '2026-11-26T03:00:00Z'));
    await new Promise((r) => setTimeout(r, 100));
    expect(value(runner.status().samples, M.count, 'nightly')).toBe(0); // not usable until it ends

    api.put('backups', 'velero.io', veleroBackup('nightly-20261126030000', 'Completed', '2026-11-26T03:00:00Z', { warnings: 1 }));
    await until('completed', () => value(runner.status().samples, M.count, 'nightly') === 1);
    s = runner.status().samples;
    expect(value(s, M.last, 'nightly')).toBe(Date.parse('2026-11-26T03:00:00Z') / 1000);
    expect(value(s, M.complete, 'nightly')).toBe(1);
    expect(value(s, M.errors, 'nightly')).toBe(0);
    expect(value(s, M.warnings, 'nightly')).toBe(1);

    api.put('backups', 'velero.io', veleroBackup('nightly-20261127030000', 'Failed', '2026-11-27T03:00:00Z', { errors: 3, failureReason: 'rpc error: code = Unavailable' }));
    await until('failed', () => value(runner.status().samples, M.complete, 'nightly') === 0);
    s = runner.status().samples;
    expect(value(s, M.count, 'nightly')).toBe(1); // a failed backup is not a backup
    expect(value(s, M.last, 'nightly')).toBe(Date.parse('2026-11-26T03:00:00Z') / 1000);
    expect(value(s, M.errors, 'nightly')).toBe(3);
    // Said once, not at every later event.
    api.put('schedules', 'velero.io', { ...nightly, status: { phase: 'Enabled', lastBackup: '2026-11-27T03:00:00Z' } });
    await new Promise((r) => setTimeout(r, 100));
    runner.status();
    const said = lines.filter((l) => l.msg === 'newest Velero backup did not complete');
    expect(said).toHaveLength(1);
    expect(said[0]).toMatchObject({ backup: 'nightly-20261127030000', phase: 'Failed', failureReason: 'rpc error: code = Unavailable' });

    // Velero's garbage collection deletes an expired backup: it leaves the count.
    api.remove('backups', 'velero.io', 'velero', 'nightly-20261126030000');
    await until('expired', () => value(runner.status().samples, M.count, 'nightly') === 0);
    expect(api.requests.filter((r) => r === 'GET /apis/velero.io/v1/namespaces/velero/backups').length).toBeLessThanOrEqual(3); // one list, watches: never polled
  });

  it('keeps the last-known sets while the API server is gone, down with the reason, and is up again when it is back', async () => {
    const { api, runner } = await start();
    api.put('schedules', 'velero.io', nightly);
    api.put('backups', 'velero.io', veleroBackup('nightly-20261126030000', 'Completed', '2026-11-26T03:00:00Z'));
    runner.start();
    await until('up', () => runner.status().up && value(runner.status().samples, M.count, 'nightly') === 1);
    const port = api.port;
    await api.stop();
    await until('down', () => !runner.status().up);
    const st = runner.status();
    expect(st.lastError?.reason).toBe('unreachable');
    expect(value(st.samples, M.count, 'nightly')).toBe(1);
    expect(value(st.samples, M.last, 'nightly')).toBe(Date.parse('2026-11-26T03:00:00Z') / 1000);
    api.put('backups', 'velero.io', veleroBackup('nightly-20261127030000', 'Completed', '2026-11-27T03:00:00Z'));
    await api.start(port);
    await until('back', () => runner.status().up && value(runner.status().samples, M.count, 'nightly') === 2, 10_000);
  });

  it('says which permission is missing when RBAC refuses, and that Velero is missing when its resources are', async () => {
    const refused = await start({ rbac: { [SA]: [{ apiGroups: ['velero.io'], resources: ['backups'], verbs: ['get', 'list', 'watch'], namespaces: ['velero'] }] } });
    refused.runner.start();
    // Before the first answer it is down as not yet synced; then the refusal.
    await until('refused', () => refused.runner.status().lastError?.reason === 'auth');
    const err = refused.runner.status().lastError!;
    expect(err.reason).toBe('auth');
    expect(err.message).toContain(`schedules.velero.io is forbidden: User "${SA}" cannot list resource "schedules" in API group "velero.io" in the namespace "velero"`);
    expect(err.hint).toContain('grant list and watch on backups.velero.io and schedules.velero.io in the namespace "velero"');
    expect(refused.runner.status().up).toBe(false);

    const absent = await start({ without: ['backups.velero.io', 'schedules.velero.io'] });
    absent.runner.start();
    await until('absent', () => absent.runner.status().lastError?.reason === 'other');
    expect(absent.runner.status().lastError).toMatchObject({ reason: 'other', hint: expect.stringContaining('is Velero installed') });
  });

  it('refuses a kubeconfig it cannot use, naming the file', async () => {
    const file = join(dir, 'exec.yaml');
    writeFileSync(file, 'clusters: [{name: c, cluster: {server: "https://x:6443"}}]\nusers: [{name: u, user: {exec: {command: aws}}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\n');
    const { log } = memoryLogger();
    const runner = runnerFor(backup, { name: 'cluster', velero: { kubeconfig: file } }, { log });
    cleanup.push(() => runner.stop());
    runner.start();
    await until('failed', () => runner.status().lastError?.message.includes('exec') === true);
    expect(runner.status().lastError?.message).toBe(`${file}: users["u"]: exec credential plugins are not supported; use a service account token (token or tokenFile) or a client certificate`);
  });
});
