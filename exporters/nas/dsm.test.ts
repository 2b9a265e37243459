/**
 * Synology DSM through the exporter against the FAKE DSM of test/fakes (DSM's
 * documented Web API shapes): a degraded pool, a crashed disk and placeholder zeros;
 * the session ended by DSM and logged in again; a wrong password not retried into
 * DSM's address block; a DSM that hangs.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { InstanceRunner } from '../../collector/instance-runner.js';
import { startFakeDsm, type FakeDsm } from '../../test/fakes/dsm.js';
import { exposeSamples } from '../../test/helpers/exposition.js';
import { expectGolden } from '../../test/helpers/golden.js';
import { memoryLogger, runnerFor } from '../../test/helpers/runner.js';
import { nas } from './index.js';
import { M } from './metrics.js';
import { dsmStorageSamples } from './parse/dsm.js';

const STORAGE = JSON.parse(readFileSync(new URL('./fixtures/dsm/load_info__2pools-degraded.json', import.meta.url), 'utf8')) as { data: unknown };
const goldenDir = new URL('./fixtures/golden/', import.meta.url);
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
});

async function setup(password = 's3cret-dsm'): Promise<{ fake: FakeDsm; runner: InstanceRunner; lines: Record<string, unknown>[] }> {
  const fake = await startFakeDsm({ account: 'homestation', password: 's3cret-dsm', storage: STORAGE });
  const dir = mkdtempSync(join(tmpdir(), 'hs-dsm-'));
  writeFileSync(join(dir, 'pw'), `${password}\n`);
  const { log, lines } = memoryLogger();
  const runner = runnerFor(
    nas,
    { name: 'syno', interval: '200ms', md: { enabled: false }, disks: { enabled: false }, zfs: { enabled: 'false' }, dsm: { url: fake.url, username: 'homestation', password_file: join(dir, 'pw'), timeout: '500ms' } },
    { log },
  );
  runner.start();
  cleanups.push(() => runner.stop(), () => fake.close(), () => rmSync(dir, { recursive: true, force: true }));
  return { fake, runner, lines };
}
const v = (r: InstanceRunner, metric: string, labels: Record<string, string> = {}) =>
  r.status().samples.find((s) => s.metric === metric && Object.entries(labels).every(([k, x]) => s.labels?.[k] === x))?.value;

describe('the DSM storage report', () => {
  it('matches its golden file; placeholder zeros are absent', async () => {
    const samples = dsmStorageSamples(STORAGE.data);
    expect(samples.find((s) => s.metric === M.dsmDiskTemperature && s.labels?.disk === 'nvme0n1')).toBeUndefined();
    const text = await exposeSamples(nas, samples, 'syno');
    const golden = new URL('dsm__load_info__2pools-degraded.prom', goldenDir);
    expectGolden(text, golden);
    expect(() => dsmStorageSamples({ foo: 1 })).toThrow(/not a SYNO.Storage.CGI.Storage load_info answer/);
  });
});

describe('DSM through the exporter (FAKE DSM)', () => {
  it('reads volumes, pools and disks; the status page names the degraded pool and the crashed disk', async () => {
    const { fake, runner } = await setup();
    await expect.poll(() => v(runner, M.dsmUp), { timeout: 10_000 }).toBe(1);
    expect(v(runner, M.dsmPoolHealthy, { pool: 'reuse_1' })).toBe(0);
    expect(v(runner, M.dsmPoolFailedDisks, { pool: 'reuse_1' })).toBe(1);
    expect(v(runner, M.dsmDiskHealthy, { disk: 'sdb' })).toBe(0);
    expect(v(runner, M.dsmDiskTemperature, { disk: 'sda' })).toBe(39);
    expect(v(runner, M.dsmVolumeUsed, { volume: '/volume1' })).toBe(7291711255552);
    const findings = nas.review!(runner.status().samples, Date.now()).findings.map((f) => `${f.subject}: ${f.problem}`);
    expect(findings).toEqual(['DSM volume /volume1: is attention', 'DSM storage pool reuse_1: is degraded', 'DSM disk Drive 2: is crashed (SMART: failing)']);
    // The password went in a POST body, never in a URL.
    expect(fake.stats.passwordsInUrls).toBe(0);
    expect(fake.stats.logins).toBe(1);
  });

  it('logs in again, once, when DSM ends the session', async () => {
    const { fake, runner } = await setup();
    await expect.poll(() => fake.stats.storageCalls, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
    fake.expireSessions();
    const calls = fake.stats.storageCalls;
    await expect.poll(() => fake.stats.storageCalls, { timeout: 5_000 }).toBeGreaterThanOrEqual(calls + 3);
    expect(fake.stats.logins).toBe(2);
    expect(v(runner, M.dsmUp)).toBe(1);
    expect(runner.status().errors.auth).toBe(0);
  });

  it('a wrong password: auth error with what to do, and no retry storm that would get the address blocked', async () => {
    const { fake, runner, lines } = await setup('not-the-password-Q9');
    await expect.poll(() => runner.status().errors.auth, { timeout: 10_000 }).toBeGreaterThanOrEqual(1);
    await new Promise((r) => setTimeout(r, 1500));
    expect(fake.stats.failedLogins).toBe(1);
    expect(v(runner, M.dsmUp)).toBe(0);
    expect(runner.status().up).toBe(true);
    const said = JSON.stringify(lines);
    expect(said).toMatch(/no such account or wrong password/);
    // The password it tried is in no log line.
    expect(said).not.toContain('not-the-password-Q9');
  });

  it('a DSM that hangs: dsm_up 0 within the request timeout, the last report kept, the collection goes on', async () => {
    const { fake, runner } = await setup();
    await expect.poll(() => v(runner, M.dsmUp), { timeout: 10_000 }).toBe(1);
    fake.hang(true);
    await expect.poll(() => v(runner, M.dsmUp), { timeout: 5_000 }).toBe(0);
    expect(runner.status().errors.timeout).toBeGreaterThanOrEqual(1);
    expect(v(runner, M.dsmPoolHealthy, { pool: 'reuse_1' })).toBe(0);
    fake.hang(false);
  });
});
