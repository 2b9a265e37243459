/** md RAID from /proc/mdstat (a procfs read: it never hangs). */
import { readFile } from 'node:fs/promises';
import type { InstanceContext, Sample } from '../../collector/contract.js';
import { ExporterError } from '../../collector/contract.js';
import { parseMdstat } from './parse/mdstat.js';
import { mdSamples } from './samples.js';

const reported = new WeakMap<InstanceContext, Set<string>>();

export async function readMd(ctx: InstanceContext, file: string, signal: AbortSignal): Promise<Sample[]> {
  let text: string;
  try {
    text = await readFile(file, { encoding: 'utf8', signal });
  } catch (err) {
    // No md driver loaded: no arrays, nothing to report.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new ExporterError('unreachable', `cannot read ${file}: ${(err as Error).message}`);
  }
  const parsed = parseMdstat(text);
  const seen = reported.get(ctx) ?? new Set<string>();
  reported.set(ctx, seen);
  for (const p of parsed.problems) {
    if (seen.has(p) || seen.size > 100) continue;
    seen.add(p);
    ctx.log.warn({ file, problem: p }, 'mdstat: a line this exporter does not understand; the rest is kept');
  }
  return mdSamples(parsed.arrays);
}
