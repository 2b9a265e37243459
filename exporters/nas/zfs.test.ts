/**
 * ZFS: the zpool parsers over the recorded real outputs (fixtures/zpool, SOURCE.txt),
 * golden files, and the exporter with the FAKE zpool of test/fakes (a degraded pool,
 * a scrub in progress, a hang, garbage, no ZFS at all).
 */
process.env.TZ = 'UTC'; // zpool prints local time: the golden files are made in UTC.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { InstanceRunner } from '../../collector/instance-runner.js';
import { exposeSamples } from '../../test/helpers/exposition.js';
import { expectGolden, expectPromtoolClean } from '../../test/helpers/golden.js';
import { memoryLogger, runnerFor } from '../../test/helpers/runner.js';
import { nas } from './index.js';
import { M } from './metrics.js';
import { parseZpoolList, parseZpoolStatus, parseZpoolStatusJson } from './parse/zpool.js';
import { zfsSamples } from './samples.js';

const dir = new URL('./fixtures/zpool/', import.meta.url);
const goldenDir = new URL('./fixtures/golden/', import.meta.url);
const ZPOOL = fileURLToPath(new URL('../../test/fakes/zpool.mjs', import.meta.url));
const fixture = (f: string) => readFileSync(new URL(f, dir), 'utf8');
const statusCases = readdirSync(dir).filter((f) => f.startsWith('zpool-status-exporter__'));
const JSON_DEGRADED = 'constructed__status-j-degraded.json';
const pool = (f: string) => parseZpoolStatus(fixture(f)).pools[0]!;

describe('zpool status and zpool list', () => {
  it('reads every recorded status without a line it does not understand', () => {
    for (const f of statusCases) expect({ f, problems: parseZpoolStatus(fixture(f)).problems }).toEqual({ f, problems: [] });
  });

  it('a degraded pool: the UNAVAIL disk and its mirror are not online', () => {
    const p = pool('zpool-status-exporter__input-01-corrupted.txt');
    expect(p.state).toBe('DEGRADED');
    expect(p.vdevs.map((v) => `${v.depth}:${v.name}:${v.state}`)).toEqual(['0:dummy:DEGRADED', '1:mirror-0:ONLINE', '2:loop0:ONLINE', '2:loop1:ONLINE', '1:mirror-1:DEGRADED', '2:loop2:ONLINE', '2:loop3:UNAVAIL']);
    expect(p.scan).toEqual({ kind: 'scrub', state: 'finished', endedAt: Date.UTC(2024, 1, 10, 20, 34, 42), errors: 0 });
  });

  it('an ONLINE pool with data corruption; a scrub in progress; a new pool never scrubbed', () => {
    expect(pool('zpool-status-exporter__input-02-online-data-corruption.txt')).toMatchObject({ state: 'ONLINE', dataErrors: 1, scan: { errors: 1 } });
    expect(pool('zpool-status-exporter__input-04-scrub-progress.txt').scan).toEqual({ kind: 'scrub', state: 'in_progress', progress: 0 });
    const fresh = pool('zpool-status-exporter__input-10-new-pool.txt');
    expect(fresh.scan).toBeUndefined();
    const s = zfsSamples([fresh], []);
    expect(s.find((x) => x.metric === M.poolScrubbed)?.value).toBe(0);
    expect(s.find((x) => x.metric === M.poolLastScrub)).toBeUndefined();
  });

  it('zpool list -p: a FAULTED pool with every value "-" is absent values, not zeros; vdev rows are not pools', () => {
    expect(parseZpoolList(fixture('netdata__zfspool-testdata__zpool-list-p.txt'))).toEqual([
      { name: 'rpool', sizeBytes: 21367462298, allocatedBytes: 9051643576, freeBytes: 12240656794, fragmentation: 0.33, health: 'ONLINE' },
      { name: 'zion', health: 'FAULTED' },
    ]);
    expect(parseZpoolList(fixture('netdata__zfspool-testdata__zpool-list-p-v-L.txt')).map((p) => p.name)).toEqual(['rpool']);
    expect(parseZpoolList('tank\t1000\t400\t600\t12\tONLINE\n')).toEqual([{ name: 'tank', sizeBytes: 1000, allocatedBytes: 400, freeBytes: 600, fragmentation: 0.12, health: 'ONLINE' }]);
  });

  it('zpool status -j (OpenZFS 2.3+) reads to the same series as the text of the same pool', () => {
    const fromJson = parseZpoolStatusJson(fixture(JSON_DEGRADED));
    expect(fromJson.problems).toEqual([]);
    const fromText = parseZpoolStatus(fixture('zpool-status-exporter__input-01-corrupted.txt'));
    expect(zfsSamples(fromJson.pools, [])).toEqual(zfsSamples(fromText.pools, []));
    expect(parseZpoolStatusJson('{"pools": {"t": {"name": "t", "state": "ONLINE", "scan_stats": {"function": "SCRUB", "state": "SCANNING", "examined": 25, "to_examine": 100}}}}').pools[0]?.scan).toEqual({
      kind: 'scrub',
      state: 'in_progress',
      progress: 0.25,
    });
    expect(parseZpoolStatusJson('zpool: internal error').problems[0]).toMatch(/not JSON/);
  });

  it('reports error counts it cannot read, and keeps the rest', () => {
    const r = parseZpoolStatus('  pool: t\n state: ONLINE\nconfig:\n\n\tNAME STATE READ WRITE CKSUM\n\tt ONLINE 0 0 0\n\t  sda ONLINE lots 0 0\n\t  sdb ONLINE 1.2K 0 3\n');
    expect(r.problems).toEqual(['line 7: t: error counts "lots 0 0" not understood']);
    expect(r.pools[0]!.vdevs.find((v) => v.name === 'sdb')).toMatchObject({ read: 1200, checksum: 3 });
  });

  it.each(statusCases)('%s matches its golden file', async (name) => {
    const text = await exposeSamples(nas, zfsSamples(parseZpoolStatus(fixture(name)).pools, []), 'nas');
    const golden = new URL(`zpool__${name.replace(/\.txt$/, '')}.prom`, goldenDir);
    expectGolden(text, golden);
  });

  it('golden files pass promtool check metrics', (ctx) => {
    expectPromtoolClean(ctx, goldenDir, (x) => x.startsWith('zpool__'));
  });
});

