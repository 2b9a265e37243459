/**
 * Disks: the smartctl JSON parser over the recorded real outputs (fixtures/smartctl,
 * SOURCE.txt) with golden files, and the exporter with the FAKE smartctl of
 * test/fakes replaying them: a sleeping disk is not woken, a hung smartctl holds one
 * process and never the collection, garbage is reported and the other disks kept.
 */
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
import { parseScan, parseSmartctl } from './parse/smartctl.js';
import { diskSamples } from './samples.js';

const dir = new URL('./fixtures/smartctl/', import.meta.url);
const goldenDir = new URL('./fixtures/golden/', import.meta.url);
const SMARTCTL = fileURLToPath(new URL('../../test/fakes/smartctl.mjs', import.meta.url));
const fixture = (f: string) => readFileSync(new URL(f, dir), 'utf8');
const readings = readdirSync(dir).filter((f) => f.endsWith('.json') && !f.includes('scan') && !f.includes('smartctl_info') && !f.includes('smart-fail.json'));
const READ_AT = Date.parse('2026-11-25T12:00:00Z');

describe('smartctl --json', () => {
  it('a NAS hard disk that is healthy: passed, no bad sectors, not at risk', () => {
    const r = parseSmartctl(fixture('smartctl_exporter__WDC_WD20EFRX-68EUZN0_17.json'));
    expect(r).toMatchObject({ disk: '/dev/sdb', protocol: 'ATA', passed: true, reallocatedSectors: 0, pendingSectors: 0, atRisk: false, standby: false });
    expect(r.model).toMatch(/WDC WD20EFRX/);
  });

  it('decodes the exit status bits: 64 is "the error log has records", 4 "a SMART command failed"', () => {
    const hgst = diskSamples(parseSmartctl(fixture('smartctl_exporter__HGST_HUS724020ALE640_28.json')), READ_AT, false);
    const set = (s: typeof hgst) => s.filter((x) => x.metric === M.diskStatus && x.value === 1).map((x) => x.labels?.flag);
    expect(set(hgst)).toEqual(['error_log']);
    expect(set(diskSamples(parseSmartctl(fixture('smartctl_exporter__sat-Phison_Driven_SSDs-KINGSTON_SA400M8120G-sda.json')), READ_AT, false))).toEqual(['command_failed']);
    // Every flag is present, at 0 when not set.
    expect(hgst.filter((x) => x.metric === M.diskStatus)).toHaveLength(8);
  });

  it('NVMe: the health log (spare, endurance used, media errors, critical warning)', () => {
    const r = parseSmartctl(fixture('smartctl_exporter__SAMSUNG_MZVL21T0HCLR-00B00_23.json'));
    expect(r).toMatchObject({ protocol: 'NVMe', availableSpare: 1, availableSpareThreshold: 0.1, percentageUsed: 0.16, mediaErrors: 0, nvmeCriticalWarning: 0, powerOnHours: 10423, atRisk: false });
  });

  it('a RAID volume: no SMART status and its placeholder temperature 0 are absent, not 0', () => {
    const r = parseSmartctl(fixture('scrutiny__smart-raid.json'));
    expect(r.passed).toBeUndefined();
    expect(r.temperatureCelsius).toBeUndefined();
    const s = diskSamples(r, READ_AT, false);
    expect(s.find((x) => x.metric === M.diskTemperature)).toBeUndefined();
    expect(s.find((x) => x.metric === M.diskPassed)).toBeUndefined();
  });

  it('a disk that passes SMART but has pending or reallocated sectors is at risk', () => {
    const d = JSON.parse(fixture('smartctl_exporter__WDC_WD20EFRX-68EUZN0_17.json'));
    for (const a of d.ata_smart_attributes.table) if (a.id === 197) a.raw.value = 8;
    const r = parseSmartctl(JSON.stringify(d));
    expect(r).toMatchObject({ passed: true, pendingSectors: 8, atRisk: true });
  });

  it('an open that failed, and output that is not smartctl JSON', () => {
    const r = parseSmartctl(fixture('scrutiny__smart-fail.json'));
    expect(r.errors[0]).toMatch(/Open failed/);
    expect(r.exitStatus).toBe(2);
    expect(() => parseSmartctl('<html>')).toThrow(/not JSON/);
    expect(() => parseSmartctl('{"devices":[]}')).toThrow(/not smartctl --json output/);
  });

  it('--scan-open: megaraid members are separate disks on one device', () => {
    expect(parseScan(fixture('scrutiny__smartctl_scan_megaraid.json')).slice(0, 2)).toEqual([
      { name: '/dev/bus/0', type: 'megaraid,0' },
      { name: '/dev/bus/0', type: 'megaraid,1' },
    ]);
  });

  it.each(readings)('%s matches its golden file', async (name) => {
    const text = await exposeSamples(nas, diskSamples(parseSmartctl(fixture(name)), READ_AT, false), 'nas');
    const golden = new URL(`smartctl__${name.replace(/\.json$/, '')}.prom`, goldenDir);
    expectGolden(text, golden);
  });

  it('golden files pass promtool check metrics', (ctx) => {
    expectPromtoolClean(ctx, goldenDir, (x) => x.startsWith('smartctl__'));
  });
});

