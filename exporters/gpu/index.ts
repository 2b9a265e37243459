/**
 * GPUs: NVIDIA discrete cards through nvidia-smi, Jetson boards through a
 * long-lived tegrastats stream, under one set of metrics (metrics.ts).
 */
import { existsSync } from 'node:fs';
import { Type } from '@sinclair/typebox';
import { defineExporter, type Finding } from '../../collector/contract.js';
import { Duration, StringEnum } from '../../collector/config/schema-types.js';
import { of, percent, valueOf } from '../../collector/samples.js';
import { GPU_METRICS, M } from './metrics.js';
import type { NvidiaSmiConfig } from './nvidia-smi.js';
import type { TegrastatsConfig } from './tegrastats.js';

interface GpuConfig {
  source: 'auto' | 'nvidia-smi' | 'tegrastats';
  tegra_release_file: string;
  nvidia_smi: NvidiaSmiConfig;
  tegrastats: TegrastatsConfig;
}

/** The review's (and the rules') thresholds. */
const HOT_CELSIUS = 85;
const MEMORY_FULL = 0.95;

export const gpu = defineExporter<GpuConfig>({
  name: 'gpu',
  description: 'NVIDIA GPUs (nvidia-smi) and Jetson boards (tegrastats): load, memory, temperature, power, throttling, ECC.',
  schema: Type.Object({
    source: Type.Optional(
      StringEnum(['auto', 'nvidia-smi', 'tegrastats'] as const, {
        default: 'auto',
        description: 'auto: tegrastats on a Jetson (tegra_release_file exists), nvidia-smi elsewhere.',
      }),
    ),
    tegra_release_file: Type.Optional(Type.String({ default: '/etc/nv_tegra_release', description: 'Present on Jetson Linux (L4T): how auto tells a Jetson.' })),
    nvidia_smi: Type.Optional(
      Type.Object(
        {
          command: Type.Optional(Type.String({ default: 'nvidia-smi', description: 'nvidia-smi, or its full path.' })),
          query: Type.Optional(
            StringEnum(['csv', 'xml'] as const, {
              default: 'csv',
              description: 'csv: --query-gpu (light, the default); xml: nvidia-smi -q -x, for a driver whose --query-gpu misbehaves.',
            }),
          ),
          mig: Type.Optional(Type.Boolean({ default: true, description: 'While a GPU is in MIG mode, also read the memory of its instances (nvidia-smi -q -x).' })),
          processes: Type.Optional(Type.Boolean({ default: false, description: 'Also export GPU memory per process name (--query-compute-apps).' })),
          process_budget: Type.Optional(
            Type.Integer({ minimum: 1, maximum: 200, default: 20, description: 'At most this many process names per instance; the rest are summed as "other".' }),
          ),
        },
        { additionalProperties: false, default: {} },
      ),
    ),
    tegrastats: Type.Optional(
      Type.Object(
        {
          command: Type.Optional(Type.String({ default: 'tegrastats', description: 'tegrastats, or its full path (more rails and clocks when run as root).' })),
          interval: Type.Optional(Duration({ default: '5s', description: 'tegrastats --interval: how often it prints a line.' })),
          silent_after: Type.Optional(
            Type.Integer({ minimum: 2, default: 3, description: 'Intervals without a line before the stream is reported silent (and twice that before it is restarted).' }),
          ),
          rail_budgets: Type.Optional(
            Type.Record(Type.String({ pattern: '^[A-Z0-9_]+$' }), Type.Number({ exclusiveMinimum: 0 }), {
              default: {},
              description: 'Watts per power rail (e.g. VDD_IN: 15), for the JetsonRailOverBudget alert.',
            }),
          ),
        },
        { additionalProperties: false, default: {} },
      ),
    ),
  }),
  defaults: { interval: '15s', timeout: '10s' },
  metrics: GPU_METRICS,
  review(samples) {
    const findings: Finding[] = [];
    const infos = of(samples, M.info);
    for (const info of infos) {
      const gpuLabel = info.labels?.gpu ?? '0';
      const subject = `GPU ${gpuLabel}${info.labels?.name ? ` (${info.labels.name})` : ''}`;
      const l = { gpu: gpuLabel };
      const temp = valueOf(samples, M.temperature, l);
      if (temp !== undefined && temp >= HOT_CELSIUS) findings.push({ severity: 'warning', subject, problem: `is hot: ${temp} °C` });
      for (const reason of ['hw_thermal_slowdown', 'sw_thermal_slowdown', 'hw_power_brake_slowdown', 'hw_slowdown']) {
        if (valueOf(samples, M.clockEvent, { gpu: gpuLabel, reason }) === 1) findings.push({ severity: 'warning', subject, problem: `is throttled (${reason.replace(/_/g, ' ')})` });
      }
      const used = valueOf(samples, M.memoryUsed, l);
      const total = valueOf(samples, M.memoryTotal, l);
      if (used !== undefined && total) {
        if (used / total >= MEMORY_FULL) findings.push({ severity: 'warning', subject, problem: `memory nearly full: ${percent(used / total)} used` });
      }
      if ((valueOf(samples, M.eccErrors, { gpu: gpuLabel, type: 'uncorrected' }) ?? 0) > 0) findings.push({ severity: 'critical', subject, problem: 'has uncorrectable ECC errors' });
      if (valueOf(samples, M.remappedFailed, l) === 1) findings.push({ severity: 'critical', subject, problem: 'a memory row remap failed: needs service' });
    }
    for (const budget of of(samples, M.railBudget)) {
      const rail = budget.labels?.rail ?? '';
      const avg = valueOf(samples, M.railAverage, { rail }) ?? valueOf(samples, M.railPower, { rail });
      if (avg !== undefined && avg > budget.value) findings.push({ severity: 'warning', subject: `rail ${rail}`, problem: `over its budget: ${avg.toFixed(1)} W of ${budget.value} W` });
    }
    const hottest = Math.max(...of(samples, M.temperature).map((s) => s.value));
    return { findings, fine: `${infos.length} GPU${infos.length === 1 ? '' : 's'}${Number.isFinite(hottest) ? `, hottest ${hottest} °C` : ''}` };
  },
  async create(ctx, config) {
    const source = config.source === 'auto' ? (existsSync(config.tegra_release_file) ? 'tegrastats' : 'nvidia-smi') : config.source;
    ctx.log.info({ source }, 'gpu source');
    // Loaded here, not at start-up: a host without a GPU configured pays nothing for them.
    if (source === 'tegrastats') return new (await import('./tegrastats.js')).TegrastatsStream(ctx, config.tegrastats);
    const smi = new (await import('./nvidia-smi.js')).NvidiaSmiSource(ctx, config.nvidia_smi);
    return { mode: 'pull', collect: (signal) => smi.collect(signal) };
  },
});
