/**
 * Pure parser for borg's JSON: `borg list --json` and `borg info --json` (1.1, 1.2
 * and 2.x), including borgmatic's array of several repositories. Borg 1.x writes
 * naive local times; `zone` says how to read them (see timestamp.ts).
 */
import { excerpt } from './restic.js';
import { parseTimestamp } from './timestamp.js';
import { ParseError, type Parsed, type Snapshot } from './types.js';

interface RawArchive {
  name?: unknown;
  start?: unknown;
  time?: unknown;
  stats?: { original_size?: unknown } | null;
}

/** Archives of a `borg list --json` or `borg info --json` output. */
export function parseBorgArchives(text: string, zone: string | undefined): Parsed<Snapshot> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new ParseError(`borg printed something that is not JSON (${(err as Error).message}): ${excerpt(text)}`);
  }
  const repos = Array.isArray(data) ? data : [data];
  const items: Snapshot[] = [];
  const warnings: string[] = [];
  repos.forEach((repo: unknown, r) => {
    const archives = (repo as { archives?: unknown } | null)?.archives;
    if (!Array.isArray(archives)) {
      if (!Array.isArray(data)) throw new ParseError(`borg's output has no "archives" list: ${excerpt(text)}`);
      // borgmatic lists several repositories; one without archives is reported, the rest kept.
      warnings.push(`repository [${r}] has no "archives" list; skipped`);
      return;
    }
    archives.forEach((entry: unknown, i) => {
      const where = repos.length > 1 ? `[${r}].archives[${i}]` : `archives[${i}]`;
      const a = (entry ?? {}) as RawArchive;
      const stamp = typeof a.start === 'string' ? a.start : a.time;
      if (typeof a.name !== 'string' || typeof stamp !== 'string') {
        warnings.push(`archive ${where} has no name or start time; skipped`);
        return;
      }
      let time: number;
      try {
        time = parseTimestamp(stamp, zone);
      } catch (err) {
        // A missing zone is a configuration problem, not one bad entry.
        if (!zone && /no UTC offset/.test((err as Error).message)) throw new ParseError((err as Error).message);
        warnings.push(`archive ${where}: ${(err as Error).message}; skipped`);
        return;
      }
      const size = a.stats?.original_size;
      items.push({
        time,
        name: a.name,
        ...(typeof size === 'number' && Number.isFinite(size) ? { sizeBytes: size } : {}),
      });
    });
  });
  return { items, warnings };
}

export interface BorgmaticRepository {
  /** borgmatic's label where it has one (1.8+), else derived from the location. */
  readonly name: string;
  readonly location: string;
  readonly archives: readonly Snapshot[];
}

/** A readable set name from a repository location: "ssh://u@nas/./backups/home" -> "home". */
function nameOfLocation(location: string): string {
  const path = location.replace(/^[a-z]+:\/\/[^/]*/i, '').replace(/^[^/]*:/, '');
  const base = path.split('/').filter((p) => p && p !== '.').pop() ?? location;
  return base.replace(/[^A-Za-z0-9_.:-]+/g, '-') || 'repository';
}

/**
 * `borgmatic list --json` / `borgmatic info --json`: one entry per repository of the
 * config, each borg's own JSON. Every repository is its own set (never merged), an
 * empty one included (0 archives), named by its label or its location; names are
 * made unique by the location's order.
 */
export function parseBorgmatic(text: string, zone: string | undefined): Parsed<BorgmaticRepository> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new ParseError(`borgmatic printed something that is not JSON (${(err as Error).message}): ${excerpt(text)}`);
  }
  if (!Array.isArray(data)) throw new ParseError(`borgmatic's output is not a list of repositories: ${excerpt(text)}`);
  const items: BorgmaticRepository[] = [];
  const warnings: string[] = [];
  const used = new Set<string>();
  data.forEach((repo: unknown, r) => {
    const meta = (repo as { repository?: { location?: unknown; label?: unknown } } | null)?.repository;
    const location = typeof meta?.location === 'string' ? meta.location : `repository ${r}`;
    let name = typeof meta?.label === 'string' && meta.label ? meta.label : nameOfLocation(location);
    if (used.has(name)) name = `${name}-${r}`;
    used.add(name);
    const archives = (repo as { archives?: unknown } | null)?.archives;
    if (!Array.isArray(archives)) {
      warnings.push(`repository ${location} has no "archives" list: reported with 0 archives`);
      items.push({ name, location, archives: [] });
      return;
    }
    const parsed = parseBorgArchives(JSON.stringify({ archives }), zone);
    for (const w of parsed.warnings) warnings.push(`${location}: ${w}`);
    items.push({ name, location, archives: parsed.items });
  });
  return { items, warnings };
}
