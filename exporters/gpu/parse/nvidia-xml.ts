/**
 * `nvidia-smi -q -x`, parsed into the same readings as the CSV query, across the
 * schema versions drivers have shipped (nvsmi_device_v10 to v13, and drivers that
 * print no DOCTYPE at all). What moved between them:
 *
 * - power: `power_readings/power_draw` (v10, v11), `gpu_power_readings/power_draw`
 *   (v12), `gpu_power_readings/average_power_draw` and `instant_power_draw` (v13);
 *   the limit `enforced_power_limit`, `power_limit` or `current_power_limit`;
 * - clock reasons: `clocks_throttle_reasons/clocks_throttle_reason_*` (to v12),
 *   `clocks_event_reasons/clocks_event_reason_*` (v13), each "Active"/"Not Active";
 * - ECC: `volatile/single_bit|double_bit/total` (v10), `volatile/{sram,dram}_{correctable,
 *   uncorrectable}` (v11, v12), `sram_uncorrectable_parity|_secded` (v13);
 * - MIG: `mig_devices/mig_device` with its own `fb_memory_usage` (v12+).
 *
 * "N/A", "Not Supported" and "Requested functionality has been deprecated" are
 * absent values. XML is read with saxes (a strict, maintained XML tokenizer).
 */
import { SaxesParser } from 'saxes';
import { CLOCK_EVENT_REASONS, type GpuReading, type Property } from './nvidia-smi.js';

interface Element {
  readonly name: string;
  readonly attributes: Record<string, string>;
  readonly children: Element[];
  text: string;
}

export interface MigDevice {
  readonly gpu: string;
  /** "gpu_instance_id/compute_instance_id", as nvidia-smi numbers them. */
  readonly instance: string;
  readonly usedBytes?: number;
  readonly totalBytes?: number;
}

export interface XmlResult {
  readonly gpus: GpuReading[];
  readonly mig: MigDevice[];
  readonly processes: { gpu: string; pid: number; process: string; bytes?: number }[];
  readonly problems: string[];
}

/** The element tree of an XML document (text trimmed); throws on malformed XML. */
export function parseXmlTree(xml: string): Element {
  const parser = new SaxesParser();
  const root: Element = { name: '#document', attributes: {}, children: [], text: '' };
  const stack: Element[] = [root];
  parser.on('opentag', (tag) => {
    const el: Element = { name: tag.name, attributes: tag.attributes as Record<string, string>, children: [], text: '' };
    stack[stack.length - 1]!.children.push(el);
    stack.push(el);
  });
  parser.on('text', (t) => {
    stack[stack.length - 1]!.text += t;
  });
  parser.on('closetag', () => {
    const el = stack.pop()!;
    el.text = el.text.trim();
  });
  parser.write(xml).close();
  return root;
}

const child = (el: Element | undefined, ...path: string[]): Element | undefined => {
  let at = el;
  for (const p of path) at = at?.children.find((c) => c.name === p);
  return at;
};
const ABSENT = /^(\[?N\/A\]?|\[?Not Supported\]?|\[?Requested functionality has been deprecated\]?|\[?Insufficient Permissions\]?|\[?Unknown( Error)?\]?|)$/i;
const NUMBER = /^(-?\d+(?:\.\d+)?)(?: ?(%|MiB|KiB|GiB|W|MHz|C))?$/;
const SCALE: Record<string, number> = { MiB: 1024 ** 2, KiB: 1024, GiB: 1024 ** 3, MHz: 1e6, '%': 0.01 };

