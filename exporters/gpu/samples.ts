/** The parsed readings of either source as samples of the gpu catalogue. */
import type { Sample } from '../../collector/contract.js';
import { M } from './metrics.js';
import { CLOCK_EVENT_REASONS, type GpuReading, type Property } from './parse/nvidia-smi.js';
import type { MigDevice } from './parse/nvidia-xml.js';
import type { TegraSample } from './parse/tegrastats.js';

const MIB = 1024 ** 2;

/** Samples of one nvidia-smi query. */
export function nvidiaSamples(gpus: readonly GpuReading[]): Sample[] {
  const out: Sample[] = [];
  for (const g of gpus) {
    const gpu = g.index;
    const t = g.text;
    out.push({
      metric: M.info,
      labels: { gpu, name: t.name ?? '', uuid: t.uuid ?? '', driver: t.driver ?? '', vbios: t.vbios ?? '', pci_bus_id: t.pciBusId ?? '', source: 'nvidia-smi' },
      value: 1,
    });
    const v = g.values;
    const put = (metric: string, property: Property, labels: Record<string, string> = {}) => {
      const value = v[property];
      if (value !== undefined) out.push({ metric, labels: { gpu, ...labels }, value });
    };
    put(M.utilization, 'utilization');
    put(M.memoryUtilization, 'memoryUtilization');
    put(M.codecUtilization, 'encoderUtilization', { codec: 'encoder' });
    put(M.codecUtilization, 'decoderUtilization', { codec: 'decoder' });
    put(M.memoryUsed, 'memoryUsed');
    put(M.memoryTotal, 'memoryTotal');
    put(M.temperature, 'temperature');
    put(M.memoryTemperature, 'memoryTemperature');
    put(M.power, 'powerDraw');
    put(M.powerLimit, 'powerLimit');
    put(M.clock, 'clockGraphics', { clock: 'graphics' });
    put(M.clock, 'clockSm', { clock: 'sm' });
    put(M.clock, 'clockMemory', { clock: 'memory' });
    put(M.clock, 'clockVideo', { clock: 'video' });
    put(M.fan, 'fanSpeed');
    put(M.pstate, 'pstate');
    if (g.clockEventReasons !== undefined) {
      for (const [reason, bit] of CLOCK_EVENT_REASONS) out.push({ metric: M.clockEvent, labels: { gpu, reason }, value: (g.clockEventReasons & bit) !== 0n ? 1 : 0 });
    }
    put(M.eccEnabled, 'eccMode');
    put(M.eccErrors, 'eccCorrected', { type: 'corrected' });
    put(M.eccErrors, 'eccUncorrected', { type: 'uncorrected' });
    put(M.retiredPages, 'retiredSingleBit', { cause: 'single_bit_ecc' });
    put(M.retiredPages, 'retiredDoubleBit', { cause: 'double_bit_ecc' });
    put(M.retiredPending, 'retiredPending');
    put(M.remappedRows, 'remappedCorrectable', { type: 'correctable' });
    put(M.remappedRows, 'remappedUncorrectable', { type: 'uncorrectable' });
    put(M.remappedPending, 'remappedPending');
    put(M.remappedFailed, 'remappedFailure');
    put(M.migEnabled, 'migMode');
  }
  return out;
}

/** Samples of the MIG instances of `nvidia-smi -q -x`. */
export function migSamples(devices: readonly MigDevice[]): Sample[] {
  const out: Sample[] = [];
  for (const d of devices) {
    const labels = { gpu: d.gpu, instance_id: d.instance };
    if (d.usedBytes !== undefined) out.push({ metric: M.migMemoryUsed, labels, value: d.usedBytes });
    if (d.totalBytes !== undefined) out.push({ metric: M.migMemoryTotal, labels, value: d.totalBytes });
  }
  return out;
}

