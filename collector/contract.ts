/**
 * The exporter contract: what every exporter kind declares and what the collector
 * host does for it. Stated once, here.
 *
 * An exporter kind lives in its own folder under exporters/, exports one
 * `ExporterKind` and is listed by one line in collector/registry.ts. The host
 * composes the root config schema from the kinds, creates one instance per
 * configured entry (several may run: two restic repositories, two brokers), and
 * owns everything around the collection itself: scheduling, timeouts, the
 * `homestation_exporter_*` self-metrics, logging, tracing and the exposition.
 */
import type { TObject } from '@sinclair/typebox';
import type { Logger } from 'pino';

/** Metric types. Exporters emit gauges and counters; histograms are the host's and the remediator's own. */
export type MetricType = 'gauge' | 'counter' | 'histogram';

/**
 * One catalogue entry. Every series an exporter emits must be declared here: the
 * catalogue is what `homestation metrics` prints, what docs/metrics.md holds and
 * what rules and dashboards may reference.
 */
export interface MetricSpec {
  /** Full name, `homestation_<exporter>_<thing>_<unit>`; `_total` only on counters. */
  readonly name: string;
  readonly type: MetricType;
  /** One sentence; every metric has its own. */
  readonly help: string;
  /** Base unit, when the value has one (seconds, bytes, ratio, ...). */
  readonly unit?: string;
  /**
   * Label names besides `exporter_instance`, which the host adds to every series
   * of an exporter. Bounded: no data such as hashes, versions or free text.
   */
  readonly labels: readonly string[];
}

/** One value of a declared metric. */
export interface Sample {
  readonly metric: string;
  /**
   * Never changed once given: the exposition keeps each labels object's rendered
   * text while the object lives, so an exporter that keeps one object per series
   * (across snapshots) has its labels escaped and joined once.
   */
  readonly labels?: Readonly<Record<string, string>>;
  readonly value: number;
}

/**
 * The exposition keeps a sample object's rendered line on the object itself, under this
 * key (collector/sample-text.ts). A sample kept across scrapes declares it when it is
 * made (`[RENDERED]: undefined`): the line then sits in the object's own storage. Added
 * later, the property gave each such object a property array of its own (V8), 1.6 MB
 * of heap at 20,000 series (a heap snapshot of bench:scrape).
 */
export const RENDERED: unique symbol = Symbol('homestation.rendered');

/** A sample kept from snapshot to snapshot (its value may be set in place), the slot declared. */
export interface KeptSample extends Sample {
  readonly labels: Readonly<Record<string, string>>;
  value: number;
  [RENDERED]: unknown;
}

/** A kept sample, made with the exposition's slot (one shape for every exporter's kept samples). */
export function keptSample(metric: string, labels: Readonly<Record<string, string>>, value: number): KeptSample {
  return { metric, labels, value, [RENDERED]: undefined };
}

/**
 * Labels and more labels, as one new object: use it, not `{ ...labels, unit }`, for
 * labels made per series. V8 gives every object made by a spread followed by more
 * properties a hidden class of its own (node 20: 1,500 Home Assistant value series
 * had 1,500 maps in a heap snapshot), where Object.assign's share one.
 */
export function withLabels(base: Readonly<Record<string, string>>, more: Readonly<Record<string, string>>): Record<string, string> {
  return Object.assign({}, base, more);
}

/**
 * Why a collection failed. A small fixed set, so that
 * `homestation_exporter_errors_total{reason}` stays bounded and alertable.
 * `locked` is restic's and borg's "repository is locked by another process".
 */
export const ERROR_REASONS = [
  'timeout',
  'auth',
  'unreachable',
  'locked',
  'parse',
  'command_missing',
  'other',
] as const;
export type ErrorReason = (typeof ERROR_REASONS)[number];

/**
 * The error an exporter throws when a collection fails. `message` says what
 * happened, `hint` what the user should do about it; neither may hold a secret.
 */
export class ExporterError extends Error {
  readonly reason: ErrorReason;
  readonly hint: string | undefined;
  constructor(reason: ErrorReason, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = 'ExporterError';
    this.reason = reason;
    this.hint = options.hint;
  }
}

/** Settings every instance has, whatever its kind. Durations are milliseconds here. */
export interface InstanceBase {
  readonly name: string;
  readonly interval: number;
  readonly timeout: number;
}

