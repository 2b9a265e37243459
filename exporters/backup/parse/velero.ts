/**
 * Pure: Velero's Backup and Schedule resources (velero.io/v1) as backup sets. A set
 * is a Schedule's backups (the `velero.io/schedule-name` label Velero puts on each),
 * plus "manual" for backups made by hand. Fields as Velero's API types define them
 * (pkg/apis/velero/v1/backup_types.go, schedule_types.go).
 */
import { Cron } from 'croner';
import type { SetSummary } from './sets.js';
import type { Snapshot } from './types.js';

export interface VeleroBackup {
  readonly metadata: { readonly name: string; readonly labels?: Readonly<Record<string, string>>; readonly creationTimestamp?: string };
  readonly spec?: { readonly ttl?: string };
  readonly status?: {
    readonly phase?: string;
    readonly startTimestamp?: string | null;
    readonly completionTimestamp?: string | null;
    readonly expiration?: string | null;
    readonly errors?: number;
    readonly warnings?: number;
    readonly failureReason?: string;
    readonly validationErrors?: readonly string[] | null;
  };
}

export interface VeleroSchedule {
  readonly metadata: { readonly name: string; readonly creationTimestamp?: string };
  readonly spec?: { readonly schedule?: string; readonly paused?: boolean; readonly template?: { readonly ttl?: string } };
  readonly status?: { readonly phase?: string; readonly lastBackup?: string | null; readonly validationErrors?: readonly string[] | null };
}

/** The label Velero sets on every backup a Schedule makes. */
export const SCHEDULE_LABEL = 'velero.io/schedule-name';
/** The set of backups made by hand (`velero backup create`). */
export const MANUAL_SET = 'manual';

/** Ended and kept in storage: can be restored (PartiallyFailed with what it holds). */
const USABLE = new Set(['Completed', 'PartiallyFailed']);
/** Ended: the newest of these says whether the last run worked. */
const FINISHED = new Set(['Completed', 'PartiallyFailed', 'Failed', 'FailedValidation']);
/** Every phase Velero defines; another one is reported, not guessed at. */
const PHASES = new Set([
  'New',
  'FailedValidation',
  'InProgress',
  'WaitingForPluginOperations',
  'WaitingForPluginOperationsPartiallyFailed',
  'Finalizing',
  'FinalizingPartiallyFailed',
  'Completed',
  'PartiallyFailed',
  'Failed',
  'Deleting',
]);

export interface VeleroSetRule {
  readonly name: string;
  /** The Schedule whose backups form the set. */
  readonly schedule: string;
  /** Milliseconds; unset: from the Schedule's cron. */
  readonly expectedInterval?: number;
  readonly minRetention?: number;
}

export interface VeleroSet extends SetSummary {
  /** The newest finished backup ended Completed (1), or PartiallyFailed/Failed/FailedValidation (0); undefined: none finished. */
  readonly complete?: 0 | 1;
  /** Errors and warnings Velero counted in the newest finished backup. */
  readonly errors?: number;
  readonly warnings?: number;
  /** The newest finished backup, for messages. */
  readonly lastFinished?: { readonly name: string; readonly phase: string; readonly failureReason?: string };
}

export interface VeleroOptions {
  /** Declared sets; unset: one set per Schedule found. */
  readonly sets?: readonly VeleroSetRule[];
  /** Milliseconds: a set's interval when its Schedule's cron cannot say (and for declared sets without a Schedule). */
  readonly defaultInterval: number;
  readonly minRetention?: number;
}

export interface VeleroSummary {
  readonly sets: VeleroSet[];
  /** What was met and not understood, or is wrong in the cluster: reported, the rest still read. */
  readonly warnings: string[];
}

const seconds = (iso: string | null | undefined): number | undefined => {
  if (!iso) return undefined;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? undefined : ms / 1000;
};

const GO_UNITS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, 'µs': 0.001, ns: 0.000001 };

/** A Go time.Duration string ("720h0m0s", "1h30m") in milliseconds; undefined if it is not one. */
export function goDuration(text: string): number | undefined {
  if (!/^(\d+(\.\d+)?(h|ms|m|s|us|µs|ns))+$/.test(text)) return text === '0' ? 0 : undefined;
  let ms = 0;
  for (const [, n, u] of text.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s|us|µs|ns)/g)) ms += Number(n) * (GO_UNITS[u as string] as number);
  return ms;
}

const intervals = new Map<string, number | Error>();

/**
 * The longest wait between two runs of a Velero schedule, in milliseconds: what a
 * set may go without a new backup. Velero's cron (robfig/cron): five fields, the
 * descriptors (@daily, ...), `@every <Go duration>`, a `CRON_TZ=`/`TZ=` prefix.
 * Over the next 400 days (2,000 runs at most), from `from`.
 */
