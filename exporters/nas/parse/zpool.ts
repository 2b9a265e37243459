/**
 * ZFS pools: `zpool status -j` (OpenZFS 2.3+, at the end of this file) or its text
 * (its layout has been stable across OpenZFS and ZoL releases) and `zpool list -Hp -o name,size,allocated,free,fragmentation,health`
 * (or `zpool list -p` with its header). Shapes read: pool state, the `scan:` line
 * (scrub or resilver finished, in progress with its "% done", canceled, or no scan
 * line at all: never scrubbed), the vdev tree with READ/WRITE/CKSUM counts (also as
 * 1.2K), notes (`corrupted data`), and `errors:` (data errors). Times in `scan:` are
 * the host's local time, as zpool prints them. A line it does not know is reported.
 */

export const POOL_STATES = ['ONLINE', 'DEGRADED', 'FAULTED', 'OFFLINE', 'UNAVAIL', 'REMOVED', 'SUSPENDED'] as const;

export interface Vdev {
  readonly name: string;
  readonly state: string;
  readonly read: number;
  readonly write: number;
  readonly checksum: number;
  readonly depth: number;
}

export interface PoolStatus {
  readonly name: string;
  readonly state: string;
  readonly scan?: {
    readonly kind: 'scrub' | 'resilver';
    readonly state: 'in_progress' | 'finished' | 'canceled';
    /** 0..1 while in progress. */
    readonly progress?: number;
    /** When a finished or canceled scan ended (ms). */
    readonly endedAt?: number;
    readonly errors?: number;
  };
  readonly vdevs: Vdev[];
  readonly dataErrors: number;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "Sun Feb 11 11:54:20 2024" in the host's local time. */
export function parseZfsDate(text: string): number | undefined {
  const m = /(\w{3})\s+(\d{1,2})\s+(\d{2}):(\d{2}):(\d{2})\s+(\d{4})/.exec(text);
  if (!m) return undefined;
  const month = MONTHS.indexOf(m[1] as string);
  if (month < 0) return undefined;
  return new Date(Number(m[6]), month, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5])).getTime();
}

function count(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)([KMGT]?)$/.exec(text);
  if (!m) return undefined;
  return Math.round(Number(m[1]) * ({ '': 1, K: 1e3, M: 1e6, G: 1e9, T: 1e12 } as Record<string, number>)[m[2] as string]!);
}