/** What an instance is given at creation: one typed context, no globals. */
export interface InstanceContext {
  readonly exporter: string;
  readonly instance: string;
  readonly log: Logger;
  /** Wall clock in milliseconds; tests pass their own. */
  readonly now: () => number;
  /**
   * Streams: a sync or a live message arrived. It is the instance's last success
   * (homestation_exporter_last_success_timestamp_seconds). Cheap: call it per message.
   */
  readonly reportSuccess: () => void;
  /**
   * Streams: a connection attempt, login or sync failed. The host counts it in
   * homestation_exporter_errors_total{reason} and logs it once per change.
   */
  readonly reportError: (err: ExporterError) => void;
}

/**
 * A pull instance: the host calls `collect` on the instance's interval in the
 * background, bounded by its timeout (the signal aborts then), and serves the last
 * result at scrape time. A scrape never waits for a collection.
 */
export interface PullInstance {
  readonly mode: 'pull';
  /** Resolves with every sample, or throws (preferably an ExporterError). */
  collect(signal: AbortSignal): Promise<Sample[]>;
  /** Releases timers and child processes; called once at shutdown. */
  stop?(): Promise<void>;
}

/**
 * What a stream instance reports at scrape time. `samples` are served whether or
 * not it is up: a disconnect keeps the last-known model (its `connected` gauge
 * reads 0, device states and last-seen times stay, values expire by their TTL).
 */
export interface StreamSnapshot {
  readonly up: boolean;
  readonly samples: readonly Sample[];
  /** When `up` is false: why. */
  readonly error?: ExporterError;
}

/**
 * A stream instance (MQTT, BLE, a WebSocket): it subscribes in `start`, keeps its
 * own state up to date from events, and `snapshot` reads that state at scrape time
 * (cheap, synchronous, no I/O). `stop` removes every listener and closes sockets.
 */
export interface StreamInstance {
  readonly mode: 'stream';
  start(): Promise<void>;
  stop(): Promise<void>;
  snapshot(): StreamSnapshot;
}

export type ExporterInstance = PullInstance | StreamInstance;

/** A problem found by a kind's own cross-field validation, at a path of its config. */
export interface ConfigProblem {
  /** Path below the instance, e.g. ['restic', 'password_file']. */
  readonly path: readonly (string | number)[];
  readonly message: string;
}

/**
 * Something wrong in the homelab right now, for the status page: a person reads
 * these first, worst and oldest first. Derived from the samples the instance serves.
 */
export interface Finding {
  readonly severity: 'critical' | 'warning';
  /** What it is about: "backup set postgres", "device kitchen/sensor". */
  readonly subject: string;
  /** What is wrong, in a few words. */
  readonly problem: string;
  /** Since when (ms since the epoch), where it is known: shown as the age. */
  readonly since?: number;
}

/** What an instance's samples say of the things it watches. */
export interface Review {
  readonly findings: readonly Finding[];
  /** What is fine, in one short line ("4 sets, newest 3 h ago"). */
  readonly fine: string;
}

/** An exporter kind: its config schema, its metric catalogue and its factory. */
export interface ExporterKind<Config = unknown> {
  /** Registry key = folder name = `exporter` label = key under `exporters:`. */
  readonly name: string;
  /** One line for `--help`, the status page and docs. */
  readonly description: string;
  /** The instance options besides name/interval/timeout, as a TypeBox object. */
  readonly schema: TObject;
  /** Defaults a homelab user would pick for this kind's schedule. */
  readonly defaults: { readonly interval: string; readonly timeout: string };
  readonly metrics: readonly MetricSpec[];
  /**
   * Metrics an instance's config declares (MQTT payload metrics), besides the
   * static catalogue; their labels, like the catalogue's, come after exporter_instance.
   */
  configuredMetrics?(config: Config & InstanceBase): MetricSpec[];
  /** Reads the samples an instance serves as findings for the status page (pure, cheap). */
  review?(samples: readonly Sample[], now: number): Review;
  /** Cross-field checks the schema cannot state; paths are below the instance. */
  validate?(config: Config & InstanceBase): ConfigProblem[];
  /**
   * Makes an instance. Heavy libraries (mqtt, node-ble, an SDK) are imported here,
   * dynamically, so that a kind nobody configured costs no memory.
   */
  create(ctx: InstanceContext, config: Config & InstanceBase): ExporterInstance | Promise<ExporterInstance>;
}

/** Identity helper that keeps a kind's config type while storing it untyped. */
export function defineExporter<Config>(kind: ExporterKind<Config>): ExporterKind {
  return kind as unknown as ExporterKind;
}
