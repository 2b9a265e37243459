/**
 * The gpu exporter as a user runs it: `homestation run` with an NVIDIA instance (the
 * FAKE nvidia-smi replaying the H100 capture, switched to hanging through a file, as a
 * driver hangs under a running HomeStation) and a Jetson instance (the FAKE tegrastats
 * replaying real Orin lines), scraped by the real Prometheus with the shipped rules
 * (the test overlay: 1 s scrape and evaluation, the `for:` of the alerts under test
 * shortened). Asserted on what Prometheus stored and evaluated: the ECC counter is
 * born at 0, a healthy GPU fires nothing, the rail budget join matches the labels
 * the exporter really emits, and a hung nvidia-smi fires GPUExporterNotResponsive.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type Daemon } from '../helpers/cli.js';
import { prometheusApi, stackPorts, startTools, writeOverlay, type StackPorts } from '../helpers/stack.js';
import { missingToolsMessage } from '../helpers/tools.js';

const missing = missingToolsMessage(['prometheus']);
const SMI = fileURLToPath(new URL('../fakes/nvidia-smi.mjs', import.meta.url));
const TEGRA = fileURLToPath(new URL('../fakes/tegrastats.mjs', import.meta.url));
let dir: string;
let ports: StackPorts;
let collector: Daemon | undefined;
let parts: ReturnType<typeof startTools> | undefined;
const t0 = Date.now() / 1000;

const { query, history, alerts } = prometheusApi(() => ports.prometheus, t0);

beforeAll(async () => {
  if (missing) {
    if (process.env.CI === 'true') throw new Error(missing);
    return;
  }
  dir = mkdtempSync(join(tmpdir(), 'hs-gpu-e2e-'));
  ports = await stackPorts();
  writeFileSync(join(dir, 'token'), 'unused\n');
  const files = writeOverlay(dir, ports, join(dir, 'token'), 'unused', { forOverrides: { GPUExporterNotResponsive: '3s', JetsonRailOverBudget: '2s' } });
  // nvidia-smi as the host has it, its behaviour switched through a file while HomeStation runs.
  writeFileSync(join(dir, 'mode'), 'normal\n');
  const wrapper = join(dir, 'nvidia-smi');
  writeFileSync(wrapper, `#!/bin/sh\nFAKE_NVIDIA_SMI_MODE=$(cat ${join(dir, 'mode')}) FAKE_NVIDIA_SMI_MODEL=nvidia-h100-mig exec ${SMI} "$@"\n`);
  chmodSync(wrapper, 0o755);
  // One board's lines, as a real tegrastats prints them (the same rails every line): the Orin Nano JetPack 6 capture.
  const orin = readFileSync(fileURLToPath(new URL('../../exporters/gpu/fixtures/tegrastats/beszel__agent-gpu_test-jetson-lines.txt', import.meta.url)), 'utf8')
    .split('\n')
    .find((l) => l.startsWith('11-15-2024'))!;
  writeFileSync(join(dir, 'orin.txt'), `${orin}\n`);
  const config = join(dir, 'homestation.yaml');
  writeFileSync(
    config,
    `server: { host: 127.0.0.1, port: ${ports.homestation} }
exporters:
  gpu:
    - name: h100
      source: nvidia-smi
      interval: 1s
      timeout: 1s
      nvidia_smi: { command: ${wrapper}, mig: false }
    - name: orin
      source: tegrastats
      tegrastats: { command: ${TEGRA}, interval: 200ms, rail_budgets: { VDD_IN: 1 } }
`,
  );
  parts = startTools(files, ports, dir, ['prometheus']);
  collector = await startDaemon(['--config', config], { FAKE_TEGRASTATS_LINES: join(dir, 'orin.txt') });
}, 120_000);

afterAll(async () => {
  if (missing) return;
  await collector?.stop();
  await parts?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe.runIf(!missing)('the gpu exporter through the real Prometheus and the shipped rules', () => {
  it('stores the series as emitted: the ECC counter born at 0, and a healthy H100 fires nothing', async () => {
    await expect.poll(async () => (await query('up{job="homestation"}'))[0]?.value[1], { timeout: 30_000 }).toBe('1');
    await expect.poll(async () => (await query('homestation_gpu_info{exporter_instance="h100"}')).length, { timeout: 20_000 }).toBe(1);
    await new Promise((r) => setTimeout(r, 4000));
    expect((await history('homestation_gpu_ecc_errors_total{exporter_instance="h100",type="uncorrected"}'))[0]?.[1]).toBe('0');
    const gpuAlerts = (await alerts()).filter((a) => a.labels.alertname?.startsWith('GPU'));
    expect(gpuAlerts).toEqual([]);
  }, 60_000);

  it('JetsonRailOverBudget fires for the rail over its budget, on the labels the exporter really emits', async () => {
    await expect
      .poll(async () => (await alerts()).filter((a) => a.labels.alertname === 'JetsonRailOverBudget' && a.state === 'firing').map((a) => a.labels.rail), { timeout: 30_000, interval: 500 })
      .toEqual(['VDD_IN']);
  }, 60_000);

  it('a hung nvidia-smi fires GPUExporterNotResponsive, and it resolves when the driver answers again', async () => {
    writeFileSync(join(dir, 'mode'), 'hang\n');
    await expect
      .poll(async () => (await alerts()).some((a) => a.labels.alertname === 'GPUExporterNotResponsive' && a.labels.exporter_instance === 'h100' && a.state === 'firing'), { timeout: 30_000, interval: 500 })
      .toBe(true);
    // The Jetson instance is unaffected.
    expect((await alerts()).filter((a) => a.labels.alertname === 'GPUExporterNotResponsive').map((a) => a.labels.exporter_instance)).toEqual(['h100']);
    writeFileSync(join(dir, 'mode'), 'normal\n');
    await expect
      .poll(async () => (await alerts()).some((a) => a.labels.alertname === 'GPUExporterNotResponsive'), { timeout: 30_000, interval: 500 })
      .toBe(false);
  }, 90_000);
});
