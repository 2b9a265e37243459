/**
 * Runs one exporter instance for the host. Pull instances collect in the
 * background on their interval, bounded by their timeout; stream instances are
 * started once and read at scrape time. Either way a scrape only reads the state
 * kept here: one slow, hanging or crashing instance affects its own series only.
 */
import { SpanStatusCode, trace } from '@opentelemetry/api';
import { scrubCredentials } from './scrub.js';
import type { Logger } from 'pino';
import {
  ERROR_REASONS,
  ExporterError,
  type ErrorReason,
  type ExporterInstance,
  type ExporterKind,
  type InstanceBase,
  type Sample,
} from './contract.js';

const tracer = trace.getTracer('homestation');

export interface LastError {
  readonly reason: ErrorReason;
  readonly message: string;
  readonly hint?: string;
  /** Milliseconds since the epoch. */
  readonly at: number;
}

/** What the host knows of an instance at this moment. */
export interface InstanceStatus {
  readonly exporter: string;
  readonly instance: string;
  readonly mode: 'pull' | 'stream' | 'unknown';
  readonly up: boolean;
  /** The first collection (or stream start) has ended, well or not. */
  readonly settled: boolean;
  readonly lastSuccess?: number;
  readonly lastAttempt?: number;
  readonly lastDurationMs?: number;
  readonly lastError?: LastError;
  /** When the current run of errors began (the first error since the last success). */
  readonly failingSince?: number;
  readonly errors: Readonly<Record<ErrorReason, number>>;
  /**
   * The samples to serve. A pull instance has none while down (old values are never
   * served as current); a stream serves its last-known model, which knows what expired.
   */
  readonly samples: readonly Sample[];
}

export interface RunnerDeps {
  readonly log: Logger;
  readonly now: () => number;
}

function asExporterError(err: unknown): ExporterError {
  if (err instanceof ExporterError) return err;
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ENOENT') return new ExporterError('unreachable', e.message, { cause: err });
  if (e?.code === 'EACCES' || e?.code === 'EPERM') return new ExporterError('auth', e.message, { cause: err });
  return new ExporterError('other', e?.message ?? String(err), { cause: err });
}

export class InstanceRunner {
  readonly exporter: string;
  readonly instance: string;
  private readonly log: Logger;
  private impl: ExporterInstance | undefined;
  private up = false;
  private settled = false;
  private samples: readonly Sample[] = [];
  private lastSuccess: number | undefined;
  private lastAttempt: number | undefined;
  private lastDurationMs: number | undefined;
  private lastError: LastError | undefined;
  private failingSince: number | undefined;
  private readonly errors = Object.fromEntries(ERROR_REASONS.map((r) => [r, 0])) as Record<ErrorReason, number>;
  private inflight: Promise<void> | undefined;
  private controller: AbortController | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** A stream's start() resolved: from then on its snapshot speaks for it. */
  private streamStarted = false;

  constructor(
    readonly kind: ExporterKind,
    readonly config: InstanceBase & Record<string, unknown>,
    private readonly deps: RunnerDeps,
  ) {
    this.exporter = kind.name;
    this.instance = config.name;
    this.log = deps.log.child({ exporter: kind.name, instance: config.name });
  }

  /** Creates the instance; a failure here is an error of this instance alone. */
  private async ensureCreated(): Promise<ExporterInstance> {
    this.impl ??= await this.kind.create(
      {
        exporter: this.exporter,
        instance: this.instance,
        log: this.log,
        now: this.deps.now,
        reportSuccess: () => {
          this.lastSuccess = this.deps.now();
          this.lastError = undefined;
          this.failingSince = undefined;
        },
        reportError: (err) => this.countError(err, this.deps.now()),
      },
      this.config,
    );
    return this.impl;
  }

