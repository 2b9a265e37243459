/**
 * The Jetson source: one long-lived `tegrastats --interval N` (not one process per
 * scrape), each line parsed as it comes. The process is started again with backoff
 * if it exits; a stream silent for `silent_after` intervals is reported (the
 * instance reads down, the last reading is kept, as the stream contract says) and,
 * silent twice as long, killed and started again.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { InstanceContext, Sample, StreamInstance, StreamSnapshot } from '../../collector/contract.js';
import { ExporterError } from '../../collector/contract.js';
import { M } from './metrics.js';
import { WarnOnce } from '../../collector/warn-once.js';
import { parseTegrastatsLine } from './parse/tegrastats.js';
import { tegraSamples } from './samples.js';

export interface TegrastatsConfig {
  readonly command: string;
  /** Milliseconds between lines. */
  readonly interval: number;
  /** Intervals without a line before the stream is reported silent. */
  readonly silent_after: number;
  /** Watts per rail name, for the over-budget alert. */
  readonly rail_budgets: Readonly<Record<string, number>>;
}

const MAX_BACKOFF_MS = 30_000;

export class TegrastatsStream implements StreamInstance {
  readonly mode = 'stream' as const;
  private child?: ChildProcess;
  private samples: Sample[] = [];
  private lastLineAt = 0;
  /** When the running process was started: a new one gets its own silent window. */
  private spawnedAt = 0;
  private unparsed = 0;
  private error?: ExporterError;
  private stopped = false;
  private backoff = 1000;
  private restartTimer?: NodeJS.Timeout;
  private watchdog?: NodeJS.Timeout;
  private readonly warned: WarnOnce;

  constructor(
    private readonly ctx: InstanceContext,
    private readonly config: TegrastatsConfig,
  ) {
    this.warned = new WarnOnce(ctx.log);
  }

  /** Resolves once tegrastats runs; rejects when it cannot be started (the host retries). */
  async start(): Promise<void> {
    this.stopped = false;
    await this.spawnOnce();
    this.watchdog = setInterval(() => this.checkSilence(), this.config.interval);
    this.watchdog.unref();
  }

  private fail(err: ExporterError): void {
    this.error = err;
    this.ctx.reportError(err);
  }

  private spawnOnce(): Promise<void> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.config.command, ['--interval', String(this.config.interval)], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      this.child = child;
      this.spawnedAt = this.ctx.now();
      const started = Date.now();
      let stderr = '';
      child.stderr?.on('data', (c: Buffer) => {
        if (stderr.length < 4096) stderr += c.toString('utf8');
      });
      child.once('spawn', () => resolve());
      child.once('error', (e: NodeJS.ErrnoException) => {
        const err =
          e.code === 'ENOENT'
            ? new ExporterError('command_missing', `${this.config.command} was not found`, { hint: 'tegrastats ships with Jetson Linux (L4T); set gpu.tegrastats.command to its path' })
            : new ExporterError('other', `${this.config.command} could not be started: ${e.message}`);
        if (this.child === child) this.child = undefined;
        reject(err);
      });
      createInterface({ input: child.stdout! }).on('line', (line) => this.onLine(line));
      child.once('exit', (code, signal) => {
        if (this.child === child) this.child = undefined;
        if (this.stopped) return;
        const ran = Math.round((Date.now() - started) / 1000);
        this.fail(new ExporterError('other', `${this.config.command} exited (${code ?? signal}) after ${ran} s${stderr.trim() ? `: ${stderr.trim().split('\n')[0]}` : ''}; started again in ${this.backoff / 1000} s`));
        this.scheduleRestart();
      });
    });
  }

  private scheduleRestart(): void {
    if (this.stopped || this.restartTimer) return;
    const wait = this.backoff;
    this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF_MS);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.stopped) return;
      this.spawnOnce().catch((err: ExporterError) => {
        this.fail(err);
        this.scheduleRestart();
      });
    }, wait);
    this.restartTimer.unref();
  }

  private onLine(line: string): void {
    if (!line.trim()) return;
    const s = parseTegrastatsLine(line);
    for (const u of s.unknown) this.warned.warn(u, { token: u }, 'tegrastats printed something this exporter does not understand; the rest is kept');
    if (!s.ram && !s.gpus.length && !s.cpus.length) {
      // Not a tegrastats line at all (a message, garbage): not a reading.
      this.unparsed += 1;
      return;
    }
    this.unparsed = s.unknown.length;
    this.samples = tegraSamples(s, this.config.rail_budgets);
    this.lastLineAt = this.ctx.now();
    this.backoff = 1000;
    this.error = undefined;
    this.ctx.reportSuccess();
  }

  private silentFor(): number {
    return this.ctx.now() - this.lastLineAt;
  }

  private checkSilence(): void {
    if (this.stopped || !this.child) return;
    const limit = this.config.silent_after * this.config.interval;
    const silent = this.ctx.now() - Math.max(this.lastLineAt, this.spawnedAt);
    if (silent <= limit) return;
    if (this.error?.reason !== 'timeout') {
      this.fail(new ExporterError('timeout', `${this.config.command} printed nothing for ${Math.round(silent / 1000)} s (interval ${this.config.interval / 1000} s)`, { hint: 'tegrastats is stuck; it is started again if it stays silent' }));
    }
    if (silent > 2 * limit) {
      this.ctx.log.warn({ silentMs: silent }, 'tegrastats silent: killed and started again');
      this.killChild();
      this.scheduleRestart();
    }
  }

  private killChild(): void {
    const child = this.child;
    this.child = undefined;
    if (child?.pid === undefined) return;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }

  snapshot(): StreamSnapshot {
    const fresh = this.child !== undefined && this.lastLineAt > 0 && this.silentFor() <= this.config.silent_after * this.config.interval;
    const samples: Sample[] = [...this.samples, { metric: M.unparsed, labels: { source: 'tegrastats' }, value: this.unparsed }];
    if (this.lastLineAt > 0) samples.push({ metric: M.readingAge, labels: { source: 'tegrastats' }, value: this.lastLineAt / 1000 });
    // Down for silence before the watchdog's next tick has said so: the same words.
    const why =
      this.error ??
      (this.lastLineAt > 0
        ? new ExporterError('timeout', `${this.config.command} printed nothing for ${Math.round(this.silentFor() / 1000)} s (interval ${this.config.interval / 1000} s)`)
        : new ExporterError('timeout', `no reading from ${this.config.command} yet`));
    return { up: fresh, samples, ...(fresh ? {} : { error: why }) };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.watchdog);
    clearTimeout(this.restartTimer);
    const child = this.child;
    if (child?.pid === undefined) return;
    const exited = new Promise((r) => child.once('exit', r));
    try {
      process.kill(-child.pid, 'SIGTERM');
    } catch {
      return;
    }
    await Promise.race([exited, new Promise((r) => setTimeout(r, 2000).unref())]);
    this.killChild();
  }
}
