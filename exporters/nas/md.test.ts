/** md RAID over recorded /proc/mdstat files (fixtures/mdstat, SOURCE.txt), golden files included. */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { exposeSamples } from '../../test/helpers/exposition.js';
import { expectGolden, expectPromtoolClean } from '../../test/helpers/golden.js';
import { runnerFor } from '../../test/helpers/runner.js';
import { nas } from './index.js';
import { M } from './metrics.js';
import { parseMdstat } from './parse/mdstat.js';
import { mdSamples } from './samples.js';

const dir = new URL('./fixtures/mdstat/', import.meta.url);
const goldenDir = new URL('./fixtures/golden/', import.meta.url);
const fixture = (f: string) => readFileSync(new URL(f, dir), 'utf8');
const cases = readdirSync(dir).filter((f) => f.endsWith('.txt'));
const byName = (text: string) => new Map(parseMdstat(text).arrays.map((a) => [a.name, a]));

describe('/proc/mdstat', () => {
  it('a RAID 5 with a failed member is degraded, unmistakably', () => {
    const r = parseMdstat(fixture('issue-node_exporter-261__degraded-raid5-failed-member.txt'));
    expect(r.problems).toEqual([]);
    const md5 = r.arrays.find((a) => a.name === 'md5')!;
    expect(md5).toMatchObject({ active: true, level: 'raid5', expected: 4, inUse: 3 });
    expect(md5.members.filter((m) => m.failed).map((m) => m.device)).toEqual(['sdb1']);
    const s = mdSamples(r.arrays);
    const v = (metric: string, labels: Record<string, string>) => s.find((x) => x.metric === metric && Object.entries(labels).every(([k, y]) => x.labels?.[k] === y))?.value;
    expect(v(M.mdDegraded, { array: 'md5' })).toBe(1);
    expect(v(M.mdDisks, { array: 'md5', state: 'failed' })).toBe(1);
    expect(v(M.mdDegraded, { array: 'md1' })).toBe(0);
  });

  it('reads every state of the procfs fixture: recovery, resync, check, reshape, delayed, pending, inactive, raid0 and linear', () => {
    const r = parseMdstat(fixture('procfs__fixtures-ttar__proc-mdstat.txt'));
    expect(r.problems).toEqual([]);
    const a = byName(fixture('procfs__fixtures-ttar__proc-mdstat.txt'));
    expect(a.get('md6')).toMatchObject({ expected: 2, inUse: 1, sync: { action: 'recovery', progress: 16775552 / 195310144, finishSeconds: 17 * 60, speedBytesPerSecond: 259783 * 1024 } });
    expect(a.get('md8')?.sync?.action).toBe('resync');
    expect(a.get('md201')?.sync?.action).toBe('check');
    expect(a.get('md9')?.sync).toEqual({ action: 'resync', waiting: 'delayed' });
    expect(a.get('md11')).toMatchObject({ readonly: true, sync: { action: 'resync', waiting: 'pending' } });
    expect(a.get('md4')).toMatchObject({ active: false, level: 'raid1' });
    expect(a.get('md219')).toMatchObject({ active: false, level: '' });
    expect(a.get('md10')?.level).toBe('raid0');
    expect(a.get('md10')?.expected).toBeUndefined();
    expect(a.get('md120')).toMatchObject({ level: 'linear' });
    expect([...a.values()].find((x) => x.sync?.action === 'reshape')?.sync?.progress).toBeCloseTo(0.5615, 3);
  });

  it('reports a line it does not know and keeps the rest', () => {
    const r = parseMdstat('md0 : active raid1 sda1[0] sdb1[1]\n      1000 blocks [2/2] [UU]\n      frobnicating = 12%\n');
    expect(r.problems).toEqual(['line 3: md0: "frobnicating = 12%" not understood']);
    expect(r.arrays[0]).toMatchObject({ name: 'md0', expected: 2, inUse: 2, sizeBytes: 1024000 });
  });

  it.each(cases)('%s matches its golden file', async (name) => {
    const text = await exposeSamples(nas, mdSamples(parseMdstat(fixture(name)).arrays), 'nas');
    const golden = new URL(`mdstat__${name.replace(/\.txt$/, '')}.prom`, goldenDir);
    expectGolden(text, golden);
  });

  it('golden files pass promtool check metrics', (ctx) => {
    expectPromtoolClean(ctx, goldenDir);
  });

  it('through the exporter, with the procfs file pointed at a fixture; no md driver is no error', async () => {
    const runner = runnerFor(nas, { name: 'nas', disks: { enabled: false }, zfs: { enabled: 'false' }, md: { mdstat_file: fileURLToPath(new URL('issue-node_exporter-261__degraded-raid5-failed-member.txt', dir)) } });
    await runner.collectOnce();
    expect(runner.status().up).toBe(true);
    expect(runner.status().samples.find((s) => s.metric === M.mdDegraded && s.labels?.array === 'md5')?.value).toBe(1);
    const review = nas.review!(runner.status().samples, Date.now());
    expect(review.findings).toEqual([{ severity: 'critical', subject: 'md array md5', problem: 'is degraded: 1 member missing, 1 failed' }]);
    // The mismatch count comes from sysfs: a sysfs root pointed at a tree made here.
    const { mkdtempSync, mkdirSync: mk, rmSync, writeFileSync: wr } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const sys = mkdtempSync(join(tmpdir(), 'hs-sysfs-'));
    mk(join(sys, 'block', 'md5', 'md'), { recursive: true });
    wr(join(sys, 'block', 'md5', 'md', 'mismatch_cnt'), '128\n');
    const withSysfs = runnerFor(nas, { name: 'nas', disks: { enabled: false }, zfs: { enabled: 'false' }, md: { sysfs_root: sys, mdstat_file: fileURLToPath(new URL('issue-node_exporter-261__degraded-raid5-failed-member.txt', dir)) } });
    await withSysfs.collectOnce();
    expect(withSysfs.status().samples.filter((s) => s.metric === M.mdMismatches)).toEqual([{ metric: M.mdMismatches, labels: { array: 'md5' }, value: 128 }]);
    rmSync(sys, { recursive: true, force: true });
    const none = runnerFor(nas, { name: 'nas', disks: { enabled: false }, zfs: { enabled: 'false' }, md: { mdstat_file: '/nonexistent/mdstat' } });
    await none.collectOnce();
    expect(none.status().up).toBe(true);
    expect(none.status().samples).toEqual([]);
  });
});
