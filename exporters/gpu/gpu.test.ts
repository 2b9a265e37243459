/**
 * The gpu exporter through the real config loader and instance runner, with the
 * FAKE nvidia-smi and tegrastats of test/fakes replaying recorded real outputs, and
 * their unhappy paths: a driver that hangs, no driver, garbage, a stream that dies
 * or goes silent.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { InstanceRunner } from '../../collector/instance-runner.js';
import { memoryLogger, runnerFor } from '../../test/helpers/runner.js';
import { gpu } from './index.js';
import { M } from './metrics.js';

const SMI = fileURLToPath(new URL('../../test/fakes/nvidia-smi.mjs', import.meta.url));
const TEGRA = fileURLToPath(new URL('../../test/fakes/tegrastats.mjs', import.meta.url));
const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
  for (const k of Object.keys(process.env)) if (k.startsWith('FAKE_')) delete process.env[k];
});

function temp(): string {
  const dir = mkdtempSync(join(tmpdir(), 'hs-gpu-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
const invocations = (file: string) => {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').filter(Boolean);
  } catch {
    return [];
  }
};

function start(instance: Record<string, unknown>): { runner: InstanceRunner; lines: Record<string, unknown>[] } {
  const { log, lines } = memoryLogger();
  const runner = runnerFor(gpu, { name: 'box', ...instance }, { log });
  runner.start();
  cleanups.push(() => runner.stop());
  return { runner, lines };
}
const v = (r: InstanceRunner, metric: string, labels: Record<string, string> = {}) =>
  r.status().samples.find((s) => s.metric === metric && Object.entries(labels).every(([k, x]) => s.labels?.[k] === x))?.value;

describe('gpu exporter, nvidia-smi source (FAKE nvidia-smi replaying real captures)', () => {
  it('collects every GPU metric, asks the driver for its fields once, and sums process memory per name', async () => {
    const count = join(temp(), 'calls');
    process.env.FAKE_NVIDIA_SMI_COUNT = count;
    process.env.FAKE_NVIDIA_SMI_MODEL = 'nvidia-l40s';
    const { runner } = start({ source: 'nvidia-smi', interval: '200ms', nvidia_smi: { command: SMI, processes: true } });
    await expect.poll(() => runner.status().up, { timeout: 10_000 }).toBe(true);
    expect(v(runner, M.info, { gpu: '0', name: 'NVIDIA L40S', source: 'nvidia-smi' })).toBe(1);
    expect(v(runner, M.power, { gpu: '0' })).toBe(110.23);
    expect(v(runner, M.memoryTotal, { gpu: '0' })).toBe(46068 * 1024 ** 2);
    expect(v(runner, M.codecUtilization, { gpu: '0', codec: 'encoder' })).toBe(0.6);
    expect(v(runner, M.clockEvent, { gpu: '0', reason: 'hw_thermal_slowdown' })).toBe(0);
    expect(v(runner, M.remappedFailed, { gpu: '0' })).toBe(0);
    // Two ffmpeg processes (538 MiB + 681 MiB): one series.
    expect(v(runner, M.processMemory, { gpu: '0', process: 'ffmpeg' })).toBe((538 + 681) * 1024 ** 2);
    expect(v(runner, M.unparsed, { source: 'nvidia-smi' })).toBe(0);
    await expect.poll(() => invocations(count).filter((l) => l.startsWith('--query-gpu')).length, { timeout: 5_000 }).toBeGreaterThanOrEqual(3);
    expect(invocations(count).filter((l) => l === '--help-query-gpu')).toHaveLength(1);
  });

  it('a hung nvidia-smi: reported as a timeout, and no second one is started while it lives', async () => {
    const count = join(temp(), 'calls');
    process.env.FAKE_NVIDIA_SMI_COUNT = count;
    process.env.FAKE_NVIDIA_SMI_MODE = 'hang';
    const { runner } = start({ source: 'nvidia-smi', interval: '200ms', timeout: '500ms', nvidia_smi: { command: SMI } });
    await expect.poll(() => runner.status().lastError?.reason, { timeout: 5_000 }).toBe('timeout');
    expect(runner.status().up).toBe(false);
    // It ignores SIGTERM; SIGKILL follows 2 s after the timeout. Meanwhile several ticks came and went: one process.
    await new Promise((r) => setTimeout(r, 1000));
    expect(invocations(count)).toHaveLength(1);
    expect(runner.status().errors.timeout).toBeGreaterThanOrEqual(2);
    expect(runner.status().samples.filter((s) => s.metric.startsWith('homestation_gpu_'))).toEqual([]);
  });

  it('no driver: unreachable, with what to do', async () => {
    process.env.FAKE_NVIDIA_SMI_MODE = 'nodriver';
    const { runner } = start({ source: 'nvidia-smi', interval: '200ms', nvidia_smi: { command: SMI } });
    await expect.poll(() => runner.status().lastError?.reason, { timeout: 5_000 }).toBe('unreachable');
    expect(runner.status().lastError?.message).toMatch(/couldn't communicate with the NVIDIA driver/);
    expect(runner.status().lastError?.hint).toMatch(/dmesg/);
  });

  it('garbage instead of CSV: a parse error naming what was not understood, logged once', async () => {
    process.env.FAKE_NVIDIA_SMI_MODE = 'garbage';
    const { runner, lines } = start({ source: 'nvidia-smi', interval: '200ms', nvidia_smi: { command: SMI } });
    await expect.poll(() => runner.status().lastError?.reason, { timeout: 5_000 }).toBe('parse');
    await new Promise((r) => setTimeout(r, 600));
    // --help-query-gpu printed garbage too: nothing this exporter reads.
    expect(runner.status().lastError?.message).toMatch(/listed no field this exporter reads/);
    expect(lines.filter((l) => l.msg === 'collection failed')).toHaveLength(1);
  });

  it('query: xml reads the whole report instead (a driver whose --query-gpu misbehaves)', async () => {
    const count = join(temp(), 'calls');
    process.env.FAKE_NVIDIA_SMI_COUNT = count;
    const { runner } = start({ source: 'nvidia-smi', interval: '200ms', nvidia_smi: { command: SMI, query: 'xml', processes: true } });
    await expect.poll(() => runner.status().up, { timeout: 10_000 }).toBe(true);
    expect(v(runner, M.info, { name: 'Tesla T4', driver: '515.105.01' })).toBe(1);
    expect(v(runner, M.power)).toBe(26.78);
    expect(v(runner, M.processMemory, { process: 'python' })).toBe(1005 * 1024 ** 2);
    expect(new Set(invocations(count))).toEqual(new Set(['-q -x']));
  });

  it('while a GPU is in MIG mode, its instances are read from the XML report too', async () => {
    const dir = temp();
    const { writeFileSync } = await import('node:fs');
    const xml = join(dir, 'mig.xml');
    writeFileSync(
      xml,
      '<?xml version="1.0" ?>\n<nvidia_smi_log><gpu id="00000000:00:09.0"><mig_mode><current_mig>Enabled</current_mig></mig_mode><mig_devices><mig_device><gpu_instance_id>1</gpu_instance_id><compute_instance_id>0</compute_instance_id><fb_memory_usage><total>9856 MiB</total><used>2296 MiB</used></fb_memory_usage></mig_device></mig_devices></gpu></nvidia_smi_log>\n',
    );
    process.env.FAKE_NVIDIA_SMI_MODEL = 'nvidia-h100-mig';
    process.env.FAKE_NVIDIA_SMI_XML = xml;
    const { runner } = start({ source: 'nvidia-smi', interval: '200ms', nvidia_smi: { command: SMI } });
    await expect.poll(() => runner.status().up, { timeout: 10_000 }).toBe(true);
    expect(v(runner, M.migEnabled, { gpu: '0' })).toBe(1);
    expect(v(runner, M.migMemoryUsed, { gpu: '0', instance_id: '1/0' })).toBe(2296 * 1024 ** 2);
    // The L40S is not in MIG mode: no -q -x for it.
    process.env.FAKE_NVIDIA_SMI_MODEL = 'nvidia-l40s';
    const count = join(dir, 'calls');
    process.env.FAKE_NVIDIA_SMI_COUNT = count;
    const plain = start({ name: 'plain', source: 'nvidia-smi', interval: '200ms', nvidia_smi: { command: SMI } });
    await expect.poll(() => plain.runner.status().up, { timeout: 10_000 }).toBe(true);
    expect(invocations(count).filter((l) => l === '-q -x')).toEqual([]);
  });

  it('a missing nvidia-smi says what to install', async () => {
    const { runner } = start({ source: 'nvidia-smi', interval: '200ms', nvidia_smi: { command: '/nonexistent/nvidia-smi' } });
    await expect.poll(() => runner.status().lastError?.reason, { timeout: 5_000 }).toBe('command_missing');
    expect(runner.status().lastError?.hint).toMatch(/nvidia-smi/);
  });
});

describe('gpu exporter, tegrastats source (FAKE tegrastats replaying real lines)', () => {
  it('follows one long-lived stream, line by line', async () => {
    const count = join(temp(), 'starts');
    process.env.FAKE_TEGRASTATS_COUNT = count;
    const { runner } = start({ source: 'tegrastats', tegrastats: { command: TEGRA, interval: '100ms', rail_budgets: { VDD_IN: 10 } } });
    await expect.poll(() => runner.status().up, { timeout: 10_000 }).toBe(true);
    // The recorded lines cycle: the Orin's 12.5 W VDD_IN line comes round.
    await expect.poll(() => v(runner, M.railPower, { rail: 'VDD_IN' }), { timeout: 5_000 }).toBe(12.479);
    expect(v(runner, M.railBudget, { rail: 'VDD_IN' })).toBe(10);
    await expect.poll(() => v(runner, M.utilization, { gpu: '0' }), { timeout: 5_000 }).toBe(0.63);
    expect(invocations(count)).toEqual(['--interval 100']);
  });

  it('a stream that goes silent: down with the last reading kept, then killed and started again', async () => {
    const count = join(temp(), 'starts');
    process.env.FAKE_TEGRASTATS_COUNT = count;
    process.env.FAKE_TEGRASTATS_MODE = 'silent-after=2';
    const { runner, lines } = start({ source: 'tegrastats', tegrastats: { command: TEGRA, interval: '100ms', silent_after: 3 } });
    await expect.poll(() => runner.status().up, { timeout: 10_000 }).toBe(true);
    await expect.poll(() => runner.status().up, { timeout: 5_000 }).toBe(false);
    await expect.poll(() => runner.status().lastError?.message, { timeout: 2_000 }).toMatch(/printed nothing for/);
    expect(runner.status().lastError).toMatchObject({ reason: 'timeout' });
    // The last-known reading stays (the stream contract), its timestamp says how old it is.
    expect(v(runner, M.boardMemoryUsed, { memory: 'ram' })).toBeGreaterThan(0);
    expect(v(runner, M.readingAge, { source: 'tegrastats' })! * 1000).toBeLessThan(Date.now() - 250);
    await expect.poll(() => invocations(count).length, { timeout: 5_000 }).toBeGreaterThanOrEqual(2);
    expect(lines.some((l) => l.msg === 'tegrastats silent: killed and started again')).toBe(true);
    await expect.poll(() => runner.status().up, { timeout: 5_000 }).toBe(true);
  });

  it('a stream that dies is started again, with backoff', async () => {
    const count = join(temp(), 'starts');
    process.env.FAKE_TEGRASTATS_COUNT = count;
    process.env.FAKE_TEGRASTATS_MODE = 'die-after=2';
    const { runner, lines } = start({ source: 'tegrastats', tegrastats: { command: TEGRA, interval: '100ms' } });
    await expect.poll(() => invocations(count).length, { timeout: 10_000 }).toBeGreaterThanOrEqual(2).catch((e: Error) => { throw new Error(`${e.message} ${JSON.stringify(lines)}`); });
    expect(runner.status().errors.other).toBeGreaterThanOrEqual(1);
    await expect.poll(() => runner.status().up, { timeout: 5_000 }).toBe(true);
  });

  it('garbage between lines is counted and logged once; the readings go on', async () => {
    process.env.FAKE_TEGRASTATS_MODE = 'garbage';
    const { runner, lines } = start({ source: 'tegrastats', tegrastats: { command: TEGRA, interval: '100ms' } });
    await expect.poll(() => runner.status().up, { timeout: 10_000 }).toBe(true);
    await new Promise((r) => setTimeout(r, 800));
    expect(runner.status().up).toBe(true);
    expect(lines.filter((l) => l.token === '@@').length).toBe(1);
  });

  it('auto picks tegrastats where the Jetson release file exists, nvidia-smi elsewhere', async () => {
    const dir = temp();
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'nv_tegra_release'), '# R36 (release), REVISION: 4.0\n');
    const jetson = start({ tegra_release_file: join(dir, 'nv_tegra_release'), tegrastats: { command: TEGRA, interval: '100ms' }, nvidia_smi: { command: '/nonexistent' } });
    await expect.poll(() => jetson.runner.status().up, { timeout: 10_000 }).toBe(true);
    expect(jetson.runner.status().mode).toBe('stream');
    const desktop = start({ tegra_release_file: join(dir, 'absent'), interval: '200ms', nvidia_smi: { command: SMI } });
    await expect.poll(() => desktop.runner.status().up, { timeout: 10_000 }).toBe(true);
    expect(desktop.runner.status().mode).toBe('pull');
  });
});