export function parseZpoolStatus(text: string): { pools: PoolStatus[]; problems: string[] } {
  const pools: PoolStatus[] = [];
  const problems: string[] = [];
  type Mutable = { -readonly [K in keyof PoolStatus]: PoolStatus[K] };
  let pool: Mutable | undefined;
  let section: 'head' | 'scan' | 'config' | 'status' = 'head';
  let indent0: number | undefined;
  text.split('\n').forEach((raw, i) => {
    const n = i + 1;
    if (/^TEST_TIMESTAMP=/.test(raw)) return; // the recording harness's line (fixtures), not zpool's
    const line = raw.replace(/\s+$/, '');
    const key = /^\s*(pool|state|status|action|see|scan|config|errors):\s?(.*)$/.exec(line);
    if (key) {
      const [, k, v = ''] = key;
      if (k === 'pool') {
        pool = { name: v.trim(), state: 'UNKNOWN', vdevs: [], dataErrors: 0 };
        pools.push(pool);
        section = 'head';
        indent0 = undefined;
        return;
      }
      if (!pool) {
        problems.push(`line ${n}: "${line.trim()}" before any pool`);
        return;
      }
      if (k === 'state') pool.state = v.trim();
      else if (k === 'scan') {
        section = 'scan';
        readScan(pool, v.trim());
      } else if (k === 'config') section = 'config';
      else if (k === 'errors') {
        section = 'head';
        const e = /^(\d+) data errors/.exec(v.trim());
        if (e) pool.dataErrors = Number(e[1]);
      } else section = 'status';
      return;
    }
    if (!line.trim()) return;
    if (!pool) {
      if (!/^no pools available/.test(line.trim())) problems.push(`line ${n}: "${line.trim().slice(0, 80)}" is not zpool status output`);
      return;
    }
    if (section === 'status' || section === 'head') return; // status/action paragraphs continue here
    if (section === 'scan') {
      // "704G / 1.66T scanned at ..., 0B / 1.66T issued" then "0B repaired, 0.00% done, ..."
      const done = /([\d.]+)% done/.exec(line);
      if (done && pool.scan) pool.scan = { ...pool.scan, progress: Number(done[1]) / 100 };
      return;
    }
    // config: the header, then one vdev per line, indented by depth.
    const cells = /^(\s*)(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)(?:\s+(.*))?$/.exec(line);
    if (!cells || cells[2] === 'NAME') {
      if (!cells && !/^\s*(logs|cache|spares|special|dedup)\s*$/.test(line) && !/^\s*\S+\s+(AVAIL|INUSE)/.test(line)) problems.push(`line ${n}: ${pool.name}: "${line.trim()}" not understood`);
      return;
    }
    const indent = (cells[1] as string).replace(/\t/g, '        ').length;
    indent0 ??= indent;
    const read = count(cells[4] as string);
    const write = count(cells[5] as string);
    const cksum = count(cells[6] as string);
    if (read === undefined || write === undefined || cksum === undefined) {
      problems.push(`line ${n}: ${pool.name}: error counts "${cells[4]} ${cells[5]} ${cells[6]}" not understood`);
      return;
    }
    pool.vdevs.push({ name: cells[2] as string, state: cells[3] as string, read, write, checksum: cksum, depth: Math.round((indent - indent0) / 2) });
  });
  return { pools, problems };
}

function readScan(pool: { scan?: PoolStatus['scan'] }, v: string): void {
  if (/^none requested/.test(v)) return;
  const kind = /resilver/.test(v) ? 'resilver' : 'scrub';
  if (/in progress since/.test(v)) {
    pool.scan = { kind, state: 'in_progress' };
    return;
  }
  const endedAt = parseZfsDate(v.replace(/^.*\bon\b/, ''));
  const errors = /with (\d+) errors/.exec(v);
  pool.scan = { kind, state: /canceled/.test(v) ? 'canceled' : 'finished', ...(endedAt !== undefined ? { endedAt } : {}), ...(errors ? { errors: Number(errors[1]) } : {}) };
}

export interface PoolCapacity {
  readonly name: string;
  readonly sizeBytes?: number;
  readonly allocatedBytes?: number;
  readonly freeBytes?: number;
  /** 0..1 */
  readonly fragmentation?: number;
  readonly health?: string;
}

/** The columns asked of `zpool list -Hp -o ...`. */
export const LIST_COLUMNS = ['name', 'size', 'allocated', 'free', 'fragmentation', 'health'] as const;

/** `zpool list -Hp -o name,size,allocated,free,fragmentation,health`, or `zpool list -p` with its header. */
export function parseZpoolList(text: string): PoolCapacity[] {
  const lines = text.split('\n').filter((l) => l.trim());
  let columns: string[] = [...LIST_COLUMNS];
  if (lines[0] && /^NAME\s/.test(lines[0])) {
    columns = (lines.shift() as string).trim().split(/\s+/).map((c) => ({ ALLOC: 'allocated', FRAG: 'fragmentation' })[c] ?? c.toLowerCase());
  }
  const out: PoolCapacity[] = [];
  for (const line of lines) {
    // Top-level pools only (`-v` lists vdevs indented under them).
    if (/^\s/.test(line)) continue;
    const cells = line.includes('\t') ? line.split('\t') : line.trim().split(/\s+/);
    const at = (c: string) => {
      const v = cells[columns.indexOf(c)];
      return v === undefined || v === '-' ? undefined : v.replace(/%$/, '');
    };
    const n = (c: string) => (at(c) !== undefined && /^\d+(\.\d+)?$/.test(at(c) as string) ? Number(at(c)) : undefined);
    const name = at('name');
    const health = at('health');
    // Not a pool row (noise, an error message): a pool always has a known health.
    if (!name || (health !== undefined && !(POOL_STATES as readonly string[]).includes(health))) continue;
    out.push({
      name,
      ...(n('size') !== undefined ? { sizeBytes: n('size') } : {}),
      ...(n('allocated') !== undefined ? { allocatedBytes: n('allocated') } : {}),
      ...(n('free') !== undefined ? { freeBytes: n('free') } : {}),
      ...(n('fragmentation') !== undefined ? { fragmentation: (n('fragmentation') as number) / 100 } : {}),
      ...(at('health') ? { health: at('health') } : {}),
    });
  }
  return out;
}

