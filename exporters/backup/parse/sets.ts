/**
 * Pure: from a flat list of snapshots to per-set summaries. A set is either one
 * the user declared (a filter with its own expectations) or, when none are
 * declared, a group found in the data (restic: host and paths; borg: the whole
 * repository; files: the glob).
 */
import type { Snapshot } from './types.js';

export interface SetRule {
  readonly name: string;
  readonly expectedInterval: number;
  readonly minRetention?: number;
  readonly matches: (s: Snapshot) => boolean;
}

export interface SetSummary {
  readonly name: string;
  readonly count: number;
  readonly newest?: Snapshot;
  readonly oldest?: Snapshot;
  /** Milliseconds. */
  readonly expectedInterval: number;
  /** Milliseconds. */
  readonly minRetention?: number;
}

export interface Expectations {
  readonly expectedInterval: number;
  readonly minRetention?: number;
}

function summarize(name: string, items: readonly Snapshot[], exp: Expectations): SetSummary {
  let newest: Snapshot | undefined;
  let oldest: Snapshot | undefined;
  for (const s of items) {
    if (!newest || s.time > newest.time) newest = s;
    if (!oldest || s.time < oldest.time) oldest = s;
  }
  return {
    name,
    count: items.length,
    expectedInterval: exp.expectedInterval,
    ...(exp.minRetention !== undefined ? { minRetention: exp.minRetention } : {}),
    ...(newest ? { newest } : {}),
    ...(oldest ? { oldest } : {}),
  };
}

/** Declared sets: each reported, even when empty (a set that never succeeded). */
export function summarizeDeclared(items: readonly Snapshot[], rules: readonly SetRule[]): SetSummary[] {
  return rules.map((rule) => summarize(rule.name, items.filter(rule.matches), rule));
}

/** Sets found in the data by a grouping key, sorted by name for a stable output. */
export function summarizeGrouped(
  items: readonly Snapshot[],
  keyOf: (s: Snapshot) => string,
  exp: Expectations,
): SetSummary[] {
  const groups = new Map<string, Snapshot[]>();
  for (const s of items) {
    const key = keyOf(s);
    const list = groups.get(key);
    if (list) list.push(s);
    else groups.set(key, [s]);
  }
  return [...groups.keys()].sort().map((k) => summarize(k, groups.get(k) as Snapshot[], exp));
}

export type ResticGroupKey = 'host' | 'paths' | 'tags';

/** restic's own grouping, written as a readable set name: "nas:/etc,/home". */
export function resticGroupName(s: Snapshot, by: readonly ResticGroupKey[]): string {
  const parts: string[] = [];
  if (by.includes('host')) parts.push(s.host ?? '');
  if (by.includes('paths')) parts.push((s.paths ?? []).join(','));
  if (by.includes('tags')) parts.push((s.tags ?? []).join(','));
  return parts.join(':');
}

/** A restic set filter: host equal, paths equal as a set, tags all present. */
export function resticMatcher(match: {
  host?: string;
  paths?: readonly string[];
  tags?: readonly string[];
}): (s: Snapshot) => boolean {
  const paths = match.paths ? [...match.paths].sort().join('\0') : undefined;
  return (s) =>
    (match.host === undefined || s.host === match.host) &&
    (paths === undefined || (s.paths ?? []).join('\0') === paths) &&
    (match.tags === undefined || match.tags.every((t) => (s.tags ?? []).includes(t)));
}

/**
 * A short set name for a restic group: the host, then the last part of each path
 * ("nas:/srv/data,/etc" -> "nas/data+etc"), then the tags ("#daily"). Two groups that
 * would share one keep their full names; `sets:` in the config names them as you like.
 */
export function readableResticNames(groups: readonly SetSummary[], keyOf: (name: string) => Snapshot): Map<string, string> {
  const short = new Map<string, string>();
  for (const g of groups) {
    const s = keyOf(g.name);
    const paths = (s.paths ?? []).map((p) => p.replace(/\/+$/, '').split('/').pop() || 'root');
    const parts = [s.host, paths.length ? paths.join('+') : undefined].filter((x): x is string => Boolean(x));
    let name = parts.join('/') || g.name;
    if (s.tags?.length) name += `#${s.tags.join(',')}`;
    short.set(g.name, name);
  }
  const count = new Map<string, number>();
  for (const n of short.values()) count.set(n, (count.get(n) ?? 0) + 1);
  for (const [full, n] of short) if ((count.get(n) ?? 0) > 1) short.set(full, full);
  return short;
}
