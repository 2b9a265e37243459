/**
 * One line of `tegrastats` (Jetson boards, L4T 28 to JetPack 7, Thor), parsed into
 * a model. The format has changed with nearly every release; what differs:
 *
 * - an optional `MM-DD-YYYY HH:MM:SS` prefix (JetPack 5+);
 * - CPU as `CPU [12%@1479,off,...]`, or on TX1 / L4T 28 `cpu [17%,13%]@408`;
 * - the GPU as `GR3D_FREQ 63%@[621]`, `63%@621`, `0%@[0,0]` (one per GPC), or `42%`
 *   without its clock (run without sudo); a second GPU `GR3D2_FREQ`; TX1 `GR3D 3%@76`;
 * - the memory controller as `EMC_FREQ 43%@2133`, `EMC_FREQ 0%`, TX1 `EMC 1%@408`;
 * - engines as `APE 150`, `VIC_FREQ 115`, `NVENC 716`, `NVDEC off` (MHz, or off);
 * - temperatures `name@45.5C`, with -256C for a powered-off zone (dropped);
 * - power rails `VDD_IN 3617mW/3617mW`, `VDD_IN 2930/3405`, `GPU 463/463` (Xavier,
 *   no VDD_ prefix), `VDD_GPU_SOC 2171mW` (current only), `598mW/598`, a third value
 *   after current/average (read past, not exported); the same name
 *   twice (`NC`, not connected) is kept as `NC`, `NC_2`.
 *
 * A token this parser does not know is reported in `unknown` and the rest is kept.
 */

export interface TegraCpu {
  readonly index: number;
  readonly online: boolean;
  /** 0..1; absent when the core is off. */
  readonly utilization?: number;
  /** MHz; absent when not printed. */
  readonly mhz?: number;
}

export interface TegraLoad {
  /** 0..1; absent where only the clock is printed (DriveOS: `EMC_FREQ @2133`). */
  readonly utilization?: number;
  /** MHz, where printed (with sudo on older releases); the highest GPC's where several. */
  readonly mhz?: number;
}

export interface TegraRail {
  readonly name: string;
  /** Watts now. */
  readonly watts: number;
  /** Watts averaged since tegrastats started, where printed. */
  readonly averageWatts?: number;
}

export interface TegraSample {
  /** MiB used / total of RAM and swap (tegrastats' MB are MiB). */
  ram?: { usedMiB: number; totalMiB: number };
  swap?: { usedMiB: number; totalMiB: number };
  cpus: TegraCpu[];
  /** Memory controller load and clock. */
  emc?: TegraLoad;
  /** GR3D (GPU 0), GR3D2 (GPU 1). */
  gpus: (TegraLoad & { index: number })[];
  /** Engine clocks in MHz; 0 when off. */
  engines: { name: string; mhz: number }[];
  /** °C by sensor name, lower-cased; powered-off zones (-256C) left out. */
  temperatures: { sensor: string; celsius: number }[];
  rails: TegraRail[];
  /** Tokens not understood, as printed. */
  unknown: string[];
}

const LOAD = /^(?:(\d+(?:\.\d+)?)%)?(?:@\[?([\d,]*)\]?)?$/;
const TEMP = /^([A-Za-z][\w-]*)@(-?\d+(?:\.\d+)?)C$/;
/** `cur`, `cur/avg`, or a third value after them (kept out: its meaning differs between releases). */
const RAIL_VALUE = /^(\d+(?:\.\d+)?)(mW)?(?:\/(\d+(?:\.\d+)?)(mW)?)?(?:\/\d+(?:\.\d+)?(?:mW)?)?$/;
const NAME = /^[A-Z][A-Z0-9_]*$/;
const USED_TOTAL = /^(\d+)\/(\d+)(MB|kB)/;
/** Powered-off thermal zones read -256 °C (and some boards print -40.. for absent ones: kept). */
const OFF_ZONE = -256;

function load(token: string): TegraLoad | undefined {
  const m = LOAD.exec(token);
  if (!m || token === '') return undefined;
  const clocks = (m[2] ?? '').split(',').filter((x) => x !== '').map(Number);
  if (m[1] === undefined && !clocks.length) return undefined;
  return { ...(m[1] !== undefined ? { utilization: Number(m[1]) / 100 } : {}), ...(clocks.length ? { mhz: Math.max(...clocks) } : {}) };
}

function cpus(list: string, sharedMhz?: number): TegraCpu[] | undefined {
  const out: TegraCpu[] = [];
  const items = list.split(',');
  for (const [index, item] of items.entries()) {
    if (item === 'off') {
      out.push({ index, online: false });
      continue;
    }
    const m = /^(\d+(?:\.\d+)?)%(?:@(\d+))?$/.exec(item);
    if (!m) return undefined;
    const mhz = m[2] !== undefined ? Number(m[2]) : sharedMhz;
    out.push({ index, online: true, utilization: Number(m[1]) / 100, ...(mhz !== undefined ? { mhz } : {}) });
  }
  return out;
}

