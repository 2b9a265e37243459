/**
 * `nvidia-smi --query-gpu=... --format=csv[,noheader][,nounits]` and the field list of
 * `nvidia-smi --help-query-gpu`, parsed. Fields are asked for by the names the
 * installed driver lists (older drivers know `clocks.gr` and
 * `clocks_throttle_reasons.active`, newer ones `clocks.current.graphics` and
 * `clocks_event_reasons.active`); a field the driver does not list is not asked for.
 *
 * Values: numbers with or without their unit (`38 %`, `575 MiB`, `39.32 W`,
 * `765 MHz`), hex bit masks (`0x0000000000000004`), `Enabled`/`Disabled`, `P8`.
 * `[N/A]`, `N/A`, `[Not Supported]`, `[Insufficient Permissions]` and
 * `[Requested functionality has been deprecated]` mean "no value": the series is
 * absent. Anything else unexpected is reported in `problems` and the rest is kept.
 */

/** The properties HomeStation reads, each with the names drivers have given it (newest first). */
export const PROPERTIES = {
  index: ['index'],
  uuid: ['uuid', 'gpu_uuid'],
  name: ['name', 'gpu_name'],
  driver: ['driver_version'],
  vbios: ['vbios_version'],
  pciBusId: ['pci.bus_id', 'gpu_bus_id'],
  utilization: ['utilization.gpu'],
  memoryUtilization: ['utilization.memory'],
  encoderUtilization: ['utilization.encoder'],
  decoderUtilization: ['utilization.decoder'],
  memoryTotal: ['memory.total'],
  memoryUsed: ['memory.used'],
  temperature: ['temperature.gpu'],
  memoryTemperature: ['temperature.memory'],
  powerDraw: ['power.draw', 'power.draw.instant', 'power.draw.average'],
  powerLimit: ['enforced.power.limit', 'power.limit'],
  clockGraphics: ['clocks.current.graphics', 'clocks.gr'],
  clockSm: ['clocks.current.sm', 'clocks.sm'],
  clockMemory: ['clocks.current.memory', 'clocks.mem'],
  clockVideo: ['clocks.current.video', 'clocks.video'],
  fanSpeed: ['fan.speed'],
  pstate: ['pstate'],
  clockEventReasons: ['clocks_event_reasons.active', 'clocks_throttle_reasons.active'],
  eccMode: ['ecc.mode.current'],
  eccCorrected: ['ecc.errors.corrected.volatile.total'],
  eccUncorrected: ['ecc.errors.uncorrected.volatile.total'],
  retiredSingleBit: ['retired_pages.single_bit_ecc.count', 'retired_pages.sbe'],
  retiredDoubleBit: ['retired_pages.double_bit.count', 'retired_pages.dbe'],
  retiredPending: ['retired_pages.pending'],
  remappedCorrectable: ['remapped_rows.correctable'],
  remappedUncorrectable: ['remapped_rows.uncorrectable'],
  remappedPending: ['remapped_rows.pending'],
  remappedFailure: ['remapped_rows.failure'],
  migMode: ['mig.mode.current'],
} as const;
export type Property = keyof typeof PROPERTIES;
const TEXT: ReadonlySet<Property> = new Set(['uuid', 'name', 'driver', 'vbios', 'pciBusId']);

/**
 * The clock event ("throttle") reasons, by their bit in `clocks_event_reasons.active`
 * (nvml's nvmlClocksEventReason*). Bounded: the `reason` label takes these values only.
 */
export const CLOCK_EVENT_REASONS = [
  ['gpu_idle', 0x1n],
  ['applications_clocks_setting', 0x2n],
  ['sw_power_cap', 0x4n],
  ['hw_slowdown', 0x8n],
  ['sync_boost', 0x10n],
  ['sw_thermal_slowdown', 0x20n],
  ['hw_thermal_slowdown', 0x40n],
  ['hw_power_brake_slowdown', 0x80n],
  ['display_clock_setting', 0x100n],
] as const;

