/**
 * The expensive integrity check (restic check, borg check) on its own slow
 * schedule: started from a collection when due, never awaited by it, bounded by
 * its own timeout, and reported with its own result and timestamp.
 */
import type { Logger } from 'pino';
import type { InstanceContext, Sample } from '../../collector/contract.js';
import type { CheckConfig } from './schema.js';
import { M } from './metrics.js';

export class BackgroundCheck {
  private running: Promise<void> | undefined;
  private controller: AbortController | undefined;
  private lastStart: number | undefined;
  private stopping = false;
  private last: { ok: boolean; finished: number; durationMs: number } | undefined;

  constructor(
    private readonly config: CheckConfig,
    private readonly run: (signal: AbortSignal) => Promise<void>,
    private readonly log: Logger,
    private readonly now: () => number,
  ) {}

  /** Starts the check in the background if it is enabled, due and not running. */
  startIfDue(): void {
    if (!this.config.enabled || this.running) return;
    const t = this.now();
    if (this.lastStart !== undefined && t - this.lastStart < this.config.interval) return;
    this.lastStart = t;
    const controller = new AbortController();
    this.controller = controller;
    const timer = setTimeout(() => controller.abort(), this.config.timeout);
    timer.unref();
    this.log.info({ timeoutMs: this.config.timeout }, 'integrity check started');
    this.running = this.run(controller.signal)
      .then(
        () => {
          this.last = { ok: true, finished: this.now(), durationMs: this.now() - t };
          this.log.info({ durationMs: this.last.durationMs }, 'integrity check passed');
        },
        (err: Error) => {
          if (this.stopping) {
            this.log.info('integrity check aborted: shutting down');
            return;
          }
          this.last = { ok: false, finished: this.now(), durationMs: this.now() - t };
          this.log.error({ err: err.message, hint: (err as { hint?: string }).hint }, 'integrity check failed');
        },
      )
      .finally(() => {
        clearTimeout(timer);
        this.running = undefined;
      });
  }

  samples(): Sample[] {
    if (!this.last) return [];
    return [
      { metric: M.checkOk, value: this.last.ok ? 1 : 0 },
      { metric: M.checkTime, value: this.last.finished / 1000 },
      { metric: M.checkDuration, value: this.last.durationMs / 1000 },
    ];
  }

  /** Aborts a running check and waits for it to end. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.controller?.abort();
    await this.running;
  }

  /** For tests: resolves when the running check (if any) has ended. */
  async settled(): Promise<void> {
    await this.running;
  }
}

/** The `TOOL check ARGS` of a repository source, when its config has a check section. */
export function integrityCheck(
  config: CheckConfig | undefined,
  tool: string,
  run: (args: string[], signal: AbortSignal) => Promise<unknown>,
  ctx: InstanceContext,
): BackgroundCheck | undefined {
  if (!config) return undefined;
  return new BackgroundCheck(
    config,
    async (signal) => {
      await run(['check', ...config.args], signal);
    },
    ctx.log.child({ check: `${tool} check` }),
    ctx.now,
  );
}
