/**
 * The mounts a NAS user cares about (network shares, tiers of local storage): is
 * each one mounted, answering and writable, and how full is it. Every statfs and
 * write test runs in a child with a deadline, one in flight per mount (probe.ts).
 */
import { readFile } from 'node:fs/promises';
import type { InstanceContext, Sample } from '../../collector/contract.js';
import { ExporterError, withLabels } from '../../collector/contract.js';
import { parseMounts, type Mount } from '../filesystem/parse-mounts.js';
import { M } from './metrics.js';
import { OneInFlight, parseStatfs, STATFS_FORMAT, type Statfs } from './probe.js';

export interface MountConfig {
  readonly path: string;
  readonly tier: string;
  readonly write_test: boolean;
  /** Milliseconds a probe may take before the mount is reported unresponsive. */
  readonly timeout: number;
}

interface MountState {
  readonly config: MountConfig;
  readonly statfs: OneInFlight;
  readonly write: OneInFlight;
  /** Last answer, kept while the mount does not answer (the last-known capacity). */
  last?: Statfs;
  reported?: string;
}

export class MountWatch {
  private readonly mounts: MountState[];

  constructor(
    private readonly ctx: InstanceContext,
    configs: readonly MountConfig[],
    private readonly mountsFile: string,
  ) {
    this.mounts = configs.map((config) => ({ config, statfs: new OneInFlight(), write: new OneInFlight() }));
  }

  /** Children still running past their deadline (a hung mount holds one each, never more). */
  stuck(): number {
    return this.mounts.reduce((n, m) => n + m.statfs.alive + m.write.alive, 0);
  }

  private say(m: MountState, problem: string | undefined): void {
    if (problem === m.reported) return;
    m.reported = problem;
    if (problem) this.ctx.log.warn({ mountpoint: m.config.path }, problem);
    else this.ctx.log.info({ mountpoint: m.config.path }, 'mount answers again');
  }

  async collect(signal: AbortSignal): Promise<Sample[]> {
    let table: Mount[];
    try {
      table = parseMounts(await readFile(this.mountsFile, { encoding: 'utf8', signal })).mounts;
    } catch (err) {
      throw new ExporterError('unreachable', `cannot read ${this.mountsFile}: ${(err as Error).message}`);
    }
    const results = await Promise.all(this.mounts.map((m) => this.one(m, table)));
    return [...results.flat(), { metric: M.stuckProbes, value: this.stuck() }];
  }

  private async one(m: MountState, table: readonly Mount[]): Promise<Sample[]> {
    const { path, tier } = m.config;
    const labels = { mountpoint: path, tier };
    // The last mount over a point hides the earlier ones.
    const mounted = [...table].reverse().find((x) => x.mountpoint === path);
    const out: Sample[] = [{ metric: M.present, labels, value: mounted ? 1 : 0 }];
    if (!mounted) {
      // Not mounted: the path is a directory of the parent filesystem, whose capacity would lie.
      this.say(m, `${path} is not mounted`);
      return out;
    }
    out.push({ metric: M.info, labels: withLabels(labels, { fstype: mounted.fstype, device: mounted.device }), value: 1 });
    const probe = await m.statfs.run('stat', ['-f', '--printf', STATFS_FORMAT, path], m.config.timeout);
    const answered = probe.ok ? parseStatfs(probe.stdout) : undefined;
    if (answered) m.last = answered;
    out.push({ metric: M.responsive, labels, value: answered ? 1 : 0 });
    if (probe.ok || probe.why !== 'stuck') out.push({ metric: M.probeSeconds, labels, value: probe.ms / 1000 });
    if (!probe.ok) this.say(m, `${path} does not answer (${probe.why}: ${probe.detail}); a dead server or network`);
    else if (!answered) this.say(m, `${path}: stat -f printed something unexpected: ${probe.stdout.slice(0, 200)}`);
    else this.say(m, undefined);
    if (m.last) {
      out.push(
        { metric: M.size, labels, value: m.last.sizeBytes },
        { metric: M.free, labels, value: m.last.freeBytes },
        { metric: M.avail, labels, value: m.last.availBytes },
        { metric: M.files, labels, value: m.last.files },
        { metric: M.filesFree, labels, value: m.last.filesFree },
      );
    }
    let writable = !mounted.readonly;
    if (writable && m.config.write_test && answered) {
      const w = await m.write.run('sh', ['-c', 'f="$1/.homestation-write-test.$$" && : > "$f" && rm -f "$f"', 'sh', path], m.config.timeout);
      writable = w.ok;
      if (!w.ok) this.say(m, `${path}: cannot write (${w.detail})`);
    }
    if (answered) out.push({ metric: M.writable, labels, value: writable ? 1 : 0 });
    return out;
  }

  stop(): void {
    for (const m of this.mounts) {
      m.statfs.kill();
      m.write.kill();
    }
  }
}
