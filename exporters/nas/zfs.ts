/**
 * ZFS through `zpool status` and `zpool list -Hp`, each bounded by its own deadline
 * and one in flight: a suspended pool can make zpool hang, and that must cost one
 * process, not the collection. `enabled: auto` reads ZFS where zpool is installed
 * and says nothing where it is not.
 */
import type { InstanceContext, Sample } from '../../collector/contract.js';
import { ExporterError } from '../../collector/contract.js';
import { runCommand } from '../../collector/run-command.js';
import { WarnOnce } from '../../collector/warn-once.js';
import { M } from './metrics.js';
import { LIST_COLUMNS, parseZpoolList, parseZpoolStatus, parseZpoolStatusJson } from './parse/zpool.js';
import { zfsSamples } from './samples.js';

export interface ZfsConfig {
  readonly enabled: 'auto' | 'true' | 'false';
  readonly command: string;
  readonly timeout: number;
}

export class ZfsReader {
  private last: Sample[] = [];
  private absent = false;
  private readonly warned: WarnOnce;

  constructor(
    private readonly ctx: InstanceContext,
    private readonly config: ZfsConfig,
  ) {
    this.warned = new WarnOnce(ctx.log);
  }

  private say(problem: string): void {
    this.warned.warn(problem, { problem }, 'zpool');
  }

  private async run(args: string[]): Promise<string> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.config.timeout);
    try {
      const r = await runCommand(this.config.command, args, { signal: controller.signal, killGraceMs: 2000, maxOutputBytes: 4 * 1024 * 1024, installHint: 'install zfsutils-linux, or set nas.zfs.command' });
      if (r.code !== 0) throw new ExporterError('other', `zpool ${args[0]} exited ${r.code}: ${(r.stderr.trim() || r.stdout.trim()).split('\n')[0]}`);
      return r.stdout;
    } finally {
      clearTimeout(timer);
    }
  }

  private inflight?: Promise<void>;
  /** OpenZFS 2.3+ prints its status as JSON; older releases refuse -j: then the text, from then on. */
  private json = true;

  private async status(): Promise<ReturnType<typeof parseZpoolStatus>> {
    if (this.json) {
      try {
        return parseZpoolStatusJson(await this.run(['status', '-j', '--json-int']));
      } catch (err) {
        if ((err as ExporterError).reason !== 'other') throw err;
        this.json = false;
        this.ctx.log.info('zpool status -j is not supported here (OpenZFS before 2.3): reading its text');
      }
    }
    return parseZpoolStatus(await this.run(['status']));
  }
  private ok = false;

  /** One reading; updates `last` and `ok`. Never rejects. */
  private async readOnce(): Promise<void> {
    try {
      const list = this.run(['list', '-Hp', '-o', LIST_COLUMNS.join(',')]);
      list.catch(() => undefined); // awaited below; not an unhandled rejection if status fails first
      const parsed = await this.status();
      for (const p of parsed.problems) this.say(p);
      this.last = zfsSamples(parsed.pools, parseZpoolList(await list));
      this.ok = true;
    } catch (err) {
      if ((err as ExporterError).reason === 'command_missing' && this.config.enabled === 'auto') {
        this.absent = true;
        this.ctx.log.info('zpool is not installed: no ZFS pools to watch');
        return;
      }
      this.say((err as Error).message);
      this.ctx.reportError(err instanceof ExporterError ? err : new ExporterError('other', (err as Error).message));
      this.ok = false;
    }
  }

  async samples(): Promise<Sample[]> {
    if (this.absent) return [];
    const stale = () => [...this.last, { metric: M.zpoolUp, value: 0 }];
    if (this.inflight) {
      // Still waiting on the last one (a suspended pool can hang zpool): no second zpool.
      this.say('the previous zpool has not returned (a suspended pool?): its last reading is kept');
      return stale();
    }
    const job = this.readOnce().finally(() => {
      if (this.inflight === job) this.inflight = undefined;
    });
    this.inflight = job;
    let timer: NodeJS.Timeout | undefined;
    const late = await Promise.race([job.then(() => false), new Promise<boolean>((r) => (timer = setTimeout(() => r(true), this.config.timeout + 500)))]);
    clearTimeout(timer);
    if (this.absent) return [];
    if (late) {
      this.say(`zpool did not answer within ${this.config.timeout} ms: its last reading is kept`);
      this.ctx.reportError(new ExporterError('timeout', `zpool did not answer within ${this.config.timeout} ms`));
      return stale();
    }
    return [...this.last, { metric: M.zpoolUp, value: this.ok ? 1 : 0 }];
  }
}