export function parseNvidiaSmiXml(xml: string): XmlResult {
  const problems: string[] = [];
  let root: Element;
  try {
    root = parseXmlTree(xml);
  } catch (err) {
    return { gpus: [], mig: [], processes: [], problems: [`not XML: ${(err as Error).message.split('\n')[0]}`] };
  }
  const log = child(root, 'nvidia_smi_log');
  if (!log) return { gpus: [], mig: [], processes: [], problems: ['no <nvidia_smi_log> element'] };
  const driver = child(log, 'driver_version')?.text;
  const gpus: GpuReading[] = [];
  const mig: MigDevice[] = [];
  const processes: XmlResult['processes'] = [];

  log.children
    .filter((c) => c.name === 'gpu')
    .forEach((g, position) => {
      const index = String(position);
      const values: Partial<Record<Property, number>> = {};
      const text: Partial<Record<Property, string>> = {};
      /** A number in base units from the first of `paths` that has a value. */
      const num = (property: Property, ...paths: string[][]) => {
        for (const path of paths) {
          const el = child(g, ...path);
          if (!el || ABSENT.test(el.text)) continue;
          const m = NUMBER.exec(el.text);
          if (!m) {
            problems.push(`gpu ${index}: ${path.join('/')}: not a number: "${el.text}"`);
            return;
          }
          values[property] = Number(m[1]) * (m[2] ? (SCALE[m[2]] ?? 1) : 1);
          return;
        }
      };
      const flag = (property: Property, path: string[], yes: RegExp) => {
        const el = child(g, ...path);
        if (el && !ABSENT.test(el.text)) values[property] = yes.test(el.text) ? 1 : 0;
      };
      const str = (property: Property, path: string[]) => {
        const el = child(g, ...path);
        if (el && !ABSENT.test(el.text)) text[property] = el.text;
      };
      str('name', ['product_name']);
      str('uuid', ['uuid']);
      str('vbios', ['vbios_version']);
      if (driver && !ABSENT.test(driver)) text.driver = driver;
      text.pciBusId = g.attributes.id ?? child(g, 'pci', 'pci_bus_id')?.text ?? '';
      num('utilization', ['utilization', 'gpu_util']);
      num('memoryUtilization', ['utilization', 'memory_util']);
      num('encoderUtilization', ['utilization', 'encoder_util']);
      num('decoderUtilization', ['utilization', 'decoder_util']);
      num('memoryTotal', ['fb_memory_usage', 'total']);
      num('memoryUsed', ['fb_memory_usage', 'used']);
      num('temperature', ['temperature', 'gpu_temp']);
      num('memoryTemperature', ['temperature', 'memory_temp']);
      num(
        'powerDraw',
        ['power_readings', 'power_draw'],
        ['gpu_power_readings', 'power_draw'],
        ['gpu_power_readings', 'average_power_draw'],
        ['gpu_power_readings', 'instant_power_draw'],
      );
      num(
        'powerLimit',
        ['power_readings', 'enforced_power_limit'],
        ['gpu_power_readings', 'enforced_power_limit'],
        ['gpu_power_readings', 'current_power_limit'],
        ['power_readings', 'power_limit'],
        ['gpu_power_readings', 'power_limit'],
      );
      num('clockGraphics', ['clocks', 'graphics_clock']);
      num('clockSm', ['clocks', 'sm_clock']);
      num('clockMemory', ['clocks', 'mem_clock']);
      num('clockVideo', ['clocks', 'video_clock']);
      num('fanSpeed', ['fan_speed']);
      const pstate = child(g, 'performance_state')?.text ?? '';
      if (/^P\d{1,2}$/.test(pstate)) values.pstate = Number(pstate.slice(1));
      else if (!ABSENT.test(pstate)) problems.push(`gpu ${index}: performance_state: not a performance state: "${pstate}"`);

      let reasons: bigint | undefined;
      const reasonsEl = child(g, 'clocks_event_reasons') ?? child(g, 'clocks_throttle_reasons');
      for (const r of reasonsEl?.children ?? []) {
        const name = r.name.replace(/^clocks_(event|throttle)_reason_/, '').replace('display_clocks_setting', 'display_clock_setting');
        const bit = CLOCK_EVENT_REASONS.find(([n]) => n === name)?.[1];
        if (bit === undefined || ABSENT.test(r.text)) continue;
        reasons = (reasons ?? 0n) | (/^Active$/i.test(r.text) ? bit : 0n);
      }

      flag('eccMode', ['ecc_mode', 'current_ecc'], /^Enabled$/i);
      const volatile = child(g, 'ecc_errors', 'volatile');
      const sum = (match: RegExp, els: Element[] | undefined) => {
        const vals = (els ?? []).filter((e) => match.test(e.name) && !ABSENT.test(e.text)).map((e) => Number(e.text));
        return vals.length && vals.every(Number.isFinite) ? vals.reduce((a, b) => a + b, 0) : undefined;
      };
      // v10: single_bit/total and double_bit/total; later: *_correctable and *_uncorrectable*.
      const corrected = sum(/^(sram|dram)_correctable$/, volatile?.children) ?? sum(/^total$/, child(volatile, 'single_bit')?.children);
      const uncorrected = sum(/^(sram|dram)_uncorrectable(_parity|_secded)?$/, volatile?.children) ?? sum(/^total$/, child(volatile, 'double_bit')?.children);
      if (corrected !== undefined) values.eccCorrected = corrected;
      if (uncorrected !== undefined) values.eccUncorrected = uncorrected;
      num('retiredSingleBit', ['retired_pages', 'multiple_single_bit_retirement', 'retired_count']);
      num('retiredDoubleBit', ['retired_pages', 'double_bit_retirement', 'retired_count']);
      flag('retiredPending', ['retired_pages', 'pending_retirement'], /^Yes$/i);
      num('remappedCorrectable', ['remapped_rows', 'remapped_row_corr']);
      num('remappedUncorrectable', ['remapped_rows', 'remapped_row_unc']);
      flag('remappedPending', ['remapped_rows', 'remapped_row_pending'], /^Yes$/i);
      flag('remappedFailure', ['remapped_rows', 'remapped_row_failure'], /^Yes$/i);
      flag('migMode', ['mig_mode', 'current_mig'], /^Enabled$/i);
      gpus.push({ index, text, values, ...(reasons !== undefined ? { clockEventReasons: reasons } : {}) });

      for (const d of child(g, 'mig_devices')?.children.filter((c) => c.name === 'mig_device') ?? []) {
        const gi = child(d, 'gpu_instance_id')?.text ?? '?';
        const ci = child(d, 'compute_instance_id')?.text ?? '?';
        const bytes = (name: string) => {
          const m = NUMBER.exec(child(d, 'fb_memory_usage', name)?.text ?? '');
          return m ? Number(m[1]) * (SCALE[m[2] ?? 'MiB'] ?? 1) : undefined;
        };
        const used = bytes('used');
        const total = bytes('total');
        mig.push({ gpu: index, instance: `${gi}/${ci}`, ...(used !== undefined ? { usedBytes: used } : {}), ...(total !== undefined ? { totalBytes: total } : {}) });
      }
      for (const p of child(g, 'processes')?.children.filter((c) => c.name === 'process_info') ?? []) {
        const pid = Number(child(p, 'pid')?.text);
        if (!Number.isInteger(pid)) continue;
        const raw = child(p, 'process_name')?.text ?? '';
        const m = NUMBER.exec(child(p, 'used_memory')?.text ?? '');
        processes.push({ gpu: index, pid, process: ABSENT.test(raw) ? 'unknown' : raw.split('/').pop() || raw, ...(m ? { bytes: Number(m[1]) * (SCALE[m[2] ?? 'MiB'] ?? 1) } : {}) });
      }
    });
  return { gpus, mig, processes, problems };
}