/** One GPU's row. Numbers are in base units (bytes, hertz, watts, ratios 0..1). */
export interface GpuReading {
  readonly index: string;
  readonly text: Partial<Record<Property, string>>;
  readonly values: Partial<Record<Property, number>>;
  /** Active clock event reasons, where the driver reports the mask. */
  readonly clockEventReasons?: bigint;
}

export interface QueryResult {
  readonly gpus: GpuReading[];
  /** What was not understood, with the line and field: reported, the rest kept. */
  readonly problems: string[];
}

/** Every field name `nvidia-smi --help-query-gpu` lists (`"clocks.current.graphics" or "clocks.gr"`). */
export function parseHelpQueryGpu(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split('\n')) {
    if (!line.startsWith('"')) continue;
    for (const m of line.matchAll(/"([\w.]+)"/g)) names.add(m[1] as string);
  }
  return names;
}

/** For each property, the first of its names that the driver lists. */
export function chooseFields(available: ReadonlySet<string>): { property: Property; field: string }[] {
  const out: { property: Property; field: string }[] = [];
  for (const [property, names] of Object.entries(PROPERTIES) as [Property, readonly string[]][]) {
    const field = names.find((n) => available.has(n));
    if (field) out.push({ property, field });
  }
  return out;
}

const byField = new Map<string, Property>();
/** A name's place among its property's names: with several in one header (a full capture), the first listed wins. */
const rankOf = new Map<string, number>();
for (const [property, names] of Object.entries(PROPERTIES) as [Property, readonly string[]][]) {
  names.forEach((n, i) => {
    byField.set(n, property);
    rankOf.set(n, i);
  });
}

/** Values that mean "not available here": the series is left out, nothing reported. */
const ABSENT = /^(\[?N\/A\]?|\[Not Supported\]|\[Insufficient Permissions\]|\[Requested functionality has been deprecated\]|\[Unknown\])$/;
const NUMBER = /^(-?\d+(?:\.\d+)?)(?: ?(%|MiB|KiB|GiB|W|MHz|us|ms|C))?$/;
const UNIT_SCALE: Record<string, number> = { MiB: 1024 ** 2, KiB: 1024, GiB: 1024 ** 3, MHz: 1e6 };

/** Converts one value of a property to base units; undefined when it is "no value"; throws on nonsense. */
function convert(property: Property, raw: string): number | bigint | undefined {
  if (ABSENT.test(raw)) return undefined;
  switch (property) {
    case 'pstate': {
      const m = /^P(\d{1,2})$/.exec(raw);
      if (!m) throw new Error(`not a performance state: "${raw}"`);
      return Number(m[1]);
    }
    case 'clockEventReasons':
      if (!/^0x[0-9a-fA-F]+$/.test(raw)) throw new Error(`not a bit mask: "${raw}"`);
      return BigInt(raw);
    case 'eccMode':
    case 'migMode':
    case 'remappedPending':
    case 'remappedFailure':
    case 'retiredPending':
      if (/^(Enabled|Yes)$/i.test(raw)) return 1;
      if (/^(Disabled|No)$/i.test(raw)) return 0;
      break;
    default:
      break;
  }
  const m = NUMBER.exec(raw);
  if (!m) throw new Error(`not a number: "${raw}"`);
  const n = Number(m[1]);
  const unit = m[2];
  if (property === 'utilization' || property === 'memoryUtilization' || property === 'encoderUtilization' || property === 'decoderUtilization' || property === 'fanSpeed') return n / 100;
  if (property === 'memoryTotal' || property === 'memoryUsed') return n * UNIT_SCALE[unit ?? 'MiB']!;
  if (property.startsWith('clock')) return n * 1e6;
  return n;
}

/**
 * Parses the CSV. `fields` are the names asked for, in order (with `noheader`);
 * without them the first line must be the header (`fan.speed [%]`), as with
 * `--format=csv`. A header line is recognised and skipped either way.
 */
