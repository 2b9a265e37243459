/** borg source: `borg list --json --bypass-lock`, archive sizes by `borg info`, and `borg check`. */
import { readFile } from 'node:fs/promises';
import picomatch from 'picomatch';
import { ExporterError, type InstanceContext, type PullInstance, type Sample } from '../../collector/contract.js';
import { runCommand } from '../../collector/run-command.js';
import { integrityCheck } from './background-check.js';
import { parseBorgArchives } from './parse/borg.js';
import { classifyBorg, safeLocation, scrubCredentials } from './parse/failures.js';
import { summarizeDeclared, type SetSummary } from './parse/sets.js';
import { ParseError, type Snapshot } from './parse/types.js';
import { setSamples } from './samples.js';
import type { BackupConfig, BorgConfig } from './schema.js';

const INSTALL_HINT = 'install borg (Debian: apt-get install borgbackup) or set borg.command to its path';

export function createBorgSource(ctx: InstanceContext, config: BackupConfig, b: BorgConfig): PullInstance {
  const location = safeLocation(b.repository);
  // Without declared sets, the whole repository is one set named after the instance.
  const declared: NonNullable<BorgConfig['sets']> = b.sets ?? [{ name: ctx.instance, archive: '*' }];
  const sets = declared.map((s) => ({
    name: s.name,
    archive: s.archive,
    expectedInterval: s.expected_interval ?? config.expected_interval,
    minRetention: s.min_retention ?? config.min_retention,
    isMatch: picomatch(s.archive, { dot: true }),
  }));
  let sizesBroken = false;
  const zone = b.timezone ?? 'UTC';

  const env = async (): Promise<Record<string, string>> => {
    const e: Record<string, string> = {
      ...b.env,
      // Read-only monitoring: never stop at borg's interactive safety prompts.
      BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK: 'yes',
      BORG_RELOCATED_REPO_ACCESS_IS_OK: 'yes',
    };
    // borg 1.x prints archive times as naive local times of the process that runs
    // `borg list` (not of the one that ran `borg create`): fix that process's zone,
    // and read the output in the same zone.
    if (zone !== 'local') e.TZ = zone;
    if (b.passphrase !== undefined) e.BORG_PASSPHRASE = b.passphrase;
    if (b.passphrase_file) {
      try {
        e.BORG_PASSPHRASE = (await readFile(b.passphrase_file, 'utf8')).replace(/\r?\n$/, '');
      } catch (err) {
        throw new ExporterError('auth', `cannot read passphrase_file ${b.passphrase_file}: ${(err as NodeJS.ErrnoException).code}`);
      }
    }
    return e;
  };

  /**
   * borg's major version, asked once: borg 2 lists with `repo-list`, has no
   * --bypass-lock (listing takes a shared lock), matches archives with
   * `--match-archives sh:GLOB`, takes the repository as BORG_REPO and prints times
   * with a UTC offset. Unknown (no --version answer): borg 1's ways, and its errors.
   */
  let major: number | undefined;
  const borgMajor = async (signal: AbortSignal): Promise<number> => {
    if (major !== undefined) return major;
    const v = await runCommand(b.command, ['--version'], { signal, env: {}, installHint: INSTALL_HINT });
    const m = /borg(?:backup)?\s+(\d+)\./i.exec(`${v.stdout} ${v.stderr}`);
    major = m ? Number(m[1]) : 1;
    if (major > 2) throw new ExporterError('other', `borg ${m?.[1]}.x is not supported yet (HomeStation reads borg 1.1, 1.2 and 2)`, { hint: 'run borg 1.2 or 2, or tell us which output changed' });
    ctx.log.debug({ major }, 'borg version');
    return major;
  };

  const run = async (args: string[], signal: AbortSignal) => {
    const v2 = (await borgMajor(signal)) >= 2;
    const result = await runCommand(b.command, v2 ? [...args, '--log-json'] : [...args, '--log-json', b.repository], {
      signal,
      env: { ...(await env()), ...(v2 ? { BORG_REPO: b.repository } : {}) },
      installHint: INSTALL_HINT,
      stopSignal: 'SIGINT',
    });
    if (result.code !== 0) {
      const f = classifyBorg(result.code, result.stderr, location);
      throw new ExporterError(f.reason, f.message, { hint: f.hint });
    }
    return result;
  };

  const parse = (text: string): Snapshot[] => {
    try {
      const parsed = parseBorgArchives(text, zone);
      for (const w of parsed.warnings) ctx.log.warn({ repository: location }, scrubCredentials(`borg output: ${w}`));
      return parsed.items;
    } catch (err) {
      if (err instanceof ParseError) {
        throw new ExporterError('parse', err.message);
      }
      throw err;
    }
  };

  /** Size of the newest archive of a set; borg list does not print it. */
  const newestSize = async (archive: string, signal: AbortSignal): Promise<number | undefined> => {
    if (!b.sizes || sizesBroken) return undefined;
    try {
      const args = major !== undefined && major >= 2 ? ['info', '--json', '--last', '1', '--match-archives', `sh:${archive}`] : ['info', '--json', '--bypass-lock', '--last', '1', '--glob-archives', archive];
      const result = await run(args, signal);
      // The newest by time, whatever the order borg lists them in.
      return parse(result.stdout).reduce<Snapshot | undefined>((n, a) => (!n || a.time > n.time ? a : n), undefined)?.sizeBytes;
    } catch (err) {
      if (signal.aborted) throw err;
      // An older or newer borg without these options: keep the rest, say it once.
      sizesBroken = true;
      ctx.log.warn({ err: (err as Error).message }, 'borg info failed; archive sizes are not reported for this instance');
      return undefined;
    }
  };

  const check = integrityCheck(b.check, 'borg', run, ctx);

  return {
    mode: 'pull',
    async collect(signal): Promise<Sample[]> {
      check?.startIfDue();
      // --bypass-lock (borg 1): listing must neither wait for nor fail on a running borg create.
      const result = await run((await borgMajor(signal)) >= 2 ? ['repo-list', '--json'] : ['list', '--json', '--bypass-lock'], signal);
      const archives = parse(result.stdout);
      const summaries: SetSummary[] = summarizeDeclared(
        archives,
        sets.map((s) => ({ ...s, matches: (a: Snapshot) => s.isMatch(a.name ?? '') })),
      );
      const withSizes: SetSummary[] = [];
      for (const [i, s] of summaries.entries()) {
        const size = s.newest ? await newestSize((sets[i] as { archive: string }).archive, signal) : undefined;
        withSizes.push(size !== undefined && s.newest ? { ...s, newest: { ...s.newest, sizeBytes: size } } : s);
      }
      return [...setSamples(withSizes), ...(check?.samples() ?? [])];
    },
    async stop() {
      await check?.stop();
    },
  };
}
