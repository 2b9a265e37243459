/**
 * Pure parser for `restic snapshots --json` (restic 0.9 to 0.18), plain or
 * `--group-by` output. No I/O, no clock: tested on recorded outputs.
 */
import { parseTimestamp } from './timestamp.js';
import { ParseError, type Snapshot, type Parsed } from './types.js';

interface RawSnapshot {
  time?: unknown;
  hostname?: unknown;
  paths?: unknown;
  tags?: unknown;
  summary?: { total_bytes_processed?: unknown } | null;
}

function stringList(v: unknown): string[] | undefined {
  if (v === null || v === undefined) return [];
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  return undefined;
}

/** Snapshots of a `restic snapshots --json` output; bad entries become warnings. */
export function parseResticSnapshots(text: string): Parsed<Snapshot> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new ParseError(`restic printed something that is not JSON (${(err as Error).message}): ${excerpt(text)}`);
  }
  // An empty repository: restic prints [] (and some versions null).
  if (data === null) return { items: [], warnings: [] };
  if (!Array.isArray(data)) throw new ParseError(`restic's snapshot list is not a JSON array: ${excerpt(text)}`);

  const warnings: string[] = [];
  const raw: { entry: unknown; where: string }[] = [];
  data.forEach((entry: unknown, i) => {
    // `--group-by` output: [{group_key: {...}, snapshots: [...]}, ...]
    if (entry && typeof entry === 'object' && 'group_key' in entry && 'snapshots' in entry) {
      const list = (entry as { snapshots: unknown }).snapshots;
      if (Array.isArray(list)) list.forEach((s, j) => raw.push({ entry: s, where: `[${i}].snapshots[${j}]` }));
      else warnings.push(`entry [${i}] has a group_key but its snapshots are not a list; skipped`);
    } else {
      raw.push({ entry, where: `[${i}]` });
    }
  });

  const items: Snapshot[] = [];
  for (const { entry, where } of raw) {
    if (!entry || typeof entry !== 'object') {
      warnings.push(`snapshot ${where} is not an object; skipped`);
      continue;
    }
    const s = entry as RawSnapshot;
    if (typeof s.time !== 'string') {
      warnings.push(`snapshot ${where} has no "time"; skipped`);
      continue;
    }
    let time: number;
    try {
      time = parseTimestamp(s.time);
    } catch (err) {
      warnings.push(`snapshot ${where}: ${(err as Error).message}; skipped`);
      continue;
    }
    const paths = stringList(s.paths);
    const tags = stringList(s.tags);
    if (paths === undefined || tags === undefined || typeof s.hostname !== 'string') {
      warnings.push(`snapshot ${where} has a malformed hostname, paths or tags; skipped`);
      continue;
    }
    const bytes = s.summary?.total_bytes_processed;
    items.push({
      time,
      host: s.hostname,
      paths: [...paths].sort(),
      tags: [...tags].sort(),
      ...(typeof bytes === 'number' && Number.isFinite(bytes) ? { sizeBytes: bytes } : {}),
    });
  }
  return { items, warnings };
}

export function excerpt(text: string): string {
  const t = text.trim().replace(/\s+/g, ' ');
  return t.length > 120 ? `"${t.slice(0, 120)}…"` : `"${t}"`;
}
