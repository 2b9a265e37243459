/**
 * /proc/mdstat (Linux md software RAID), parsed: per array its state, level, members
 * and their flags, the [expected/active] count and the sync in progress. Shapes read:
 * `active`/`inactive`, `(auto-read-only)`/`(read-only)`, members flagged `(F)` failed,
 * `(S)` spare, `(W)` write-mostly, `(R)` replacement, `(J)` journal; the
 * `[n/m] [UU_]` block (absent for raid0 and linear, which have no redundancy);
 * `recovery`/`resync`/`check`/`repair`/`reshape = x% (done/total) finish= speed=`;
 * `resync=DELAYED` and `resync=PENDING`; `bitmap:` lines; external metadata
 * containers (imsm, ddf). A line it does not know is reported and the rest kept.
 */

export type SyncAction = 'resync' | 'recovery' | 'check' | 'repair' | 'reshape';

export interface MdMember {
  readonly device: string;
  readonly role: number;
  readonly failed: boolean;
  readonly spare: boolean;
}

export interface MdArray {
  readonly name: string;
  readonly active: boolean;
  readonly readonly: boolean;
  /** raid0, raid1, raid4/5/6, raid10, linear, multipath; '' for an inactive array that says none. */
  readonly level: string;
  readonly members: MdMember[];
  /** Size in bytes (1 KiB blocks). */
  readonly sizeBytes?: number;
  /** From `[n/m]`: members the array should have and members in use; absent without redundancy. */
  readonly expected?: number;
  readonly inUse?: number;
  /** A sync running (with its progress) or waiting (DELAYED, PENDING). */
  readonly sync?: { readonly action: SyncAction; readonly progress?: number; readonly finishSeconds?: number; readonly speedBytesPerSecond?: number; readonly waiting?: 'delayed' | 'pending' };
}

export interface MdstatResult {
  readonly arrays: MdArray[];
  readonly problems: string[];
}

const HEADER = /^(md[\w/]+) : (active|inactive)(?: \((auto-read-only|read-only)\))?(?: (raid\d+|linear|multipath|faulty))?(.*)$/;
const MEMBER = /^(\S+?)\[(\d+)\](\([FSWRJ]\))*$/;
const SYNC = /^\[[=>.]*\]\s+(resync|recovery|check|repair|reshape)\s*=\s*([\d.]+)%\s*\((\d+)\/(\d+)\)\s*finish=([\d.]+)min\s*speed=(\d+)K\/sec/;

export function parseMdstat(text: string): MdstatResult {
  const arrays: MdArray[] = [];
  const problems: string[] = [];
  let current: (MdArray & { sync?: MdArray['sync'] }) | undefined;
  const mutable = () => current as { -readonly [K in keyof MdArray]: MdArray[K] };
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    const n = i + 1;
    if (!line || line.startsWith('Personalities') || line.startsWith('unused devices') || line.startsWith('bitmap:') || line.startsWith('#')) return;
    const h = HEADER.exec(line);
    if (h) {
      const members: MdMember[] = [];
      for (const tok of (h[5] ?? '').trim().split(/\s+/).filter(Boolean)) {
        const m = MEMBER.exec(tok);
        if (!m) {
          problems.push(`line ${n}: ${h[1]}: member "${tok}" not understood`);
          continue;
        }
        members.push({ device: m[1] as string, role: Number(m[2]), failed: tok.includes('(F)'), spare: tok.includes('(S)') });
      }
      current = { name: h[1] as string, active: h[2] === 'active', readonly: h[3] !== undefined, level: h[4] ?? '', members };
      arrays.push(current);
      return;
    }
    if (!current) {
      problems.push(`line ${n}: "${line.slice(0, 80)}" outside any array`);
      return;
    }
    const blocks = /^(\d+) blocks\b/.exec(line);
    if (blocks) {
      mutable().sizeBytes = Number(blocks[1]) * 1024;
      const counts = /\[(\d+)\/(\d+)\]\s+\[[U_]+\]/.exec(line);
      if (counts) {
        mutable().expected = Number(counts[1]);
        mutable().inUse = Number(counts[2]);
      }
      return;
    }
    const s = SYNC.exec(line);
    if (s) {
      mutable().sync = {
        action: s[1] as SyncAction,
        progress: Number(s[3]) / Number(s[4]),
        finishSeconds: Number(s[5]) * 60,
        speedBytesPerSecond: Number(s[6]) * 1024,
      };
      return;
    }
    const waiting = /^(resync|recovery|check|repair|reshape)=(DELAYED|PENDING)$/.exec(line);
    if (waiting) {
      mutable().sync = { action: waiting[1] as SyncAction, waiting: waiting[2] === 'DELAYED' ? 'delayed' : 'pending' };
      return;
    }
    problems.push(`line ${n}: ${current.name}: "${line.slice(0, 80)}" not understood`);
  });
  return { arrays, problems };
}
