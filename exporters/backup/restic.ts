/** restic source: `restic snapshots --json --no-lock`, and `restic check` when enabled. */
import { readFile } from 'node:fs/promises';
import { ExporterError, type InstanceContext, type PullInstance, type Sample } from '../../collector/contract.js';
import { runCommand } from '../../collector/run-command.js';
import { integrityCheck } from './background-check.js';
import { classifyRestic, safeLocation, scrubCredentials } from './parse/failures.js';
import { parseResticSnapshots } from './parse/restic.js';
import { readableResticNames, resticGroupName, resticMatcher, summarizeDeclared, summarizeGrouped, type SetSummary } from './parse/sets.js';
import { ParseError, type Snapshot } from './parse/types.js';
import { setSamples } from './samples.js';
import type { BackupConfig, ResticConfig } from './schema.js';

const INSTALL_HINT = 'install restic (Debian: apt-get install restic) or set restic.command to its path';

export function resticEnv(r: ResticConfig): Record<string, string> {
  const env: Record<string, string> = { ...r.env, RESTIC_REPOSITORY: r.repository };
  if (r.password_file) env.RESTIC_PASSWORD_FILE = r.password_file;
  if (r.password !== undefined) env.RESTIC_PASSWORD = r.password;
  // Never prompt: a tool waiting on a terminal would hang until the timeout.
  env.RESTIC_PROGRESS_FPS = '0';
  return env;
}

export function createResticSource(ctx: InstanceContext, config: BackupConfig, r: ResticConfig): PullInstance {
  const location = safeLocation(r.repository);
  const run = async (args: string[], signal: AbortSignal) => {
    if (r.password_file) {
      // Read here only to fail with a clear reason; restic reads the file itself.
      await readFile(r.password_file).catch((err: NodeJS.ErrnoException) => {
        throw new ExporterError('auth', `cannot read password_file ${r.password_file}: ${err.code ?? err.message}`);
      });
    }
    const result = await runCommand(r.command, args, { signal, env: resticEnv(r), installHint: INSTALL_HINT, stopSignal: 'SIGINT' });
    if (result.code !== 0) {
      const f = classifyRestic(result.code, result.stderr, location);
      throw new ExporterError(f.reason, f.message, { hint: f.hint });
    }
    return result;
  };

  const check = integrityCheck(r.check, 'restic', run, ctx);

  return {
    mode: 'pull',
    async collect(signal): Promise<Sample[]> {
      check?.startIfDue();
      // --no-lock: a running backup or prune must not make the exporter fail or wait.
      const result = await run(['snapshots', '--json', '--no-lock'], signal);
      let parsed;
      try {
        parsed = parseResticSnapshots(result.stdout);
      } catch (err) {
        if (err instanceof ParseError) throw new ExporterError('parse', err.message);
        throw err;
      }
      for (const w of parsed.warnings) ctx.log.warn({ repository: location }, scrubCredentials(`restic output: ${w}`));
      const summaries = r.sets
        ? summarizeDeclared(
            parsed.items,
            r.sets.map((s) => ({
              name: s.name,
              expectedInterval: s.expected_interval ?? config.expected_interval,
              minRetention: s.min_retention ?? config.min_retention,
              matches: resticMatcher(s),
            })),
          )
        : readableGroups(
            summarizeGrouped(parsed.items, (s) => resticGroupName(s, r.group_by), {
              expectedInterval: config.expected_interval,
              minRetention: config.min_retention,
            }),
            parsed.items,
            r.group_by,
          );
      return [...setSamples(summaries), ...(check?.samples() ?? [])];
    },
    async stop() {
      await check?.stop();
    },
  };
}

/** Groups found in the data, named readably ("nas/home"; see readableResticNames). */
function readableGroups(groups: SetSummary[], items: readonly Snapshot[], by: ResticConfig['group_by']): SetSummary[] {
  const sample = new Map<string, Snapshot>();
  for (const s of items) {
    const key = resticGroupName(s, by);
    if (!sample.has(key)) sample.set(key, by.includes('tags') ? s : { ...s, tags: [] });
  }
  const names = readableResticNames(groups, (name) => sample.get(name) as Snapshot);
  return groups.map((g) => ({ ...g, name: names.get(g.name) ?? g.name }));
}
