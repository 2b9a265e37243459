/** The remediator's metrics: what it did, what it refused, and how fast services came back. */
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { MetricSpec } from '../collector/contract.js';
import { FAILURE_START_SOURCES } from './journal.js';
import { ACTIONS } from './schema.js';

/** Label values known in advance, so that every series exists at 0 before its first event. */
export const ACTION_RESULTS = ['ok', 'failed', 'rolled_back', 'dry_run'] as const;
export const INCIDENT_OUTCOMES = ['recovered', 'failed', 'refused', 'resolved'] as const;
export const ESCALATION_REASONS = ['ladder_exhausted', 'rate_limited', 'interrupted', 'refire_in_cooldown'] as const;
export type EscalationReason = (typeof ESCALATION_REASONS)[number];

/** Buckets that resolve 5 s to 300 s around the two-minute target. */
export const RECOVERY_BUCKETS = [5, 10, 15, 20, 30, 45, 60, 90, 120, 150, 180, 240, 300];

export const remediatorMetricSpecs: readonly MetricSpec[] = [
  {
    name: 'homestation_remediator_actions_total',
    type: 'counter',
    labels: ['action', 'result', 'service'],
    help: 'Actions taken on services (restart, redeploy) by result: ok, failed, rolled_back, dry_run.',
  },
  {
    name: 'homestation_remediator_suppressions_total',
    type: 'counter',
    labels: ['reason'],
    help: 'Alerts the remediator did not act on, by reason (duplicate, cooldown, rate_limited, paused, not_opted_in, ...).',
  },
  {
    name: 'homestation_remediator_actions_in_progress',
    type: 'gauge',
    labels: [],
    help: 'Incidents being acted on right now.',
  },
  {
    name: 'homestation_remediator_incidents_total',
    type: 'counter',
    labels: ['outcome'],
    help: 'Incidents by outcome: recovered, failed (a human was told), refused, resolved (the alert ended first).',
  },
  {
    name: 'homestation_remediator_escalations_total',
    type: 'counter',
    labels: ['service', 'reason'],
    help: 'Times a human was asked to step in, by service and reason (ladder_exhausted, rate_limited, ...).',
  },
  {
    name: 'homestation_remediator_truncated_alerts_total',
    type: 'counter',
    labels: [],
    help: "Alerts Alertmanager left out of webhooks (truncatedAlerts, max_alerts): alerts nobody acted on.",
  },
  {
    name: 'homestation_remediator_engine_up',
    type: 'gauge',
    labels: [],
    help: '1 while the container engine answers; 0 while the remediator runs degraded without it (and retries).',
  },
  {
    name: 'homestation_remediator_paused',
    type: 'gauge',
    labels: [],
    help: '1 while remediation is paused by the API or CLI, else 0.',
  },
];

/** The recovery histogram (series _bucket, _sum, _count). */
export const RECOVERY_METRIC = 'homestation_recovery_seconds';
const RECOVERY_HELP =
  'Time from the best-known start of the failure to the verified recovery of a service; since says how the start is known: alert_start_minus_for (the alert start less its rule\'s for:), alert_start, manual.';

/** Every metric of the remediator, for the catalogue. */
export const remediatorCatalogue: readonly MetricSpec[] = [
  ...remediatorMetricSpecs,
  { name: RECOVERY_METRIC, type: 'histogram', unit: 'seconds', labels: ['service', 'since'], help: RECOVERY_HELP },
];

export class RemediatorMetrics {
  readonly actions: Counter<'action' | 'result' | 'service'>;
  readonly suppressions: Counter<'reason'>;
  readonly inProgress: Gauge;
  readonly incidents: Counter<'outcome'>;
  readonly escalations: Counter<'service' | 'reason'>;
  readonly paused: Gauge;
  readonly engineUp: Gauge;
  readonly truncated: Counter;
  readonly recovery: Histogram<'service' | 'since'>;

  constructor(registry: Registry) {
    const spec = (name: string) => remediatorMetricSpecs.find((m) => m.name === name) as MetricSpec;
    const opts = <L extends string>(name: string) => ({
      name,
      help: spec(name).help,
      labelNames: spec(name).labels as L[],
      registers: [registry],
    });
    this.actions = new Counter(opts<'action' | 'result' | 'service'>('homestation_remediator_actions_total'));
    this.suppressions = new Counter(opts<'reason'>('homestation_remediator_suppressions_total'));
    this.inProgress = new Gauge(opts('homestation_remediator_actions_in_progress'));
    this.incidents = new Counter(opts<'outcome'>('homestation_remediator_incidents_total'));
    this.escalations = new Counter(opts<'service' | 'reason'>('homestation_remediator_escalations_total'));
    this.paused = new Gauge(opts('homestation_remediator_paused'));
    this.engineUp = new Gauge(opts('homestation_remediator_engine_up'));
    this.truncated = new Counter(opts('homestation_remediator_truncated_alerts_total'));
    this.truncated.inc(0);
    this.engineUp.set(0);
    this.recovery = new Histogram({
      name: RECOVERY_METRIC,
      help: RECOVERY_HELP,
      labelNames: ['service', 'since'],
      buckets: RECOVERY_BUCKETS,
      registers: [registry],
    });
    for (const outcome of INCIDENT_OUTCOMES) this.incidents.inc({ outcome }, 0);
  }

  /**
   * Every series of a service at 0, as soon as the service is known (configured, or
   * named by its first alert): a counter born at 1 is an increase() of 0, and an
   * alert on it could never fire for the first event.
   */
  knowService(service: string): void {
    if (this.known.has(service)) return;
    this.known.add(service);
    for (const reason of ESCALATION_REASONS) this.escalations.inc({ service, reason }, 0);
    for (const action of ACTIONS) for (const result of ACTION_RESULTS) this.actions.inc({ action, result, service }, 0);
    for (const since of FAILURE_START_SOURCES) this.recovery.zero({ service, since });
  }

  /** Every suppression reason at 0 from the start. */
  knowSuppressions(reasons: readonly string[]): void {
    for (const reason of reasons) this.suppressions.inc({ reason }, 0);
  }

  private readonly known = new Set<string>();
}