/** GPU memory per process name, at most `budget` names (the largest), the rest summed as "other". */
export function processSamples(list: readonly { gpu: string; process: string; bytes?: number }[], budget: number): Sample[] {
  const sums = new Map<string, { gpu: string; process: string; bytes: number }>();
  for (const p of list) {
    if (p.bytes === undefined) continue;
    const k = `${p.gpu}\u0000${p.process}`;
    const s = sums.get(k) ?? { gpu: p.gpu, process: p.process, bytes: 0 };
    s.bytes += p.bytes;
    sums.set(k, s);
  }
  const all = [...sums.values()].sort((a, b) => b.bytes - a.bytes);
  const other = new Map<string, number>();
  for (const s of all.slice(budget)) other.set(s.gpu, (other.get(s.gpu) ?? 0) + s.bytes);
  return [
    ...all.slice(0, budget).map((s) => ({ metric: M.processMemory, labels: { gpu: s.gpu, process: s.process }, value: s.bytes })),
    ...[...other].map(([gpu, bytes]) => ({ metric: M.processMemory, labels: { gpu, process: 'other' }, value: bytes })),
  ];
}

/** Samples of one tegrastats line. `budgets` are the configured rail budgets in watts. */
export function tegraSamples(s: TegraSample, budgets: Readonly<Record<string, number>> = {}): Sample[] {
  const out: Sample[] = [];
  for (const g of s.gpus) {
    const gpu = String(g.index);
    out.push({ metric: M.info, labels: { gpu, name: g.index === 0 ? 'Jetson GR3D' : `Jetson GR3D${g.index + 1}`, uuid: '', driver: '', vbios: '', pci_bus_id: '', source: 'tegrastats' }, value: 1 });
    if (g.utilization !== undefined) out.push({ metric: M.utilization, labels: { gpu }, value: g.utilization });
    if (g.mhz !== undefined) out.push({ metric: M.clock, labels: { gpu, clock: 'graphics' }, value: g.mhz * 1e6 });
  }
  if (s.emc) {
    if (s.emc.utilization !== undefined) out.push({ metric: M.memoryUtilization, labels: { gpu: '0' }, value: s.emc.utilization });
    if (s.emc.mhz !== undefined) out.push({ metric: M.clock, labels: { gpu: '0', clock: 'memory' }, value: s.emc.mhz * 1e6 });
  }
  // The integrated GPU's temperature is the board's GPU zone.
  const gpuZone = s.temperatures.find((t) => t.sensor === 'gpu');
  if (gpuZone && s.gpus.length) out.push({ metric: M.temperature, labels: { gpu: '0' }, value: gpuZone.celsius });
  for (const [memory, m] of [['ram', s.ram], ['swap', s.swap]] as const) {
    if (!m) continue;
    out.push({ metric: M.boardMemoryUsed, labels: { memory }, value: m.usedMiB * MIB });
    out.push({ metric: M.boardMemoryTotal, labels: { memory }, value: m.totalMiB * MIB });
  }
  for (const c of s.cpus) {
    const cpu = String(c.index);
    out.push({ metric: M.cpuOnline, labels: { cpu }, value: c.online ? 1 : 0 });
    if (c.utilization !== undefined) out.push({ metric: M.cpuUtilization, labels: { cpu }, value: c.utilization });
    if (c.mhz !== undefined) out.push({ metric: M.cpuClock, labels: { cpu }, value: c.mhz * 1e6 });
  }
  for (const e of s.engines) out.push({ metric: M.engineClock, labels: { engine: e.name }, value: e.mhz * 1e6 });
  for (const t of s.temperatures) out.push({ metric: M.boardTemperature, labels: { sensor: t.sensor }, value: t.celsius });
  for (const r of s.rails) {
    out.push({ metric: M.railPower, labels: { rail: r.name }, value: r.watts });
    if (r.averageWatts !== undefined) out.push({ metric: M.railAverage, labels: { rail: r.name }, value: r.averageWatts });
  }
  for (const [rail, watts] of Object.entries(budgets)) out.push({ metric: M.railBudget, labels: { rail }, value: watts });
  return out;
}
