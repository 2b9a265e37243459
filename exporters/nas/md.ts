/** md RAID from /proc/mdstat and sysfs (procfs and sysfs reads never hang). */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { InstanceContext, Sample } from '../../collector/contract.js';
import { ExporterError } from '../../collector/contract.js';
import { WarnOnce } from '../../collector/warn-once.js';
import { M } from './metrics.js';
import { parseMdstat } from './parse/mdstat.js';
import { mdSamples } from './samples.js';

const warned = new WeakMap<InstanceContext, WarnOnce>();

/** sysfs' view of each array: the mismatches its last check found (mdstat does not show them). */
async function sysfsSamples(sysfs: string, arrays: readonly string[], signal: AbortSignal): Promise<Sample[]> {
  const out: Sample[] = [];
  for (const array of arrays) {
    const text = await readFile(join(sysfs, 'block', array, 'md', 'mismatch_cnt'), { encoding: 'utf8', signal }).catch(() => undefined);
    const value = text === undefined ? undefined : Number(text.trim());
    if (value !== undefined && Number.isFinite(value)) out.push({ metric: M.mdMismatches, labels: { array }, value });
  }
  return out;
}

export async function readMd(ctx: InstanceContext, file: string, signal: AbortSignal, sysfs = '/sys'): Promise<Sample[]> {
  let text: string;
  try {
    text = await readFile(file, { encoding: 'utf8', signal });
  } catch (err) {
    // No md driver loaded: no arrays, nothing to report.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new ExporterError('unreachable', `cannot read ${file}: ${(err as Error).message}`);
  }
  const parsed = parseMdstat(text);
  const once = warned.get(ctx) ?? new WarnOnce(ctx.log);
  warned.set(ctx, once);
  for (const p of parsed.problems) once.warn(p, { file, problem: p }, 'mdstat: a line this exporter does not understand; the rest is kept');
  return [...mdSamples(parsed.arrays), ...(await sysfsSamples(sysfs, parsed.arrays.map((a) => a.name), signal))];
}