/* eslint-disable @typescript-eslint/no-explicit-any */
/**
 * `zpool status -j --json-int` (OpenZFS 2.3+): the same model from its JSON. Pools are
 * keyed by name, each with `state`, `error_count`, `scan_stats` (`function` SCRUB or
 * RESILVER or NONE, `state` FINISHED, SCANNING, CANCELED or NONE, `end_time` in Unix
 * seconds, `examined` of `to_examine`) and the vdev tree under `vdevs`, the root first.
 */
export function parseZpoolStatusJson(text: string): { pools: PoolStatus[]; problems: string[] } {
  let doc: any;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return { pools: [], problems: [`zpool status -j: not JSON (${(err as Error).message})`] };
  }
  if (!doc || typeof doc.pools !== 'object') return { pools: [], problems: ['zpool status -j: no "pools" object'] };
  const num = (v: unknown) => (typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : undefined);
  const pools: PoolStatus[] = [];
  const problems: string[] = [];
  for (const [key, p] of Object.entries<any>(doc.pools)) {
    const vdevs: Vdev[] = [];
    const walk = (v: any, name: string, depth: number) => {
      if (!v || typeof v !== 'object') return;
      const read = num(v.read_errors) ?? 0;
      const write = num(v.write_errors) ?? 0;
      const checksum = num(v.checksum_errors) ?? 0;
      vdevs.push({ name: v.name ?? name, state: v.state ?? 'UNKNOWN', read, write, checksum, depth });
      for (const [childName, child] of Object.entries<any>(v.vdevs ?? {})) walk(child, childName, depth + 1);
    };
    for (const [rootName, root] of Object.entries<any>(p.vdevs ?? {})) walk(root, rootName, 0);
    const s = p.scan_stats;
    const fn = String(s?.function ?? 'NONE').toUpperCase();
    const st = String(s?.state ?? 'NONE').toUpperCase();
    let scan: PoolStatus['scan'];
    if ((fn === 'SCRUB' || fn === 'RESILVER') && st !== 'NONE') {
      const kind = fn === 'SCRUB' ? 'scrub' : 'resilver';
      const examined = num(s.examined) ?? num(s.issued);
      const total = num(s.to_examine);
      const end = num(s.end_time);
      if (st === 'SCANNING') scan = { kind, state: 'in_progress', ...(examined !== undefined && total ? { progress: examined / total } : {}) };
      else scan = { kind, state: st === 'CANCELED' ? 'canceled' : 'finished', ...(end ? { endedAt: end * 1000 } : {}), ...(num(s.errors) !== undefined ? { errors: num(s.errors) } : {}) };
    } else if (fn !== 'NONE' && fn !== 'SCRUB' && fn !== 'RESILVER') {
      problems.push(`pool ${key}: scan function "${s?.function}" not understood`);
    }
    pools.push({ name: p.name ?? key, state: p.state ?? 'UNKNOWN', vdevs, dataErrors: num(p.error_count) ?? 0, ...(scan ? { scan } : {}) });
  }
  return { pools, problems };
}