export function cronInterval(expr: string, from: Date): number | Error {
  const key = expr.trim();
  const known = intervals.get(key);
  if (known !== undefined) return known;
  let result: number | Error;
  const every = /^@every\s+(\S+)$/.exec(key);
  if (every) {
    const ms = goDuration(every[1] as string);
    result = ms && ms > 0 ? ms : new Error(`"${expr}": @every needs a duration such as 6h or 30m`);
  } else {
    const tz = /^(?:CRON_TZ|TZ)=(\S+)\s+(.*)$/.exec(key);
    const pattern = tz ? (tz[2] as string) : key;
    if (!pattern.startsWith('@') && pattern.split(/\s+/).length !== 5) {
      result = new Error(`"${expr}": a Velero schedule has five fields (minute hour day-of-month month day-of-week) or a descriptor such as @daily`);
    } else {
      try {
        const cron = new Cron(pattern, { timezone: tz ? (tz[1] as string) : 'UTC', paused: true });
        // One run at a time, up to the horizon: a daily schedule needs 400 runs, not 2,000.
        let gap = 0;
        const horizon = from.getTime() + 400 * 86_400_000;
        let prev = cron.nextRun(from);
        for (let i = 0; prev && prev.getTime() <= horizon && i < 2_000; i++) {
          const next = cron.nextRun(prev);
          if (!next) break;
          gap = Math.max(gap, next.getTime() - prev.getTime());
          prev = next;
        }
        result = gap > 0 ? gap : new Error(`"${expr}": the schedule does not run twice in the next 400 days`);
      } catch (err) {
        result = new Error(`"${expr}": ${(err as Error).message}`);
      }
    }
  }
  if (intervals.size > 1000) intervals.clear();
  intervals.set(key, result);
  return result;
}

/** The sets of a Velero namespace's backups and schedules. */
export function summarizeVelero(backups: readonly VeleroBackup[], schedules: readonly VeleroSchedule[], options: VeleroOptions, now: Date): VeleroSummary {
  const warnings: string[] = [];
  const bySet = new Map<string, VeleroBackup[]>();
  for (const b of backups) {
    const phase = b.status?.phase ?? '';
    if (phase !== '' && !PHASES.has(phase)) warnings.push(`backup ${b.metadata.name}: unknown phase "${phase}" (not counted)`);
    const set = b.metadata.labels?.[SCHEDULE_LABEL] || MANUAL_SET;
    const list = bySet.get(set);
    if (list) list.push(b);
    else bySet.set(set, [b]);
  }
  const scheduleByName = new Map(schedules.map((s) => [s.metadata.name, s]));
  for (const s of schedules) {
    if (s.status?.phase === 'FailedValidation') {
      warnings.push(`schedule ${s.metadata.name} failed Velero's validation and makes no backups: ${(s.status.validationErrors ?? []).join('; ') || 'no reason given'}`);
    }
    const ttl = s.spec?.template?.ttl;
    const keep = ttl ? goDuration(ttl) : 720 * 3_600_000; // Velero's default TTL: 30 days
    if (options.minRetention !== undefined && keep !== undefined && keep > 0 && keep < options.minRetention) {
      warnings.push(`schedule ${s.metadata.name} keeps its backups ${ttl ?? '720h'} (spec.template.ttl), less than the minimum retention: they are deleted before it is reached`);
    }
  }

  const rules: VeleroSetRule[] = options.sets
    ? [...options.sets]
    : [...new Set([...schedules.map((s) => s.metadata.name), ...bySet.keys()])].filter((n) => n !== MANUAL_SET || bySet.has(MANUAL_SET)).sort().map((n) => ({ name: n, schedule: n }));

  const sets: VeleroSet[] = [];
  for (const rule of rules) {
    const items = bySet.get(rule.schedule) ?? [];
    const schedule = scheduleByName.get(rule.schedule);
    let expectedInterval = rule.expectedInterval;
    if (expectedInterval === undefined) {
      if (rule.schedule === MANUAL_SET && !schedule) expectedInterval = 0; // by hand: no rhythm to expect
      else if (schedule?.spec?.schedule) {
        const cron = cronInterval(schedule.spec.schedule, now);
        if (cron instanceof Error) warnings.push(`schedule ${rule.schedule}: ${cron.message}; expecting a backup every ${options.defaultInterval / 3_600_000} h`);
        expectedInterval = cron instanceof Error ? options.defaultInterval : cron;
      } else {
        if (!schedule && options.sets) warnings.push(`set ${rule.name}: no schedule named "${rule.schedule}" in the namespace`);
        expectedInterval = options.defaultInterval;
      }
    }
    const usable: Snapshot[] = [];
    let lastFinished: VeleroBackup | undefined;
    let lastFinishedAt = -Infinity;
    for (const b of items) {
      const phase = b.status?.phase ?? '';
      const started = seconds(b.status?.startTimestamp) ?? seconds(b.metadata.creationTimestamp);
      if (USABLE.has(phase) && started !== undefined) usable.push({ time: started, name: b.metadata.name });
      if (FINISHED.has(phase)) {
        const at = seconds(b.status?.completionTimestamp) ?? started ?? seconds(b.metadata.creationTimestamp) ?? 0;
        if (at > lastFinishedAt) {
          lastFinishedAt = at;
          lastFinished = b;
        }
      }
    }
    let newest: Snapshot | undefined;
    let oldest: Snapshot | undefined;
    for (const s of usable) {
      if (!newest || s.time > newest.time) newest = s;
      if (!oldest || s.time < oldest.time) oldest = s;
    }
    const minRetention = rule.minRetention ?? options.minRetention;
    const status = lastFinished?.status;
    sets.push({
      name: rule.name,
      count: usable.length,
      expectedInterval,
      ...(minRetention !== undefined ? { minRetention } : {}),
      ...(newest ? { newest } : {}),
      ...(oldest ? { oldest } : {}),
      ...(lastFinished
        ? {
            complete: status?.phase === 'Completed' ? 1 : 0,
            errors: status?.errors ?? 0,
            warnings: status?.warnings ?? 0,
            lastFinished: { name: lastFinished.metadata.name, phase: status?.phase as string, ...(status?.failureReason ? { failureReason: status.failureReason } : {}) },
          }
        : {}),
    });
  }
  return { sets, warnings };
}