  /** Starts background work: the collection loop, or the stream subscription. */
  start(): void {
    void this.tick();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.tick(), this.config.interval);
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    try {
      const impl = await this.ensureCreated().catch((err: unknown) => {
        this.fail(asExporterError(err), this.deps.now(), 0);
        return undefined;
      });
      if (!impl) return;
      if (impl.mode === 'stream') {
        await this.startStream(impl);
        return; // streams keep themselves current; nothing to schedule
      }
      await this.collectOnce();
    } finally {
      if (this.impl?.mode !== 'stream') this.schedule();
    }
  }

  /**
   * One round for `homestation collect`: a pull instance collects once; a stream
   * instance starts and is given until its timeout to come up.
   */
  async collectOrSync(): Promise<void> {
    const impl = await this.ensureCreated().catch((err: unknown) => {
      this.fail(asExporterError(err), this.deps.now(), 0);
      return undefined;
    });
    if (!impl) return;
    if (impl.mode === 'pull') return this.collectOnce();
    await this.startStream(impl);
    const end = Date.now() + this.config.timeout;
    while (Date.now() < end && !this.status().up) await new Promise((r) => setTimeout(r, 50));
    // Up: give retained messages and the first sync a moment to arrive.
    if (this.status().up) await new Promise((r) => setTimeout(r, Math.min(1000, Math.max(0, end - Date.now()))));
    if (this.timer) clearTimeout(this.timer);
  }

  private async startStream(impl: Extract<ExporterInstance, { mode: 'stream' }>): Promise<void> {
    const t0 = this.deps.now();
    try {
      await impl.start();
      this.streamStarted = true;
      this.settled = true;
    } catch (err) {
      this.fail(asExporterError(err), t0, this.deps.now() - t0);
      // Retry a failed start on the interval; a started stream reconnects itself.
      this.timer = setTimeout(() => void this.tick(), this.config.interval);
    }
  }

  /**
   * One collection of a pull instance, bounded by the timeout. Resolves when it
   * has ended or timed out, never later: a collection that ignores its abort
   * signal is left behind (and no new one starts until it ends).
   */
  async collectOnce(): Promise<void> {
    const t0 = this.deps.now();
    if (this.inflight) {
      this.fail(
        new ExporterError('timeout', 'the previous collection is still running past its timeout', {
          hint: 'the source is hanging (a dead network mount, a stuck tool); look at the host',
        }),
        t0,
        0,
      );
      return;
    }
    const impl = await this.ensureCreated().catch((err: unknown) => {
      this.fail(asExporterError(err), t0, 0);
      return undefined;
    });
    if (!impl || impl.mode !== 'pull') return;

    const controller = new AbortController();
    this.controller = controller;
    await tracer.startActiveSpan(
      `collect ${this.exporter}/${this.instance}`,
      { attributes: { 'homestation.exporter': this.exporter, 'homestation.instance': this.instance } },
      async (span) => {
        let timeoutTimer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<'timeout'>((resolve) => {
          timeoutTimer = setTimeout(() => resolve('timeout'), this.config.timeout);
        });
        const work = impl.collect(controller.signal);
        const settle = work.then(
          (samples) => ({ ok: true as const, samples }),
          (err: unknown) => ({ ok: false as const, err }),
        );
        this.inflight = settle.then(() => {
          this.inflight = undefined;
        });
        const outcome = await Promise.race([settle, timedOut]);
        clearTimeout(timeoutTimer);
        const took = this.deps.now() - t0;
        if (outcome === 'timeout') {
          controller.abort();
          this.fail(
            new ExporterError('timeout', `collection did not finish within ${this.config.timeout} ms`, {
              hint: 'raise the instance timeout, or find out why the source is slow',
            }),
            t0,
            took,
          );
        } else if (outcome.ok) {
          this.succeed(outcome.samples, t0, took);
        } else {
          this.fail(asExporterError(outcome.err), t0, took);
        }
        span.setAttribute('homestation.outcome', this.up ? 'success' : (this.lastError?.reason ?? 'other'));
        if (!this.up) span.setStatus({ code: SpanStatusCode.ERROR, message: this.lastError?.message });
        span.end();
      },
    );
  }

  private succeed(samples: Sample[], t0: number, took: number): void {
    if (!this.up && this.lastError) this.log.info({ durationMs: took }, 'collection works again');
    this.up = true;
    this.settled = true;
    this.samples = samples;
    this.lastSuccess = this.deps.now();
    this.lastAttempt = t0;
    this.lastDurationMs = took;
    this.lastError = undefined;
    this.failingSince = undefined;
  }

  private fail(err: ExporterError, t0: number, took: number): void {
    this.up = false;
    this.settled = true;
    this.samples = [];
    this.lastAttempt = t0;
    this.lastDurationMs = took;
    this.countError(err, this.deps.now());
  }

  /** Counts an error by reason and keeps it as the last one; logs once per change. */
  private countError(err: ExporterError, at: number): void {
    // Tools' own words pass through here: no credentials reach the log, / or the API.
    const message = scrubCredentials(err.message);
    const hint = err.hint === undefined ? undefined : scrubCredentials(err.hint);
    const repeated = this.lastError?.reason === err.reason && this.lastError.message === message;
    this.errors[err.reason] += 1;
    this.failingSince ??= at;
    this.lastError = { reason: err.reason, message, hint, at };
    // Say it once per change, not once per interval for ever.
    const line = { reason: err.reason, err: message, hint };
    if (repeated) this.log.debug(line, 'collection failed again');
    else this.log.error(line, 'collection failed');
  }

  status(): InstanceStatus {
    let { up, samples, lastError } = this;
    if (this.impl?.mode === 'stream' && this.streamStarted) {
      const snap = this.impl.snapshot();
      up = snap.up;
      samples = snap.samples;
      // The error the stream reported when it happened; its snapshot's word otherwise.
      if (up) lastError = undefined;
      else if (!lastError && snap.error) {
        lastError = { reason: snap.error.reason, message: scrubCredentials(snap.error.message), hint: snap.error.hint, at: this.deps.now() };
      }
    }
    return {
      exporter: this.exporter,
      instance: this.instance,
      mode: this.impl?.mode ?? 'unknown',
      up,
      settled: this.settled,
      lastSuccess: this.lastSuccess,
      lastAttempt: this.lastAttempt,
      lastDurationMs: this.lastDurationMs,
      lastError,
      failingSince: up ? undefined : (this.failingSince ?? lastError?.at),
      errors: { ...this.errors },
      samples,
    };
  }

  /** Stops scheduling, aborts a running collection and releases the instance. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.controller?.abort();
    if (this.impl?.mode === 'stream') await this.impl.stop();
    else if (this.impl?.stop) await this.impl.stop();
  }
}