describe('ZFS through the exporter (FAKE zpool replaying real outputs)', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
    for (const k of Object.keys(process.env)) if (k.startsWith('FAKE_')) delete process.env[k];
  });
  const start = (zfs: Record<string, unknown> = {}) => {
    const tmp = mkdtempSync(join(tmpdir(), 'hs-zfs-'));
    process.env.FAKE_ZPOOL_COUNT = join(tmp, 'calls');
    const { log, lines } = memoryLogger();
    const runner = runnerFor(nas, { name: 'nas', interval: '200ms', md: { enabled: false }, disks: { enabled: false }, zfs: { command: ZPOOL, timeout: '500ms', ...zfs } }, { log });
    runner.start();
    cleanups.push(() => runner.stop(), () => rmSync(tmp, { recursive: true, force: true }));
    return { runner, lines, calls: () => (existsSync(join(tmp, 'calls')) ? readFileSync(join(tmp, 'calls'), 'utf8').trim().split('\n') : []) };
  };
  const v = (r: InstanceRunner, metric: string, labels: Record<string, string>) => r.status().samples.find((s) => s.metric === metric && Object.entries(labels).every(([k, x]) => s.labels?.[k] === x))?.value;

  it('a degraded pool and its capacity, and the status page says so', async () => {
    process.env.FAKE_ZPOOL_STATUS = 'zpool-status-exporter__input-06-removed.txt';
    const { runner } = start();
    await expect.poll(() => v(runner, M.poolState, { pool: 'dummy', state: 'DEGRADED' }), { timeout: 10_000 }).toBe(1);
    expect(v(runner, M.vdevOnline, { pool: 'dummy', vdev: 'drive0-part1' })).toBe(0);
    expect(v(runner, M.poolSize, { pool: 'rpool' })).toBe(21367462298);
    expect(v(runner, M.poolState, { pool: 'zion', state: 'FAULTED' })).toBe(1);
    expect(runner.status().samples.find((s) => s.metric === M.zpoolUp)?.value).toBe(1);
    const findings = nas.review!(runner.status().samples, Date.now()).findings.map((f) => `${f.subject} ${f.problem}`);
    expect(findings).toEqual(['ZFS pool dummy is DEGRADED', 'ZFS pool zion is FAULTED']);
  });

  it('reads zpool status -j where OpenZFS has it, and the text (asked once) where it refuses -j', async () => {
    process.env.FAKE_ZPOOL_JSON = JSON_DEGRADED;
    const modern = start();
    await expect.poll(() => v(modern.runner, M.vdevOnline, { pool: 'dummy', vdev: 'loop3' }), { timeout: 10_000 }).toBe(0);
    expect(modern.calls().filter((l) => l.startsWith('status'))).toContain('status -j --json-int');
    expect(modern.calls().filter((l) => l === 'status')).toEqual([]);
    await modern.runner.stop();
    delete process.env.FAKE_ZPOOL_JSON;
    const old = start();
    await expect.poll(() => old.calls().filter((l) => l === 'status').length, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
    expect(old.calls().filter((l) => l.includes('-j'))).toHaveLength(1);
  });

  it('a hung zpool: the collection goes on with the last reading, zpool_up 0, and no second zpool', async () => {
    const { runner, calls } = start();
    await expect.poll(() => runner.status().samples.find((s) => s.metric === M.zpoolUp)?.value, { timeout: 10_000 }).toBe(1);
    const before = calls().length;
    process.env.FAKE_ZPOOL_MODE = 'hang';
    await expect.poll(() => runner.status().samples.find((s) => s.metric === M.zpoolUp)?.value, { timeout: 10_000 }).toBe(0);
    expect(runner.status().up).toBe(true);
    expect(runner.status().errors.timeout).toBeGreaterThanOrEqual(1);
    expect(v(runner, M.poolState, { pool: 'milton', state: 'ONLINE' })).toBe(1);
    await new Promise((r) => setTimeout(r, 1000));
    // status and list, each hung once; SIGKILL ends them 2 s after their deadline: no more started meanwhile.
    expect(calls().length - before).toBeLessThanOrEqual(2);
  });

  it('no zpool on the host: nothing about ZFS, no error (enabled: auto); garbage is reported', async () => {
    const none = start({ command: '/nonexistent/zpool' });
    await new Promise((r) => setTimeout(r, 600));
    expect(none.runner.status().up).toBe(true);
    expect(none.runner.status().samples.filter((s) => s.metric.startsWith('homestation_nas_zpool'))).toEqual([]);
    process.env.FAKE_ZPOOL_MODE = 'garbage';
    const bad = start();
    await expect.poll(() => bad.lines.some((l) => /is not zpool status output|not JSON/.test(String(l.problem ?? ''))), { timeout: 5_000 }).toBe(true);
    // The problem is logged while that collection is still finishing (seen once on the loaded CI machine): up once it has.
    await expect.poll(() => bad.runner.status().up, { timeout: 5_000 }).toBe(true);
  });
});