export function parseQueryGpu(text: string, fields?: readonly string[]): QueryResult {
  const problems: string[] = [];
  const gpus: GpuReading[] = [];
  const lines = text.split('\n').map((l, i) => ({ n: i + 1, cells: l.split(',').map((c) => c.trim()) })).filter((l) => l.cells.join('') !== '' && !l.cells[0]!.startsWith('#'));
  let names = fields ? [...fields] : undefined;
  const headerOf = (cells: string[]) => cells.map((c) => c.replace(/\s*\[[^\]]*\]$/, ''));
  const first = lines[0];
  if (first) {
    const header = headerOf(first.cells);
    const looksLikeHeader = header.every((h) => /^[a-z][\w.]*$/.test(h)) && header.some((h) => byField.has(h));
    if (looksLikeHeader && (!names || header[0] === names[0])) {
      names = header;
      lines.shift();
    }
  }
  if (!names) return { gpus, problems: lines.length ? ['no header line and no field list: cannot tell the columns apart'] : [] };
  for (const { n, cells } of lines) {
    if (cells.length !== names.length) {
      problems.push(`line ${n}: ${cells.length} values for ${names.length} fields; line skipped`);
      continue;
    }
    const text: Partial<Record<Property, string>> = {};
    const values: Partial<Record<Property, number>> = {};
    let reasons: bigint | undefined;
    let index: string | undefined;
    const rank: Partial<Record<Property, number>> = {};
    cells.forEach((raw, i) => {
      const property = byField.get(names[i] as string);
      if (!property) return;
      const r = rankOf.get(names[i] as string) as number;
      if (ABSENT.test(raw) || (rank[property] ?? Infinity) < r) return;
      rank[property] = r;
      if (property === 'index') {
        if (/^\d+$/.test(raw)) index = raw;
        else problems.push(`line ${n}: index: not a number: "${raw}"`);
        return;
      }
      if (TEXT.has(property)) {
        if (!ABSENT.test(raw)) text[property] = raw;
        return;
      }
      try {
        const v = convert(property, raw);
        if (typeof v === 'bigint') reasons = v;
        else if (v !== undefined) values[property] = v;
      } catch (err) {
        problems.push(`line ${n}: ${names[i]}: ${(err as Error).message}`);
      }
    });
    // Without an index column (the header-mode captures list it), the row's position is the index.
    index ??= names.includes('index') ? undefined : String(gpus.length);
    if (index === undefined) {
      problems.push(`line ${n}: no GPU index; line skipped`);
      continue;
    }
    gpus.push({ index, text, values, ...(reasons !== undefined ? { clockEventReasons: reasons } : {}) });
  }
  return { gpus, problems };
}

/** The fields asked of `nvidia-smi --query-compute-apps` (with `--format=csv,noheader,nounits`). */
export const COMPUTE_APPS_FIELDS = ['gpu_uuid', 'pid', 'process_name', 'used_gpu_memory'] as const;

/** `nvidia-smi --query-compute-apps=...`: with a header (any field order) or without (COMPUTE_APPS_FIELDS). */
export function parseComputeApps(text: string): { uuid: string; pid: number; process: string; bytes?: number }[] {
  const out: { uuid: string; pid: number; process: string; bytes?: number }[] = [];
  let columns: string[] = [...COMPUTE_APPS_FIELDS];
  for (const [i, line] of text.split('\n').entries()) {
    const cells = line.split(',').map((c) => c.trim());
    if (i === 0 && cells.includes('pid')) {
      columns = cells.map((c) => c.replace(/\s*\[[^\]]*\]$/, ''));
      continue;
    }
    const at = (name: string) => cells[columns.indexOf(name)] ?? '';
    if (cells.length !== columns.length || !/^\d+$/.test(at('pid'))) continue;
    const mem = NUMBER.exec(at('used_gpu_memory'));
    const path = ABSENT.test(at('process_name')) || /^\[.*\]$/.test(at('process_name')) ? 'unknown' : at('process_name');
    out.push({ uuid: at('gpu_uuid'), pid: Number(at('pid')), process: path.split('/').pop() || path, ...(mem ? { bytes: Number(mem[1]) * 1024 ** 2 } : {}) });
  }
  return out;
}
