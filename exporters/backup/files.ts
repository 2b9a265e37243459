/** files source: the newest file of each glob, its age, size and completeness. */
import { stat } from 'node:fs/promises';
import { glob } from 'tinyglobby';
import { ExporterError, type InstanceContext, type PullInstance, type Sample } from '../../collector/contract.js';
import { summarizeDeclared } from './parse/sets.js';
import type { Snapshot } from './parse/types.js';
import { M } from './metrics.js';
import { setSamples } from './samples.js';
import type { BackupConfig, FilesConfig } from './schema.js';
import { verifyFile, type Verdict } from './verify-file.js';

interface CachedVerdict {
  readonly key: string;
  readonly verdict: Verdict;
}

export function createFilesSource(ctx: InstanceContext, config: BackupConfig, f: FilesConfig): PullInstance {
  // Verifying a multi-GB gzip is costly: do it once per new newest file.
  const verdicts = new Map<string, CachedVerdict>();

  return {
    mode: 'pull',
    async collect(signal): Promise<Sample[]> {
      const out: Sample[] = [];
      for (const set of f.sets) {
        let paths: string[];
        try {
          paths = await glob(set.glob, { absolute: true, onlyFiles: true, dot: true, signal });
        } catch (err) {
          if (signal.aborted) throw err;
          throw new ExporterError('unreachable', `cannot list ${set.glob}: ${(err as Error).message}`);
        }
        const files: Snapshot[] = [];
        for (const p of paths) {
          try {
            const st = await stat(p);
            if (st.isFile()) files.push({ time: st.mtimeMs / 1000, name: p, sizeBytes: st.size });
          } catch {
            // Removed between the listing and the stat (rotation): not a backup any more.
          }
        }
        if (files.length === 0 && set.optional) continue; // nothing there yet, and that is fine
        const [summary] = summarizeDeclared(files, [
          {
            name: set.name,
            expectedInterval: set.expected_interval ?? config.expected_interval,
            minRetention: set.min_retention ?? config.min_retention,
            matches: () => true,
          },
        ]);
        if (!summary) continue;
        out.push(...setSamples([summary]));
        const newest = summary.newest;
        if (newest?.name !== undefined) {
          const key = `${newest.name}\0${newest.sizeBytes}\0${newest.time}`;
          let cached = verdicts.get(set.name);
          if (cached?.key !== key) {
            const verdict = await verifyFile(newest.name, newest.sizeBytes ?? 0, set.verify, signal);
            cached = { key, verdict };
            verdicts.set(set.name, cached);
            if (!verdict.complete) {
              ctx.log.warn({ set: set.name, file: newest.name }, `newest backup file is not complete: ${verdict.problem}`);
            }
          }
          out.push({ metric: M.complete, labels: { set: set.name }, value: cached.verdict.complete ? 1 : 0 });
        }
      }
      return out;
    },
  };
}
