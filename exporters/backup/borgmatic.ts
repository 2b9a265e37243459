/**
 * borgmatic source: the repositories of a borgmatic config, each its own set, from
 * `borgmatic list --json` (or a file the user's own job writes), sizes from
 * `borgmatic info --json --last 1`. Newest and oldest are chosen by time, never by
 * the order of a list.
 */
import { readFile } from 'node:fs/promises';
import { ExporterError, type InstanceContext, type PullInstance, type Sample } from '../../collector/contract.js';
import { runCommand } from '../../collector/run-command.js';
import { parseBorgmatic, type BorgmaticRepository } from './parse/borg.js';
import { classifyBorg, scrubCredentials } from './parse/failures.js';
import { summarizeDeclared } from './parse/sets.js';
import { ParseError, type Snapshot } from './parse/types.js';
import { setSamples } from './samples.js';
import type { BackupConfig, BorgmaticConfig } from './schema.js';

const INSTALL_HINT = 'install borgmatic (Debian: apt-get install borgmatic) or set borgmatic.command to its path';

export function createBorgmaticSource(ctx: InstanceContext, config: BackupConfig, b: BorgmaticConfig): PullInstance {
  const zone = b.timezone;
  let sizesBroken = false;
  const env = (): Record<string, string> => ({
    // borgmatic passes its environment on to borg: borg 1.x prints naive times in this zone.
    ...(zone !== 'local' ? { TZ: zone } : {}),
    BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK: 'yes',
    BORG_RELOCATED_REPO_ACCESS_IS_OK: 'yes',
  });
  const run = async (args: string[], signal: AbortSignal): Promise<string> => {
    const result = await runCommand(b.command, ['--config', b.config, ...args], { signal, env: env(), installHint: INSTALL_HINT, stopSignal: 'SIGINT' });
    if (result.code !== 0) {
      const f = classifyBorg(result.code, result.stderr, b.config);
      throw new ExporterError(f.reason, `borgmatic: ${f.message}`, { hint: f.hint });
    }
    return result.stdout;
  };
  const parse = (text: string): BorgmaticRepository[] => {
    try {
      const parsed = parseBorgmatic(text, zone === 'local' ? undefined : zone);
      for (const w of parsed.warnings) ctx.log.warn({ config: b.config }, scrubCredentials(`borgmatic output: ${w}`));
      return parsed.items;
    } catch (err) {
      if (err instanceof ParseError) throw new ExporterError('parse', scrubCredentials(err.message));
      throw err;
    }
  };
  /** Newest archive size per repository location. */
  const sizes = async (signal: AbortSignal): Promise<Map<string, number>> => {
    const out = new Map<string, number>();
    if (!b.sizes || sizesBroken || b.json_file) return out;
    try {
      for (const repo of parse(await run(['info', '--json', '--last', '1'], signal))) {
        const newest = newestOf(repo.archives);
        if (newest?.sizeBytes !== undefined) out.set(repo.location, newest.sizeBytes);
      }
    } catch (err) {
      if (signal.aborted) throw err;
      sizesBroken = true;
      ctx.log.warn({ err: scrubCredentials((err as Error).message) }, 'borgmatic info failed; archive sizes are not reported for this instance');
    }
    return out;
  };

  return {
    mode: 'pull',
    async collect(signal): Promise<Sample[]> {
      let text: string;
      if (b.json_file) {
        try {
          text = await readFile(b.json_file, { encoding: 'utf8', signal });
        } catch (err) {
          throw new ExporterError('unreachable', `cannot read ${b.json_file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
        }
      } else text = await run(['list', '--json'], signal);
      const repos = parse(text);
      const sizeOf = await sizes(signal);
      const expectations = { expectedInterval: b.expected_interval ?? config.expected_interval, minRetention: b.min_retention ?? config.min_retention };
      const out: Sample[] = [];
      for (const repo of repos) {
        const [summary] = summarizeDeclared(repo.archives, [{ name: repo.name, ...expectations, matches: () => true }]);
        if (!summary) continue;
        const size = sizeOf.get(repo.location);
        out.push(...setSamples([size !== undefined && summary.newest ? { ...summary, newest: { ...summary.newest, sizeBytes: size } } : summary]));
      }
      return out;
    },
  };
}

function newestOf(archives: readonly Snapshot[]): Snapshot | undefined {
  let newest: Snapshot | undefined;
  for (const a of archives) if (!newest || a.time > newest.time) newest = a;
  return newest;
}