export function parseTegrastatsLine(line: string): TegraSample {
  const s: TegraSample = { cpus: [], gpus: [], engines: [], temperatures: [], rails: [], unknown: [] };
  const t = line.trim().split(/\s+/).filter(Boolean);
  const seenRails = new Map<string, number>();
  let i = 0;
  const next = () => t[i++];
  while (i < t.length) {
    const tok = next() as string;
    // Timestamp prefix: MM-DD-YYYY HH:MM:SS
    if (/^\d\d-\d\d-\d{4}$/.test(tok) && /^\d\d:\d\d:\d\d$/.test(t[i] ?? '')) {
      i += 1;
      continue;
    }
    if (tok === 'RAM' || tok === 'SWAP' || tok === 'IRAM') {
      const v = t[i] ?? '';
      const m = USED_TOTAL.exec(v);
      if (!m) {
        s.unknown.push(`${tok} ${v}`);
        i += 1;
        continue;
      }
      i += 1;
      const scale = m[3] === 'kB' ? 1 / 1024 : 1;
      const value = { usedMiB: Number(m[1]) * scale, totalMiB: Number(m[2]) * scale };
      if (tok === 'RAM') s.ram = value;
      else if (tok === 'SWAP') s.swap = value;
      // IRAM (a 252 kB on-chip memory) is not exported.
      // "(lfb 8x2MB)", "(cached 1MB)", or IRAM's glued "252kB(lfb" "252kB)": up to the closing parenthesis.
      if (v.includes('(') && !v.includes(')')) while (i < t.length && !(t[i - 1] as string).endsWith(')')) i += 1;
      else if ((t[i] ?? '').startsWith('(')) while (i < t.length && !(t[i++] as string).endsWith(')'));
      continue;
    }
    // (Xavier also has a power rail named CPU: "CPU 618/618".)
    if ((tok === 'CPU' || tok === 'cpu') && (t[i] ?? '').startsWith('[')) {
      const v = t[i] ?? '';
      const m = /^\[([^\]]*)\](?:@(\d+))?$/.exec(v);
      const parsed = m ? cpus(m[1] as string, m[2] !== undefined ? Number(m[2]) : undefined) : undefined;
      i += 1;
      if (parsed) s.cpus = parsed;
      else s.unknown.push(`${tok} ${v}`);
      continue;
    }
    if (tok === 'EMC_FREQ' || tok === 'EMC') {
      const v = t[i] ?? '';
      const l = load(v);
      if (l) {
        s.emc = l;
        i += 1;
      } else s.unknown.push(tok);
      continue;
    }
    const gr3d = /^GR3D(\d*)(?:_FREQ)?$/.exec(tok);
    if (gr3d) {
      const v = t[i] ?? '';
      const l = load(v);
      if (l) {
        s.gpus.push({ index: gr3d[1] ? Number(gr3d[1]) - 1 : 0, ...l });
        i += 1;
      } else s.unknown.push(tok);
      continue;
    }
    if (tok === 'MTS' && t[i] === 'fg' && t[i + 2] === 'bg') {
      // Denver's MTS foreground/background load (TX2, Xavier): not exported.
      i += 4;
      continue;
    }
    const temp = TEMP.exec(tok);
    if (temp) {
      const celsius = Number(temp[2]);
      if (celsius !== OFF_ZONE) s.temperatures.push({ sensor: (temp[1] as string).toLowerCase(), celsius });
      continue;
    }
    if (NAME.test(tok) && t[i] !== undefined) {
      const v = t[i] as string;
      // An engine clock: "APE 150", "VIC_FREQ 115", "NVDEC off".
      if (v === 'off' || /^\d+$/.test(v)) {
        i += 1;
        s.engines.push({ name: tok.replace(/_FREQ$/, '').toLowerCase(), mhz: v === 'off' ? 0 : Number(v) });
        continue;
      }
      // A power rail: "VDD_IN 3617mW/3617mW", "VDD_IN 2930/3405", "VDD_GPU_SOC 2171mW".
      const r = RAIL_VALUE.exec(v);
      if (r && (r[3] !== undefined || r[2] !== undefined)) {
        i += 1;
        const n = (seenRails.get(tok) ?? 0) + 1;
        seenRails.set(tok, n);
        s.rails.push({ name: n === 1 ? tok : `${tok}_${n}`, watts: Number(r[1]) / 1000, ...(r[3] !== undefined ? { averageWatts: Number(r[3]) / 1000 } : {}) });
        continue;
      }
    }
    s.unknown.push(tok);
  }
  return s;
}