describe('disks through the exporter (FAKE smartctl replaying real outputs)', () => {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
    for (const k of Object.keys(process.env)) if (k.startsWith('FAKE_')) delete process.env[k];
  });
  const DEVICES = { '/dev/sda': 'smartctl_exporter__WDC_WD20EFRX-68EUZN0_17.json', '/dev/sdb': 'smartctl_exporter__HGST_HUS724020ALE640_28.json', '/dev/nvme0': 'smartctl_exporter__SAMSUNG_MZVL21T0HCLR-00B00_23.json' };
  const start = (disks: Record<string, unknown>): { runner: InstanceRunner; lines: Record<string, unknown>[]; count: string } => {
    const tmp = mkdtempSync(join(tmpdir(), 'hs-disks-'));
    const count = join(tmp, 'calls');
    process.env.FAKE_SMARTCTL_COUNT = count;
    process.env.FAKE_SMARTCTL_DEVICES = JSON.stringify(DEVICES);
    const { log, lines } = memoryLogger();
    const runner = runnerFor(nas, { name: 'nas', interval: '200ms', md: { enabled: false }, zfs: { enabled: 'false' }, disks: { command: SMARTCTL, ...disks } }, { log });
    runner.start();
    cleanups.push(() => runner.stop(), () => rmSync(tmp, { recursive: true, force: true }));
    return { runner, lines, count };
  };
  const v = (r: InstanceRunner, metric: string, disk: string) => r.status().samples.find((s) => s.metric === metric && s.labels?.disk === disk)?.value;
  const calls = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8').trim().split('\n') : []);

  it('scans, reads each disk once per interval, and leaves a sleeping disk asleep', async () => {
    process.env.FAKE_SMARTCTL_STANDBY = '/dev/sdb';
    const { runner, count } = start({});
    await expect.poll(() => v(runner, M.diskAtRisk, '/dev/nvme0'), { timeout: 10_000 }).toBe(0);
    expect(v(runner, M.diskPassed, '/dev/sda')).toBe(1);
    expect(v(runner, M.diskStandby, '/dev/sdb')).toBe(1);
    // Never read: asleep from the start, so no SMART values for it, only that it sleeps.
    expect(v(runner, M.diskPassed, '/dev/sdb')).toBeUndefined();
    expect(v(runner, M.smartctlUp, '')).toBeUndefined();
    expect(runner.status().samples.find((s) => s.metric === M.smartctlUp)?.value).toBe(1);
    // Every read asked not to wake a sleeping disk.
    await new Promise((r) => setTimeout(r, 1000));
    const reads = calls(count).filter((l) => !l.includes('--scan-open'));
    expect(reads.every((l) => l.includes('-n standby'))).toBe(true);
    // One round (scan + 3 disks) in a second of 200 ms collections: the 30 min interval holds.
    expect(calls(count)).toHaveLength(4);
  });

  it('a hung smartctl: the collections go on, one smartctl process, the other values stay', async () => {
    process.env.FAKE_SMARTCTL_MODE = 'hang';
    const { runner, count } = start({ timeout: '500ms', devices: [{ name: '/dev/sda' }, { name: '/dev/sdb' }] });
    await new Promise((r) => setTimeout(r, 1500));
    expect(runner.status().up).toBe(true);
    // /dev/sda's smartctl ignores SIGTERM; SIGKILL follows 2 s later: until then, no second one.
    expect(calls(count)).toHaveLength(1);
  });

  it('garbage from smartctl is reported; the exporter stays up', async () => {
    process.env.FAKE_SMARTCTL_MODE = 'garbage';
    const { runner, lines } = start({ devices: [{ name: '/dev/sda' }] });
    await expect.poll(() => lines.some((l) => String(l.problem ?? '').includes('does not understand')), { timeout: 5_000 }).toBe(true);
    expect(runner.status().up).toBe(true);
    expect(runner.status().samples.filter((s) => s.metric === M.diskInfo)).toEqual([]);
  });

  it('smartctl missing: smartctl_up 0 with what to install, mounts and arrays unaffected', async () => {
    const { runner, lines } = start({ command: '/nonexistent/smartctl' });
    await expect.poll(() => runner.status().samples.find((s) => s.metric === M.smartctlUp)?.value, { timeout: 5_000 }).toBe(0);
    expect(runner.status().up).toBe(true);
    expect(lines.some((l) => String(l.problem).includes('was not found'))).toBe(true);
    expect(runner.status().errors.command_missing).toBeGreaterThanOrEqual(1);
    const review = nas.review!(runner.status().samples, Date.now());
    expect(review.findings).toEqual([{ severity: 'warning', subject: 'smartctl', problem: 'could not read the disks (see the log)' }]);
  });
});
