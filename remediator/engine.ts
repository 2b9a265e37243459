/**
 * The remediator's decisions and actions. An alert is decided synchronously (the
 * journal is synchronous SQLite, so two copies of one webhook cannot both pass the
 * duplicate check), then acted on in the background: guards first, then the
 * escalation ladder, each step followed by a recovery check. Every guard fails
 * closed: one that cannot be evaluated refuses the action.
 */
import { SpanStatusCode, trace } from '@opentelemetry/api';
import type { Logger } from 'pino';
import type { ContainerInfo, DockerDriver } from './docker/driver.js';
import { OPT_IN_LABEL } from './docker/driver.js';
import { buildGraph, dependenciesOf, restartedWith, type Graph } from './graph.js';
import { Hosts } from './hosts.js';
import { servicesView, type ServicesView } from './services-view.js';
import { Migrator } from './migrate/migrator.js';
import type { FailureStartSource, Incident, Journal } from './journal.js';
import type { EscalationReason, RemediatorMetrics } from './metrics.js';
import type { Approvals } from './chat/approvals.js';
import { silenceInAlertmanager } from './chat/approvals.js';
import type { AlertInfo } from './chat/view.js';
import type { Notifier } from './notify.js';
import { alertKey, matchPolicy } from './policy.js';
import { checkOnce, waitForRecovery, type CheckResult } from './probe.js';
import { LOCAL_HOST, SERVICE_DEFAULTS, type ActionName, type PolicyConfig, type RemediatorConfig, type ServiceConfig, type StepConfig } from './schema.js';
import { parseDuration } from '../collector/duration.js';
import type { WebhookAlert, WebhookPayload } from './webhook-schema.js';
import { describeRef, Refused, workloadHealth, type KubernetesDriver, type Pod, type Workload, type WorkloadRef } from './kubernetes/driver.js';

const tracer = trace.getTracer('homestation-remediator');

/**
 * The best-known start of the failure behind an alert: its startsAt less its rule's
 * `for:` (the detection_for annotation of the shipped remediable rules: the failure
 * began that long before the alert fired), else startsAt itself.
 */
export function failureStart(alert: WebhookAlert, now: number): { startsAt: number; since: FailureStartSource } {
  const startsAt = Date.parse(alert.startsAt);
  if (Number.isNaN(startsAt)) return { startsAt: now, since: 'alert_start' };
  const forText = alert.annotations?.detection_for;
  if (forText && /^(\d+(ms|s|m|h))+$/.test(forText)) return { startsAt: startsAt - parseDuration(forText), since: 'alert_start_minus_for' };
  return { startsAt, since: 'alert_start' };
}

/**
 * An alert whose failure started within this of an incident's is that incident's
 * failure (the scrape, probe timeout and evaluation before Prometheus sees it: 35 s
 * with the shipped configs, with room to spare).
 */
const ALERT_DEDUP_WINDOW_MS = 60_000;

/** A hung service gets no graceful stop: its SIGTERM would go unanswered for the whole grace period. */
const HUNG_STOP_TIMEOUT_MS = 0;
/** How long a dependent gets to come back by itself once its dependency is back, before it is restarted too. */
const DEPENDENT_GRACE_MS = 10_000;

/** Refusals a resend of the same alert cannot change: made once per alert. */
const PERMANENT_REFUSALS = new Set(['not_opted_in', 'self', 'no_service']);

export interface EngineDeps {
  readonly config: RemediatorConfig;
  readonly journal: Journal;
  /** The local engine; with `hosts`, the one named "local". */
  readonly driver: DockerDriver;
  /** Every engine by name and where each service runs (default: the local engine alone). */
  readonly hosts?: Hosts;
  readonly metrics: RemediatorMetrics;
  readonly notifier: Notifier;
  /** Where a step marked approve: true waits for a human (default: nobody answers, the timeout decides). */
  readonly approvals?: Approvals;
  readonly log: Logger;
  readonly now?: () => number;
  /** This process's own container, never touched (from /proc/self/cgroup or HOSTNAME). */
  readonly selfContainerIds?: readonly string[];
  /** The Kubernetes target (remediator.kubernetes.enabled). */
  readonly kube?: KubernetesDriver;
}

/** The label a workload carries to be remediated without being listed (as containers do). */
export const KUBE_ROLE_LABEL = 'homestation.role';

export interface ReceiveResult {
  readonly accepted: number;
  readonly duplicates: number;
}

/** Why an alert was not acted on. */
export const SUPPRESSIONS = [
  'no_policy',
  'no_service',
  'duplicate',
  'in_progress',
  'cooldown',
  'rate_limited',
  'paused',
  'maintenance',
  'not_found',
  'not_opted_in',
  'self',
  'already_healthy',
  'dependency_down',
  'guard_error',
  /** Kubernetes itself will do what is needed (and when is said). */
  'kubernetes_acts',
] as const;
export type Suppression = (typeof SUPPRESSIONS)[number];

/** The chat's line for a service back after a step of its ladder. */
const backAfter = (service: string, action: string, seconds: number, since: string) =>
  `${service} is back after ${action}, ${seconds.toFixed(1)} s after it failed (${since.replace(/_/g, ' ')})`;

/** A counting semaphore: the global cap on concurrent actions. */
class Semaphore {
  private waiting: (() => void)[] = [];
  private held = 0;
  constructor(private readonly size: number) {}
  async acquire(): Promise<() => void> {
    if (this.held >= this.size) await new Promise<void>((r) => this.waiting.push(r));
    this.held += 1;
    return () => {
      this.held -= 1;
      this.waiting.shift()?.();
    };
  }
}

export class Engine {
  private readonly config: RemediatorConfig;
  private readonly journal: Journal;
  readonly hosts: Hosts;
  private readonly migrator: Migrator;
  private readonly metrics: RemediatorMetrics;
  private readonly notifier: Notifier;
  readonly approvals: Approvals | undefined;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly locks = new Set<string>();
  private readonly semaphore: Semaphore;
  private readonly work = new Set<Promise<void>>();
  private readonly selfIds: readonly string[];
  /** Incidents whose alert resolved while their ladder was running. */
  private readonly resolvedWhileActing = new Set<number>();
  private readonly kube: KubernetesDriver | undefined;
  /** Workloads named by their alerts' labels (not listed): service name -> workload. */
  private readonly kubeRefs = new Map<string, WorkloadRef>();

  constructor(deps: EngineDeps) {
    this.config = deps.config;
    this.journal = deps.journal;
    this.metrics = deps.metrics;
    this.notifier = deps.notifier;
    this.approvals = deps.approvals;
    this.log = deps.log;
    this.now = deps.now ?? Date.now;
    this.hosts = deps.hosts ?? Hosts.single(deps.driver, deps.journal);
    this.migrator = new Migrator(this.hosts, deps.journal, deps.log, this.now);
    this.semaphore = new Semaphore(deps.config.max_concurrent_actions);
    this.selfIds = deps.selfContainerIds ?? [];
    this.kube = deps.kube;
    this.metrics.paused.set(this.paused ? 1 : 0);
    this.metrics.knowSuppressions(SUPPRESSIONS);
    for (const s of deps.config.services) this.metrics.knowService(s.name);
    for (const p of deps.config.policies) if (p.service) this.metrics.knowService(p.service);
  }

  // --- switches --------------------------------------------------------------

  get paused(): boolean {
    return this.journal.getState('paused') === 'true';
  }

  setPaused(paused: boolean, by: string): void {
    this.journal.setState('paused', paused ? 'true' : undefined);
    this.journal.entry({ at: this.now(), incidentId: null, service: null, kind: 'decision', what: paused ? 'pause' : 'resume', result: 'ok', detail: by });
    this.metrics.paused.set(paused ? 1 : 0);
    this.log.warn({ by }, paused ? 'remediation paused' : 'remediation resumed');
  }

  /** Maintenance silences: service -> until (ms since the epoch). */
  silences(): Record<string, number> {
    const all = JSON.parse(this.journal.getState('silences') ?? '{}') as Record<string, number>;
    const now = this.now();
    return Object.fromEntries(Object.entries(all).filter(([, until]) => until > now));
  }

  silence(service: string, untilMs: number, by: string): void {
    const all = { ...this.silences(), [service]: untilMs };
    this.journal.setState('silences', JSON.stringify(all));
    this.journal.entry({ at: this.now(), incidentId: null, service, kind: 'decision', what: 'silence', result: 'ok', detail: `until ${new Date(untilMs).toISOString()} by ${by}` });
  }

  // --- receiving -------------------------------------------------------------

  /** Records and dispatches a webhook's alerts; returns at once. One log line per request, with counts. */
  receive(payload: WebhookPayload): ReceiveResult {
    let accepted = 0;
    let duplicates = 0;
    const tally: Partial<Record<string, number>> = {};
    this.tally = tally;
    try {
      for (const alert of payload.alerts) {
        const key = alertKey(alert.fingerprint, alert.startsAt);
        const fresh = this.journal.recordAlert(key, alert.status, alert.fingerprint, alert.startsAt, alert.labels, this.now());
        if (fresh) accepted += 1;
        else duplicates += 1;
        if (alert.status === 'resolved') this.onResolved(key, alert);
        else this.onFiring(key, alert, fresh, payload.externalURL);
      }
    } finally {
      this.tally = undefined;
    }
    const truncated = payload.truncatedAlerts ?? 0;
    if (truncated > 0) {
      // Alerts Alertmanager did not send are alerts nobody acts on: say so loudly.
      this.metrics.truncated.inc(truncated);
      this.log.warn({ truncated, groupKey: payload.groupKey }, `Alertmanager left ${truncated} alerts out of this webhook (max_alerts): they are not acted on`);
    }
    const suppressed = Object.keys(tally).length ? { suppressed: tally } : {};
    this.log.info({ alerts: payload.alerts.length, accepted, duplicates, ...suppressed }, 'webhook received');
    return { accepted, duplicates };
  }

  /** Suppressions of the request being received, counted for its one log line. */
  private tally: Partial<Record<string, number>> | undefined;

  private suppress(reason: Suppression, service: string | null, detail: string, incidentId: number | null = null): void {
    this.metrics.suppressions.inc({ reason });
    this.journal.entry({ at: this.now(), incidentId, service, kind: 'decision', what: 'suppressed', result: reason, detail });
    if (this.tally) {
      this.tally[reason] = (this.tally[reason] ?? 0) + 1;
      this.log.debug({ service, reason }, `not acting: ${detail}`);
    } else this.log.info({ service, reason }, `not acting: ${detail}`);
  }

  /**
   * A resolved alert closes its incident: one still acting stops before its next
   * step; one that failed (waiting for a human) is marked resolved.
   */
  private onResolved(key: string, alert: WebhookAlert): void {
    const incident = this.journal.latestForKey(key);
    this.journal.entry({
      at: this.now(),
      incidentId: incident?.id ?? null,
      service: incident?.service ?? alert.labels.service ?? null,
      kind: 'alert',
      what: alert.labels.alertname ?? 'alert',
      result: 'resolved',
      detail: key,
    });
    if (incident?.state === 'acting') this.resolvedWhileActing.add(incident.id);
    if (incident?.state === 'failed') {
      this.journal.closeIncident(incident.id, 'resolved', 'the alert resolved', this.now(), incident.recoverySeconds);
      void this.notifier.notify({ kind: 'recovered', service: incident.service, incidentId: incident.id, message: `${incident.service}: the alert resolved` });
    }
  }

  private onFiring(key: string, alert: WebhookAlert, fresh: boolean, alertmanagerUrl?: string): void {
    const name = alert.labels.alertname ?? 'alert';
    const match = matchPolicy(alert.labels, this.config.policies);
    if (fresh) {
      this.journal.entry({ at: this.now(), incidentId: null, service: match?.service ?? null, kind: 'alert', what: name, result: 'firing', detail: key });
    }
    if (!match) return this.suppress('no_policy', null, `no policy matches ${name} ${JSON.stringify(alert.labels)}`);
    const l = alert.labels;
    if (!match.service && this.kube && l.namespace && (l.deployment || l.statefulset || l.daemonset || l.pod)) {
      // A kube-state-metrics / kubernetes-mixin alert: the workload from its labels (a pod's through its controller).
      const kube = this.kube;
      void kube
        .resolve(l)
        .then((ref) => {
          const service = `${ref.namespace}/${ref.name}`;
          if (!this.config.services.some((s) => s.name === service)) {
            this.kubeRefs.set(service, ref);
            // Kept: an incident of it found unfinished after a restart knows its workload.
            this.journal.setState(`kube_ref:${service}`, JSON.stringify(ref));
          }
          this.onFiringFor(service, match, key, alert, alertmanagerUrl);
        })
        .catch((err: Error) => this.suppress('no_service', null, `${name}: no workload found from ${JSON.stringify(l)}: ${err.message}`));
      return;
    }
    if (!match.service) return this.suppress('no_service', null, `policy ${match.index} names no service and the alert has no "service" label`);
    this.onFiringFor(match.service, match, key, alert, alertmanagerUrl);
  }

  private onFiringFor(service: string, match: NonNullable<ReturnType<typeof matchPolicy>>, key: string, alert: WebhookAlert, alertmanagerUrl?: string): void {
    const name = alert.labels.alertname ?? 'alert';
    this.metrics.knowService(service);
    const cooldown = match.policy.cooldown ?? this.config.cooldown;
    // One refusal per alert: a refusal that resending cannot change is not made again.
    const refusal = this.journal.refusedForKey(key);
    if (refusal && PERMANENT_REFUSALS.has(refusal.reason ?? '')) {
      return this.suppress('duplicate', service, `already refused as incident ${refusal.id} (${refusal.reason})`, refusal.id);
    }
    const previous = this.journal.latestForKey(key);
    if (previous && (previous.state === 'acting' || (previous.endedAt !== null && this.now() - previous.endedAt < cooldown))) {
      return this.suppress('duplicate', service, `already handled as incident ${previous.id} (${previous.state})`, previous.id);
    }
    const info: AlertInfo = {
      name,
      ...(alert.annotations?.summary ? { summary: alert.annotations.summary } : {}),
      ...(alert.labels.severity ? { severity: alert.labels.severity } : {}),
      ...(alertmanagerUrl ? { alertmanagerUrl } : {}),
      ...(alert.generatorURL ? { sourceUrl: alert.generatorURL } : {}),
    };
    this.decide(service, match.policy.ladder, { key, name, ...failureStart(alert, this.now()), cooldown, policy: match.policy, alert: info });
  }

  /**
   * The synchronous guards, then the incident is opened and the action runs in the
   * background. Returns the incident, or undefined when suppressed without one.
   */
  decide(
    serviceName: string,
    ladder: readonly StepConfig[],
    origin: { key: string; name: string; startsAt: number; since?: FailureStartSource; cooldown: number; policy?: PolicyConfig; dryRun?: boolean; alert?: AlertInfo },
  ): Incident | undefined {
    this.metrics.knowService(serviceName);
    /** Whether the last refuse() opened a new refusal (not a repeat of this alert's). */
    let freshRefusal = false;
    const refuse = (reason: Suppression, detail: string): Incident => {
      const prior = this.journal.refusedForKey(origin.key);
      freshRefusal = prior?.reason !== reason;
      if (prior && !freshRefusal) {
        this.suppress('duplicate', serviceName, `already refused as incident ${prior.id} (${reason})`, prior.id);
        return prior;
      }
      const incident = this.journal.openIncident(serviceName, origin.key, origin.name, origin.startsAt, this.now(), 'refused', reason, origin.since ?? 'alert_start');
      this.suppress(reason, serviceName, detail, incident.id);
      this.metrics.incidents.inc({ outcome: 'refused' });
      return incident;
    };
    try {
      if (this.paused) return refuse('paused', 'remediation is paused');
      const until = this.silences()[serviceName];
      if (until !== undefined) return refuse('maintenance', `${serviceName} is in maintenance until ${new Date(until).toISOString()}`);
      if (this.locks.has(serviceName)) return this.join(serviceName, ladder, origin);
      const last = this.journal.latestForService(serviceName);
      // Last refused because a dependency was down, and that dependency still waits for a
      // human: its incident is the page; this service waits quietly (not restarted, no
      // second page). Once the dependency is back, this service is acted on as usual.
      const refusal = this.journal.latestRefusalForService(serviceName);
      if (refusal?.reason === 'dependency_down' && (last === undefined || refusal.id > last.id)) {
        const down = this.serviceConfig(serviceName).depends_on?.find((d) => this.journal.newestForService(d)?.state === 'failed');
        if (down !== undefined) {
          this.suppress('dependency_down', serviceName, `its dependency ${down} is down and waits for a human (incident ${refusal.id})`, refusal.id);
          return refusal;
        }
      }
      if (last?.endedAt !== null && last !== undefined && this.now() - last.endedAt < origin.cooldown) {
        // The alert that follows a failure the fast paths (events, watch) already handled is
        // that same failure: its best-known start lies within the detection window of the
        // incident. It joins it; nothing is done twice, nobody is paged for it. (An alert
        // that fires again after its own incident is a new firing: flapping.)
        const fromAlert = origin.since === undefined || origin.since === 'alert_start' || origin.since === 'alert_start_minus_for';
        const fastPath = last.since === 'container_event' || last.since === 'watch';
        if (fromAlert && fastPath && origin.startsAt - ALERT_DEDUP_WINDOW_MS <= last.endedAt && origin.startsAt + ALERT_DEDUP_WINDOW_MS >= last.alertStartsAt) {
          this.journal.entry({ at: this.now(), incidentId: last.id, service: serviceName, kind: 'decision', what: 'joined', result: last.state, detail: `${origin.name} (${origin.key}) is the failure incident ${last.id} handled (${last.since})` });
          this.suppress('duplicate', serviceName, `the failure of incident ${last.id} (${last.state}), already handled`, last.id);
          return last;
        }
        // Still failed, a person already asked: this joins that incident, no second page.
        if (last.state === 'failed') {
          this.journal.entry({ at: this.now(), incidentId: last.id, service: serviceName, kind: 'decision', what: 'joined', result: 'failed', detail: `${origin.name} (${origin.key}): incident ${last.id} already asked a human` });
          this.suppress('cooldown', serviceName, `incident ${last.id} failed and already asked a human`, last.id);
          return last;
        }
        // Told once per cooldown: the fast paths detect a failing service again and again.
        const told = this.journal.latestRefusalForService(serviceName);
        if (told?.reason === 'cooldown' && told.startedAt >= last.endedAt) {
          this.suppress('cooldown', serviceName, `failing again inside its cooldown; a human was told in incident ${told.id}`, told.id);
          return told;
        }
        // A new firing right after an incident: the service is flapping. Not acting again so
        // soon, but never silently: a person is told.
        const ago = Math.round((this.now() - last.endedAt) / 1000);
        const incident = refuse('cooldown', `${serviceName} fired again ${ago} s after incident ${last.id} (${last.state}), inside its cooldown`);
        if (freshRefusal) {
          this.escalate(serviceName, 'refire_in_cooldown', incident.id, `${serviceName} failed again ${ago} s after incident ${last.id} (${last.state}); not acting again within its cooldown: needs a human`);
        }
        return incident;
      }
      const { max_actions, window } = this.config.rate_limit;
      const recent = this.journal.actionsSince(serviceName, this.now() - window);
      if (recent >= max_actions) {
        // Told once per window, however often the alerts or the fast paths come back.
        const told = this.journal.latestRefusalForService(serviceName);
        if (told?.reason === 'rate_limited' && this.now() - told.startedAt < window) {
          this.suppress('rate_limited', serviceName, `still over its cap; a human was told in incident ${told.id}`, told.id);
          return told;
        }
        const incident = refuse('rate_limited', `${recent} actions on ${serviceName} in the last ${Math.round(window / 1000)} s (cap ${max_actions})`);
        if (freshRefusal) this.escalate(serviceName, 'rate_limited', incident.id, `${serviceName} keeps failing: ${recent} actions in ${Math.round(window / 60000)} min; stopped acting, needs a human`);
        return incident;
      }
    } catch (err) {
      // Fail closed: a guard that cannot be evaluated refuses.
      return refuse('guard_error', `a guard could not be evaluated: ${(err as Error).message}`);
    }
    const incident = this.journal.openIncident(serviceName, origin.key, origin.name, origin.startsAt, this.now(), 'acting', null, origin.since ?? 'alert_start');
    // The ladder is kept with the incident: a remediator killed mid-action carries on with it.
    this.journal.setState(`ladder:${incident.id}`, JSON.stringify(ladder));
    this.locks.add(serviceName);
    const why = origin.alert?.summary ?? (origin.since === 'container_event' || origin.since === 'watch' ? origin.name : `${origin.name} fired`);
    void this.notifier.notify({
      kind: 'acting',
      service: serviceName,
      incidentId: incident.id,
      message: `acting on ${serviceName}: ${why}; plan: ${ladder.map((x) => `${x.action}${x.to ? ` to ${x.to}` : ''}${x.attempts > 1 ? ` x${x.attempts}` : ''}${x.approve ? ' (with approval)' : ''}`).join(', then ')}`,
      failedAt: incident.alertStartsAt,
      ...(origin.alert ? { alert: origin.alert } : {}),
    });
    this.run(incident, () => this.act(incident, ladder, origin.dryRun ?? this.config.dry_run));
    return incident;
  }

  /** Runs an incident's work in the background under its service's lock (taken by the caller). */
  private run(incident: Incident, work: () => Promise<void>): void {
    this.metrics.inProgress.inc();
    const job = work()
      .catch((err: Error) => {
        this.log.error({ service: incident.service, incident: incident.id, err: err.message }, 'remediation crashed');
        this.finish(incident, 'failed', `error: ${err.message}`);
      })
      .finally(() => {
        this.locks.delete(incident.service);
        this.metrics.inProgress.dec();
        this.work.delete(job);
        this.afterIncident(incident.service, incident.id);
      });
    this.work.add(job);
  }

  /** Alerts that fired for a service while an incident of it ran: taken up when it ends. */
  private readonly joined = new Map<string, { ladder: readonly StepConfig[]; origin: Parameters<Engine['decide']>[2] }[]>();

  /** A firing alert for a service being acted on joins the running incident; it is never only suppressed. */
  private join(serviceName: string, ladder: readonly StepConfig[], origin: Parameters<Engine['decide']>[2]): Incident | undefined {
    const running = this.journal.unfinished().find((i) => i.service === serviceName);
    const list = this.joined.get(serviceName) ?? [];
    if (!list.some((j) => j.origin.key === origin.key)) list.push({ ladder, origin });
    this.joined.set(serviceName, list);
    this.journal.entry({
      at: this.now(),
      incidentId: running?.id ?? null,
      service: serviceName,
      kind: 'decision',
      what: 'joined',
      result: 'ok',
      detail: `${origin.name} (${origin.key}) fired while incident ${running?.id ?? '?'} runs: taken up when it ends, if still firing`,
    });
    if (this.tally) this.tally.joined = (this.tally.joined ?? 0) + 1;
    return running;
  }

  /**
   * An incident ended: each alert that joined it and is still firing is taken up.
   * The service passing its check now is that alert's answer; otherwise the ladder
   * runs for it (past the cooldown: it fired during the incident, not after it).
   */
  private afterIncident(serviceName: string, incidentId: number): void {
    const waiting = this.joined.get(serviceName);
    if (!waiting?.length) return;
    this.joined.delete(serviceName);
    const ended = this.journal.incident(incidentId);
    const job = (async () => {
      for (const j of waiting) {
        // The incident failed and asked a person: the alerts that joined it wait with it.
        if (ended?.state === 'failed') {
          this.journal.entry({ at: this.now(), incidentId, service: serviceName, kind: 'decision', what: 'joined', result: 'failed', detail: `${j.origin.key}: incident ${incidentId} failed and asked a human` });
          continue;
        }
        if (this.journal.alertResolved(j.origin.key)) {
          this.journal.entry({ at: this.now(), incidentId, service: serviceName, kind: 'decision', what: 'joined', result: 'resolved', detail: `${j.origin.key} resolved meanwhile` });
          continue;
        }
        const service = this.serviceConfig(serviceName);
        const container = await this.drv(service).find(service).catch(() => undefined);
        const check = container ? await checkOnce(this.drv(service), service, container.id) : { ok: false, detail: 'no container' };
        if (check.ok) {
          this.journal.entry({ at: this.now(), incidentId, service: serviceName, kind: 'check', what: 'joined', result: 'ok', detail: `${j.origin.key}: ${serviceName} is healthy after incident ${incidentId} (${check.detail})` });
          continue;
        }
        this.decide(serviceName, j.ladder, { ...j.origin, cooldown: 0 });
      }
    })().catch((err: Error) => this.log.error({ service: serviceName, err: err.message }, 'taking up joined alerts failed'));
    const tracked = job.finally(() => this.work.delete(tracked));
    this.work.add(tracked);
  }

  /** Resolves once no action is running (tests, shutdown). */
  async idle(): Promise<void> {
    while (this.work.size > 0) await Promise.allSettled([...this.work]);
  }

  /**
   * A failure the remediator saw itself (a container event, its liveness watch): the
   * same guarded ladder as an alert, at once, with the policy a ServiceDown of the
   * service would get (else one restart).
   */
  onDetected(serviceName: string, source: 'container_event' | 'watch', at: number, detail: string): Incident | undefined {
    const labels = { alertname: 'ServiceDown', service: serviceName, remediate: 'true' };
    const match = matchPolicy(labels, this.config.policies);
    const key = `${source}:${serviceName}:${at}`;
    this.journal.entry({ at: this.now(), incidentId: null, service: serviceName, kind: 'alert', what: source === 'watch' ? 'liveness watch' : 'container event', result: 'detected', detail });
    return this.decide(serviceName, match?.policy.ladder ?? [{ action: 'restart', attempts: 1 }], {
      key,
      name: source === 'watch' ? 'liveness watch' : 'container event',
      startsAt: at,
      since: source,
      cooldown: match?.policy.cooldown ?? this.config.cooldown,
    });
  }

  /** The service is being acted on now (the watch and the events leave it alone meanwhile). */
  busy(serviceName: string): boolean {
    return this.locks.has(serviceName);
  }

  /** Remediation is paused, or the service is in a maintenance silence: the fast paths stay quiet. */
  quiet(serviceName: string): boolean {
    return this.paused || this.silences()[serviceName] !== undefined;
  }

  /** The configuration of a managed service (listed, or the defaults for one opted in by label). */
  service(name: string): ServiceConfig {
    return this.serviceConfig(name);
  }

  // --- acting ----------------------------------------------------------------

  /** The engine the service runs on now. */
  private drv(service: Pick<ServiceConfig, 'name' | 'hosts'>): DockerDriver {
    return this.hosts.driverOf(service);
  }

  private serviceConfig(name: string): ServiceConfig {
    const savedRef = this.kubeRefs.has(name) ? undefined : this.journal.getState(`kube_ref:${name}`);
    if (savedRef) this.kubeRefs.set(name, JSON.parse(savedRef) as WorkloadRef);
    const ref = this.kubeRefs.get(name);
    if (ref && !this.config.services.some((s) => s.name === name)) {
      return {
        name,
        kubernetes: { namespace: ref.namespace, kind: ref.kind, name: ref.name },
        recovery_deadline: parseDuration(SERVICE_DEFAULTS.recovery_deadline),
        stop_timeout: parseDuration(SERVICE_DEFAULTS.stop_timeout),
      };
    }
    return (
      this.config.services.find((s) => s.name === name) ?? {
        // Not listed: the container of that name, if it opted in by label.
        name,
        container: name,
        recovery_deadline: parseDuration(SERVICE_DEFAULTS.recovery_deadline),
        stop_timeout: parseDuration(SERVICE_DEFAULTS.stop_timeout),
      }
    );
  }

  private record(incident: Incident, kind: 'decision' | 'action' | 'check' | 'outcome', what: string, result: string, detail: string | null = null): void {
    const at = this.now();
    this.journal.entry({ at, incidentId: incident.id, service: incident.service, kind, what, result, detail });
    // What was done, for the incident's chat message (edited, not a message each).
    if (kind === 'action' || (kind === 'check' && what !== 'before')) {
      void this.notifier.notify({ kind: 'step', service: incident.service, incidentId: incident.id, at, message: `${what}: ${result}${detail ? ` (${detail})` : ''}` });
    }
  }

  /** Seconds from the alert's start to now: the recovery time an incident is measured by. */
  private sinceAlert(incident: Incident): number {
    return (this.now() - incident.alertStartsAt) / 1000;
  }

  /** The incident recovered `seconds` after its alert began: observed, recorded, and said when there is a `message`. */
  private recovered(incident: Incident, service: string, reason: string, seconds: number, message?: string): void {
    this.metrics.recovery.observe({ service, since: incident.since }, seconds);
    this.finish(incident, 'recovered', reason, seconds);
    if (message !== undefined) void this.notifier.notify({ kind: 'recovered', service, incidentId: incident.id, message });
  }

  private finish(incident: Incident, state: 'recovered' | 'failed' | 'refused' | 'resolved', reason: string, recoverySeconds: number | null = null): void {
    this.journal.closeIncident(incident.id, state, reason, this.now(), recoverySeconds);
    // Every incident's message ends in its outcome, also where no more telling message follows (a dry run, a resolved alert).
    void this.notifier.notify({
      kind: 'finished',
      service: incident.service,
      incidentId: incident.id,
      state: state === 'failed' ? 'needs_human' : state,
      message: `${state}: ${reason}`,
      ...(recoverySeconds !== null ? { recoverySeconds } : {}),
    });
    this.journal.setState(`ladder:${incident.id}`, undefined);
    this.record(incident, 'outcome', state, reason);
    this.metrics.incidents.inc({ outcome: state });
    this.resolvedWhileActing.delete(incident.id);
  }

  private escalate(service: string, reason: EscalationReason, incidentId: number, message: string): void {
    this.metrics.escalations.inc({ service, reason });
    void this.notifier.notify({ kind: 'needs_human', service, incidentId, message });
  }

  /** Guards that need the engine, then the ladder. */
  private async act(incident: Incident, ladder: readonly StepConfig[], dryRun: boolean): Promise<void> {
    const release = await this.semaphore.acquire();
    const service = this.serviceConfig(incident.service);
    try {
      await tracer.startActiveSpan(`remediate ${service.name}`, { attributes: { 'homestation.service': service.name, 'homestation.incident': incident.id } }, async (span) => {
        try {
          // Step spans are children of this one through the active context.
          if (service.kubernetes) await this.actKubernetes(incident, service, ladder, dryRun);
          else await this.actInSpan(incident, service, ladder, dryRun);
        } finally {
          const final = this.journal.incident(incident.id);
          span.setAttribute('homestation.outcome', final?.state ?? 'unknown');
          if (final?.state === 'failed') span.setStatus({ code: SpanStatusCode.ERROR, message: final.reason ?? '' });
          span.end();
        }
      });
    } finally {
      release();
    }
  }

  private refuseInFlight(incident: Incident, reason: Suppression, detail: string): void {
    this.metrics.suppressions.inc({ reason });
    this.record(incident, 'decision', 'refused', reason);
    this.finish(incident, 'refused', reason);
    this.log.warn({ service: incident.service, incident: incident.id, reason }, `refused: ${detail}`);
    void this.notifier.notify({ kind: 'refused', service: incident.service, incidentId: incident.id, message: detail });
  }

  /**
   * Records, for every listed service that is healthy now, how to create its container
   * again (options and image ID): a container removed later is rebuilt from it.
   */
  async recordHealthy(): Promise<number> {
    let recorded = 0;
    for (const service of this.config.services) {
      if (service.kubernetes) continue; // Kubernetes keeps its own spec
      const container = await this.drv(service).find(service).catch(() => undefined);
      if (!container) continue;
      const check = await checkOnce(this.drv(service), service, container.id).catch(() => ({ ok: false, detail: '' }));
      if (check.ok && (await this.recordSpec(service, container.id))) recorded += 1;
    }
    return recorded;
  }

  private async recordSpec(service: ServiceConfig, containerId: string): Promise<boolean> {
    const spec = await this.drv(service).recreateSpec(containerId).catch(() => undefined);
    if (!spec) return false;
    this.journal.setState(`last_good:${service.name}`, JSON.stringify({ at: this.now(), host: this.hosts.hostOf(service), ...spec }));
    return true;
  }

  /** The services, where they run and what they need, as the engines and the config say now. */
  async servicesView(): Promise<ServicesView> {
    return servicesView(this.config, (h) => this.hosts.driver(h));
  }

  /** Stops old copies of migrated services on source hosts that were down during their migration and are back. */
  async fence(): Promise<string[]> {
    return this.migrator.fence(this.config.services);
  }

  /** A removed container: created again from its last good recorded configuration, then checked. */
  private async recreateRemoved(incident: Incident, service: ServiceConfig, dryRun: boolean): Promise<void> {
    const saved = this.journal.getState(`last_good:${service.name}`);
    if (!saved) return this.refuseInFlight(incident, 'not_found', `no container for service ${service.name}, and no recorded configuration to create it from`);
    const spec = JSON.parse(saved) as { at: number; imageId: string; options: Parameters<DockerDriver['createFrom']>[0] };
    const when = new Date(spec.at).toISOString();
    if (dryRun) {
      this.record(incident, 'action', 'recreate', 'dry_run', `would create ${spec.options.name} from its configuration recorded ${when}`);
      return this.finish(incident, 'refused', 'dry_run');
    }
    this.record(incident, 'action', 'recreate', 'started', `container gone: creating ${spec.options.name} from its configuration recorded healthy at ${when} (image ${spec.imageId.slice(0, 19)})`);
    let check: CheckResult;
    try {
      const id = await this.drv(service).createFrom(spec.options);
      check = await waitForRecovery(this.drv(service), service, id, service.recovery_deadline);
    } catch (err) {
      check = { ok: false, detail: `recreate failed: ${(err as Error).message}` };
    }
    this.metrics.actions.inc({ action: 'redeploy', result: check.ok ? 'ok' : 'failed', service: service.name });
    this.record(incident, 'check', 'after', check.ok ? 'ok' : 'failed', check.detail);
    if (!check.ok) {
      this.finish(incident, 'failed', 'recreate_failed');
      this.escalate(service.name, 'ladder_exhausted', incident.id, `${service.name}'s container was removed and could not be created again: ${check.detail}; needs a human`);
      return;
    }
    const seconds = this.sinceAlert(incident);
    this.recovered(incident, service.name, 'recreated from the recorded configuration', seconds, `${service.name}'s container was gone; created again from its last good configuration, back ${seconds.toFixed(1)} s after it failed`);
  }

  private async actInSpan(incident: Incident, service: ServiceConfig, ladder: readonly StepConfig[], dryRun: boolean): Promise<void> {
    // A ladder that starts with migrate may start where the service cannot be found: its host down, its container gone.
    const migrateFirst = ladder[0]?.action === 'migrate';
    let container: ContainerInfo | undefined;
    try {
      container = await this.drv(service).find(service);
    } catch (err) {
      if (!migrateFirst) throw err;
      this.record(incident, 'check', 'before', 'failed', `its host ${this.hosts.hostOf(service)} cannot be reached: ${(err as Error).message}`);
      return this.runLadder(incident, service, ladder, undefined, false, dryRun);
    }
    if (!container && migrateFirst) {
      this.record(incident, 'check', 'before', 'failed', `no container on ${this.hosts.hostOf(service)}`);
      return this.runLadder(incident, service, ladder, undefined, false, dryRun);
    }
    if (!container) return this.recreateRemoved(incident, service, dryRun);
    const listed = this.config.services.some((s) => s.name === service.name);
    if (!listed && container.labels[OPT_IN_LABEL] !== 'true') {
      return this.refuseInFlight(incident, 'not_opted_in', `container ${container.name} has no label ${OPT_IN_LABEL}=true and is not listed under remediator.services`);
    }
    if (this.selfIds.some((id) => container.id.startsWith(id) || id.startsWith(container.id)) || container.labels['homestation.role'] === 'remediator') {
      return this.refuseInFlight(incident, 'self', `container ${container.name} is the remediator itself`);
    }
    this.record(incident, 'decision', 'target', 'ok', `${container.name} (${container.id.slice(0, 12)}), ${container.state}`);

    // What it needs, from the config and from the engine (compose labels, a shared network
    // namespace); read before acting, while a namespace owner's ID still names it.
    const host = this.hosts.hostOf(service);
    const graph = await this.drv(service)
      .containerFacts(host)
      .then((facts) => buildGraph(this.config.services, facts))
      .catch(() => undefined);
    // An unlisted container is looked for on the local engine: on other hosts only listed services count.
    const fromEngine = graph
      ? dependenciesOf(graph, service.name).filter((e) => e.kind !== 'config' && (host === LOCAL_HOST || graph.nodes.find((n) => n.name === e.to)?.listed))
      : [];
    if (fromEngine.length) this.record(incident, 'decision', 'dependencies', 'ok', `from the engine: ${fromEngine.map((e) => `${e.to} (${e.detail})`).join(', ')}`);

    // Dependencies first: a service is not restarted while what it needs is down.
    const withDependency: string[] = [];
    for (const depName of new Set([...(service.depends_on ?? []), ...fromEngine.map((e) => e.to)])) {
      const dep = this.serviceConfig(depName);
      const depContainer = await this.drv(dep).find(dep).catch(() => undefined);
      const depCheck = depContainer ? await checkOnce(this.drv(dep), dep, depContainer.id) : { ok: false, detail: 'no container' };
      if (depCheck.ok) continue;
      this.record(incident, 'check', `dependency ${depName}`, 'down', depCheck.detail);
      // Its own incident if one runs (this waits for it), else one for it now.
      const depIncident = this.decide(depName, [{ action: 'restart', attempts: 1 }], {
        key: `dependency:${incident.id}:${depName}`,
        name: `dependency of ${service.name}`,
        startsAt: this.now(),
        cooldown: 0,
        dryRun,
      });
      await this.idleFor(depIncident);
      const depNow = await this.drv(dep).find(dep).catch(() => undefined);
      const depAfter = depNow ? await checkOnce(this.drv(dep), dep, depNow.id) : { ok: false, detail: 'no container' };
      this.record(incident, 'check', `dependency ${depName}`, depAfter.ok ? 'ok' : 'down', depAfter.ok ? `back${depIncident ? ` (incident ${depIncident.id})` : ''}` : depAfter.detail);
      if (!depAfter.ok) {
        return this.refuseInFlight(incident, 'dependency_down', `dependency ${depName} of ${service.name} is down and did not recover${depIncident ? ` (incident ${depIncident.id})` : ''}`);
      }
      withDependency.push(depName);
    }

    let before = await checkOnce(this.drv(service), service, container.id);
    // A service that failed because its dependency did usually comes back with it (a
    // reconnect): a short wait for that before restarting it too.
    // (An exited container will not reconnect: no wait for it.)
    if (!before.ok && withDependency.length && service.probe && container.running) {
      const waited = await waitForRecovery(this.drv(service), service, container.id, Math.min(service.recovery_deadline, DEPENDENT_GRACE_MS));
      if (waited.ok) before = { ...waited, detail: `${waited.detail} (after its dependency came back)` };
    }
    this.record(incident, 'check', 'before', before.ok ? 'ok' : 'failed', before.detail);
    if (before.ok && service.probe && withDependency.length) {
      const seconds = this.sinceAlert(incident);
      this.recovered(incident, service.name, `back with its dependency ${withDependency.join(', ')}; not restarted itself`, seconds, `${service.name} is back with its dependency ${withDependency.join(', ')}, ${seconds.toFixed(1)} s after it failed; it was not restarted itself`);
      return;
    }
    // A migrate asked for by hand is a planned move: a healthy service is moved too.
    const plannedMove = incident.since === 'manual' && ladder[0]?.action === 'migrate';
    if (before.ok && service.probe && !plannedMove) {
      return this.refuseInFlight(incident, 'already_healthy', `${service.name} passes its probe already (${before.detail})`);
    }

    return this.runLadder(incident, service, ladder, container, before.hung === true, dryRun, graph);
  }

  /**
   * A Kubernetes workload (kubernetes/driver.ts): the same guards, journal and ladder,
   * acted through the API. The check is the rollout (kubectl's conditions) with every
   * pod Ready, within the service's recovery deadline. A migrate that Kubernetes will
   * do itself (a Deployment's pods on a NotReady node) ends refused with its plan and
   * when, without paging.
   */
  private async actKubernetes(incident: Incident, service: ServiceConfig, ladder: readonly StepConfig[], dryRun: boolean): Promise<void> {
    const kube = this.kube;
    const t = service.kubernetes as NonNullable<ServiceConfig['kubernetes']>;
    if (!kube) return this.refuseInFlight(incident, 'not_found', `${service.name} is a Kubernetes workload and remediator.kubernetes is not enabled`);
    let ref: WorkloadRef;
    let workload: Workload;
    let pods: Pod[];
    try {
      ref = t.name ? { namespace: t.namespace, kind: t.kind, name: t.name } : await kube.byLabels(t.namespace, t.kind, t.selector as string);
      workload = await kube.get(ref);
      pods = await kube.pods(ref, workload);
    } catch (err) {
      return this.refuseInFlight(incident, 'not_found', `${service.name}: ${(err as Error).message}`);
    }
    const listed = this.config.services.some((s) => s.name === service.name);
    const labels = workload.metadata.labels ?? {};
    if (!listed && labels[OPT_IN_LABEL] !== 'true') {
      return this.refuseInFlight(incident, 'not_opted_in', `${describeRef(ref)} has no label ${OPT_IN_LABEL}=true and is not listed under remediator.services`);
    }
    if (labels[KUBE_ROLE_LABEL] === 'remediator') return this.refuseInFlight(incident, 'self', `${describeRef(ref)} is the remediator itself`);
    const before = workloadHealth(ref, workload, pods);
    this.record(incident, 'decision', 'target', 'ok', describeRef(ref));
    this.record(incident, 'check', 'before', before.ok ? 'ok' : 'failed', before.detail);
    const plannedMove = incident.since === 'manual' && ladder[0]?.action === 'migrate';
    if (before.ok && !plannedMove) return this.refuseInFlight(incident, 'already_healthy', `${service.name} is rolled out with every pod ready (${before.detail})`);
    for (const step of ladder) {
      for (let attempt = 1; attempt <= step.attempts; attempt++) {
        if (this.resolvedWhileActing.delete(incident.id)) return this.finish(incident, 'resolved', 'the alert resolved before the next step');
        if (step.approve && !dryRun && attempt === 1 && (await this.approval(incident, service, step)) !== 'approve') return;
        if (dryRun) {
          this.record(incident, 'action', step.action, 'dry_run', `would ${step.action} ${describeRef(ref)}`);
          this.metrics.actions.inc({ action: step.action, result: 'dry_run', service: service.name });
          return this.finish(incident, 'refused', 'dry_run');
        }
        this.record(incident, 'action', step.action, 'started', `attempt ${attempt} on ${describeRef(ref)}`);
        this.log.warn({ service: service.name, incident: incident.id, action: step.action, attempt, workload: describeRef(ref) }, `${step.action} ${describeRef(ref)}`);
        let check: CheckResult;
        try {
          if (step.action === 'restart' && step.scope === 'pod') {
            const pod = await kube.restartOnePod(ref);
            this.record(incident, 'action', 'delete_pod', 'ok', `${pod} deleted: its controller creates it again`);
            check = await this.waitForKubeHealth(kube, ref, service.recovery_deadline, pod);
          } else if (step.action === 'restart') {
            const generation = await kube.restart(ref);
            const st = await kube.waitForRollout(ref, service.recovery_deadline, generation);
            check = { ok: st.done, detail: st.detail };
          } else if (step.action === 'redeploy') {
            const res = await kube.redeploy(ref);
            this.record(incident, 'action', 'pin', 'ok', res.pinned.length ? res.pinned.join('; ') : 'images already pinned: a rollout restart');
            const st = await kube.waitForRollout(ref, service.recovery_deadline, res.generation);
            check = { ok: st.done, detail: st.detail };
          } else {
            const now = workloadHealth(ref, await kube.get(ref), await kube.pods(ref));
            const node = step.to ?? (now.failingNodes.length === 1 ? now.failingNodes[0] : undefined);
            if (!node) throw new Refused(`no single node to move ${describeRef(ref)} off (failing pods on: ${now.failingNodes.join(', ') || 'none'}); name it as the step's "to"`);
            const st = await kube.migrateOff(ref, node, service.recovery_deadline, (what, result, detail) => this.record(incident, 'action', what, result, detail));
            check = { ok: st.done, detail: st.detail };
          }
          if (check.ok) {
            const after = workloadHealth(ref, await kube.get(ref), await kube.pods(ref));
            check = after.ok ? { ok: true, detail: after.detail } : { ok: false, detail: `rolled out, but ${after.detail}` };
          }
        } catch (err) {
          if (err instanceof Refused && err.kubernetesActs) {
            this.record(incident, 'decision', step.action, 'refused', err.message);
            return this.refuseInFlight(incident, 'kubernetes_acts', err.message);
          }
          check = { ok: false, detail: err instanceof Refused ? `${step.action} refused: ${err.message}` : (err as Error).message };
        }
        this.metrics.actions.inc({ action: step.action, result: check.ok ? 'ok' : 'failed', service: service.name });
        this.record(incident, 'check', 'after', check.ok ? 'ok' : 'failed', check.detail);
        if (check.ok) {
          const seconds = this.sinceAlert(incident);
          this.recovered(incident, service.name, `${step.action} (attempt ${attempt})`, seconds, backAfter(service.name, step.action, seconds, incident.since));
          return;
        }
      }
    }
    this.finish(incident, 'failed', 'ladder_exhausted');
    this.escalate(service.name, 'ladder_exhausted', incident.id, `${service.name} (${describeRef(ref)}) did not recover after ${ladder.map((x) => `${x.action} x${x.attempts}`).join(', ')}; needs a human`);
  }

  /** The ladder's steps in order until the service passes its check; then recovered, or failed and a human asked. */
  private async runLadder(
    incident: Incident,
    service: ServiceConfig,
    ladder: readonly StepConfig[],
    container: ContainerInfo | undefined,
    hung: boolean,
    dryRun: boolean,
    /** The graph as it was before acting (for what must be restarted with the service). */
    graph?: Graph,
  ): Promise<void> {
    // No container (only when a migrate comes first): named for the journal, created by the migrate.
    let target: ContainerInfo = container ?? { id: '', name: service.container ?? service.name, running: false, paused: false, state: 'unknown', labels: {}, health: '', startedAt: Number.NaN };
    for (const step of ladder) {
      for (let attempt = 1; attempt <= step.attempts; attempt++) {
        if (this.resolvedWhileActing.delete(incident.id)) {
          this.finish(incident, 'resolved', 'the alert resolved before the next step');
          return;
        }
        if (step.approve && !dryRun && attempt === 1) {
          const answer = await this.approval(incident, service, step);
          if (answer !== 'approve') return;
        }
        const outcome = await this.step(incident, service, target, step.action, attempt, dryRun, attempt === 1 && step === ladder[0] ? hung : false, step.to);
        if (outcome === 'dry_run') {
          this.finish(incident, 'refused', 'dry_run');
          return;
        }
        if (outcome.check.ok) {
          const now = await this.drv(service).find(service).catch(() => undefined);
          if (now) await this.recordSpec(service, now.id);
          const seconds = this.sinceAlert(incident);
          if (graph && step.action !== 'migrate') await this.restartDependents(incident, service, step.action, graph);
          this.recovered(incident, service.name, `${step.action} (attempt ${attempt})${outcome.rolledBack ? ', previous container put back' : ''}`, seconds, backAfter(service.name, step.action, seconds, incident.since));
          return;
        }
        target = (await this.drv(service).find(service).catch(() => undefined)) ?? target;
      }
    }
    this.finish(incident, 'failed', 'ladder_exhausted');
    this.escalate(service.name, 'ladder_exhausted', incident.id, `${service.name} did not recover after ${ladder.map((s) => `${s.action} x${s.attempts}`).join(', ')}; needs a human`);
  }

  /**
   * A step marked approve: true waits for a human: Telegram buttons or the API, until
   * approval.timeout, then approval.default. Deny ends the incident (failed; the one
   * who denied knows: no page). Silence writes a 1 h silence to Alertmanager (when
   * configured) and the remediator's own, and ends it as refused. 'approve' goes on.
   */
  private async approval(incident: Incident, service: ServiceConfig, step: StepConfig): Promise<'approve' | 'stop'> {
    const what = `${step.action}${step.to ? ` to ${step.to}` : ''}`;
    const { timeout } = this.config.approval;
    const until = this.now() + timeout;
    this.record(incident, 'decision', 'approval', 'waiting', `${what} waits for a human until ${new Date(until).toISOString()} (${this.approvals?.hasButtons ? 'Telegram buttons or ' : ''}POST /api/v1/incidents/${incident.id}/approve)`);
    void this.notifier.notify({ kind: 'awaiting_approval', service: service.name, incidentId: incident.id, message: `${service.name}: ${what} waits for your approval`, approval: { step: what, until } });
    const verdict = this.approvals ? await this.approvals.wait(incident.id, timeout) : await new Promise<{ decision: 'timeout'; by?: string }>((r) => setTimeout(() => r({ decision: 'timeout' }), timeout).unref());
    const decision = verdict.decision === 'timeout' ? this.config.approval.default : verdict.decision;
    const by = verdict.decision === 'timeout' ? `no answer in ${Math.round(timeout / 1000)} s: the default, ${decision}` : verdict.by ?? 'unknown';
    this.record(incident, 'decision', 'approval', decision, by);
    void this.notifier.notify({ kind: 'decided', service: service.name, incidentId: incident.id, message: `${what}: ${decision} (${by})` });
    if (decision === 'approve') return 'approve';
    if (decision === 'deny') {
      this.finish(incident, 'failed', `denied: ${by}`);
      void this.notifier.notify({ kind: 'needs_human', service: service.name, incidentId: incident.id, message: `${what} of ${service.name} denied (${by}); ${service.name} is left as it is` });
      return 'stop';
    }
    // Silence: Alertmanager's (so the alert stops firing at people) and the remediator's own.
    const hour = 3_600_000;
    let amSilence = 'no alertmanager configured';
    if (this.config.alertmanager) {
      amSilence = await silenceInAlertmanager(this.config.alertmanager, service.name, hour, by, `silenced from the approval of incident ${incident.id} (${what})`)
        .then((id) => `Alertmanager silence ${id}`)
        .catch((err: Error) => `Alertmanager silence failed: ${err.message}`);
    }
    this.silence(service.name, this.now() + hour, by);
    this.record(incident, 'action', 'silence', amSilence.startsWith('Alertmanager silence failed') ? 'failed' : 'ok', `${service.name} silenced for 1 h by ${by}; ${amSilence}`);
    this.finish(incident, 'refused', `silenced for 1 h by ${by}`);
    void this.notifier.notify({ kind: 'refused', service: service.name, incidentId: incident.id, message: `${service.name} silenced for 1 h (${by}); ${amSilence}` });
    return 'stop';
  }

  /**
   * After a service is back, what cannot work without it being restarted too: a
   * container in its network namespace (still "running", but with no network once
   * the owner restarted: seen on podman) and compose's `restart: true` dependents.
   * After a redeploy, a namespace sharer is created again pointing at the new owner.
   * Only managed containers are touched; others are named in the journal and the log.
   */
  private async restartDependents(incident: Incident, service: ServiceConfig, action: ActionName, graph: Graph): Promise<void> {
    const host = this.hosts.hostOf(service);
    const driver = this.drv(service);
    for (const edge of restartedWith(graph, service.name)) {
      const node = graph.nodes.find((n) => n.name === edge.from);
      const c = node?.container;
      if (!node || !c) continue;
      if (!node.listed && c.labels[OPT_IN_LABEL] !== 'true') {
        this.record(incident, 'decision', `dependent ${edge.from}`, 'refused', `${edge.detail}: it needs a restart after ${service.name}'s ${action}, but it is not managed (list it, or label it ${OPT_IN_LABEL}=true): restart it by hand`);
        this.log.warn({ service: service.name, dependent: c.name }, `${c.name} (${edge.detail}) needs a restart after ${service.name}'s ${action}; it is not managed`);
        continue;
      }
      const dep = { ...this.serviceConfig(edge.from), hosts: [host] };
      const recreate = edge.kind === 'network' && action === 'redeploy';
      this.record(incident, 'action', `dependent ${edge.from}`, 'started', `${edge.detail}: ${recreate ? 'created again in the new container\'s namespace' : 'restarted'} after ${service.name}'s ${action}`);
      let check: CheckResult;
      try {
        if (recreate) {
          let verdict: CheckResult = { ok: false, detail: 'not checked' };
          const res = await driver.redeploy(c.id, dep.stop_timeout, async (id) => (verdict = await waitForRecovery(driver, dep, id, dep.recovery_deadline)).ok, { NetworkMode: `container:${service.container ?? c.name}` });
          check = res.result === 'recreated' ? verdict : { ok: false, detail: `rolled back: ${verdict.detail}` };
        } else {
          await driver.restart(c.id, dep.stop_timeout);
          check = await waitForRecovery(driver, dep, c.id, dep.recovery_deadline);
        }
      } catch (err) {
        check = { ok: false, detail: (err as Error).message };
      }
      this.record(incident, 'check', `dependent ${edge.from}`, check.ok ? 'ok' : 'failed', check.detail);
      if (!check.ok) this.escalate(edge.from, 'ladder_exhausted', incident.id, `${edge.from} (${edge.detail}) did not come back after ${service.name}'s ${action}: ${check.detail}; needs a human`);
    }
  }

  private async idleFor(incident: Incident | undefined): Promise<void> {
    if (!incident) return;
    while (this.journal.incident(incident.id)?.state === 'acting') await new Promise((r) => setTimeout(r, 100));
  }

  private async step(
    incident: Incident,
    service: ServiceConfig,
    container: ContainerInfo,
    action: ActionName,
    attempt: number,
    dryRun: boolean,
    /** Known hung (paused, or no answer to its probe): its stop does not wait the grace period meant for a healthy one. */
    hung = false,
    /** migrate: the host to move to. */
    to?: string,
  ): Promise<'dry_run' | { check: CheckResult; rolledBack: boolean }> {
    if (dryRun) {
      this.record(incident, 'action', action, 'dry_run', `would ${action} ${container.name}`);
      this.metrics.actions.inc({ action, result: 'dry_run', service: service.name });
      return 'dry_run';
    }
    return tracer.startActiveSpan(`${action} ${service.name}`, { attributes: { 'homestation.action': action, 'homestation.attempt': attempt } }, async (span) => {
      const stopTimeout = hung ? HUNG_STOP_TIMEOUT_MS : service.stop_timeout;
      const how = hung ? `; hung, so stopped with ${HUNG_STOP_TIMEOUT_MS / 1000} s, not its ${service.stop_timeout / 1000} s grace period` : '';
      this.record(incident, 'action', action, 'started', `attempt ${attempt} on ${container.name}${how}`);
      this.log.warn({ service: service.name, incident: incident.id, action, attempt, hung }, `${action} ${container.name}`);
      let rolledBack = false;
      let check: CheckResult;
      try {
        if (action === 'restart') {
          await this.drv(service).restart(container.id, stopTimeout);
          check = await waitForRecovery(this.drv(service), service, container.id, service.recovery_deadline);
        } else if (action === 'migrate') {
          const index = this.config.services.findIndex((x) => x.name === service.name);
          const res = await this.migrator.migrate({
            service: { ...service, stop_timeout: stopTimeout },
            where: index >= 0 ? `services[${index}]` : `service ${service.name}`,
            to,
            incidentId: incident.id,
            record: (kind, what, result, detail) => this.record(incident, kind, what, result, detail),
          });
          if (res.result === 'migrated') check = res.check;
          else {
            check = { ok: false, detail: res.result === 'refused' ? `migrate refused: ${res.reason}` : `migrate rolled back: ${res.reason}` };
            rolledBack = res.result === 'rolled_back';
          }
        } else {
          let verdict: CheckResult = { ok: false, detail: 'not checked' };
          const res = await this.drv(service).redeploy(container.id, stopTimeout, async (newId) => {
            verdict = await waitForRecovery(this.drv(service), service, newId, service.recovery_deadline);
            this.record(incident, 'check', 'new container', verdict.ok ? 'ok' : 'failed', verdict.detail);
            return verdict.ok;
          });
          if (res.result === 'rolled_back') {
            rolledBack = true;
            this.record(incident, 'action', 'rollback', 'ok', `previous container ${container.id.slice(0, 12)} put back`);
            check = await waitForRecovery(this.drv(service), service, container.id, service.recovery_deadline);
            // The service is up again, but on the old container: the step itself failed.
            this.metrics.actions.inc({ action, result: 'rolled_back', service: service.name });
            this.record(incident, 'check', 'after rollback', check.ok ? 'ok' : 'failed', check.detail);
            span.end();
            return { check, rolledBack };
          }
          check = verdict;
        }
      } catch (err) {
        check = { ok: false, detail: `${action} failed: ${(err as Error).message}` };
      }
      this.metrics.actions.inc({ action, result: check.ok ? 'ok' : 'failed', service: service.name });
      this.record(incident, 'check', 'after', check.ok ? 'ok' : 'failed', check.detail);
      if (!check.ok) span.setStatus({ code: SpanStatusCode.ERROR, message: check.detail });
      span.end();
      return { check, rolledBack };
    });
  }

  // --- after a crash ---------------------------------------------------------

  /**
   * Incidents a previous process left 'acting' (killed mid-action) are carried on, as
   * the same incidents: a service its interrupted action already brought back is
   * recorded recovered; one that is still down gets its ladder again (within the rate
   * limit), so no failure is left half-handled and no incident stays open for ever.
   * Their services are locked at once, so that the fast paths do not act beside them.
   */
  async recoverUnfinished(options: { containers?: boolean } = {}): Promise<Incident[]> {
    // A migration cut short first: rolled back or finished, so that the services are where the journal says.
    const migrations =
      options.containers === false
        ? []
        : await this.migrator.recover(this.config.services, (m) => (kind, what, result, detail) =>
            this.journal.entry({ at: this.now(), incidentId: m.incidentId, service: m.service, kind, what, result, detail }),
          );
    if (migrations.length) this.log.warn({ migrations: migrations.map((m) => m.id) }, 'migrations left unfinished by a previous run: rolled back or finished');
    const found = this.journal.unfinished().filter((i) => !this.locks.has(i.service));
    const jobs: Promise<void>[] = [];
    for (const incident of found) {
      this.locks.add(incident.service);
      jobs.push(
        new Promise<void>((done) =>
          this.run(incident, async () => {
            try {
              await this.resume(incident);
            } finally {
              done();
            }
          }),
        ),
      );
    }
    await Promise.all(jobs);
    return found;
  }

  /** After a pod was deleted: the workload healthy again (its pods Ready, the deleted one gone), followed by a pod watch. */
  private async waitForKubeHealth(kube: KubernetesDriver, ref: WorkloadRef, deadlineMs: number, deleted: string): Promise<CheckResult> {
    const st = await kube.untilPods(ref, deadlineMs, (w, pods) => {
      const h = workloadHealth(ref, w, pods);
      return { done: h.ok && !pods.some((p) => p.metadata.name === deleted && p.metadata.deletionTimestamp), detail: h.detail };
    });
    return { ok: st.done, detail: st.done ? st.detail : `not healthy within ${Math.round(deadlineMs / 1000)} s: ${st.detail}` };
  }

  /** A Kubernetes incident found acting at start-up: recovered if the workload is healthy now, else its ladder again (within the rate limit). */
  private async resumeKubernetes(incident: Incident, service: ServiceConfig): Promise<void> {
    const t = service.kubernetes as NonNullable<ServiceConfig['kubernetes']>;
    let health: { ok: boolean; detail: string } = { ok: false, detail: 'remediator.kubernetes is not enabled' };
    if (this.kube) {
      try {
        const ref = t.name ? { namespace: t.namespace, kind: t.kind, name: t.name } : await this.kube.byLabels(t.namespace, t.kind, t.selector as string);
        const w = await this.kube.get(ref);
        health = workloadHealth(ref, w, await this.kube.pods(ref, w));
      } catch (err) {
        health = { ok: false, detail: (err as Error).message };
      }
    }
    this.record(incident, 'check', 'after restart of the remediator', health.ok ? 'ok' : 'failed', health.detail);
    if (health.ok) {
      return this.recovered(incident, service.name, 'found recovered after the remediator restarted', this.sinceAlert(incident));
    }
    const { max_actions, window } = this.config.rate_limit;
    const recent = this.journal.actionsSince(service.name, this.now() - window);
    const saved = this.journal.getState(`ladder:${incident.id}`);
    if (!this.kube || recent >= max_actions || !saved) {
      this.finish(incident, 'failed', 'interrupted');
      this.escalate(service.name, 'interrupted', incident.id, `an action on ${service.name} was interrupted and it is not healthy (${health.detail}): needs a human`);
      return;
    }
    const ladder = JSON.parse(saved) as StepConfig[];
    this.record(incident, 'decision', 'resume', 'ok', `not healthy: the ladder again (${ladder.map((x) => `${x.action} x${x.attempts}`).join(', ')})`);
    await this.act(incident, ladder, this.config.dry_run);
  }

  private async resume(incident: Incident): Promise<void> {
    const service = this.serviceConfig(incident.service);
    this.record(incident, 'decision', 'resume', 'ok', 'found unfinished at start-up: the remediator stopped mid-action');
    const lastAction = [...this.journal.entries(incident.id)].reverse().find((e) => e.kind === 'action' && e.result === 'started');
    if (service.kubernetes) return this.resumeKubernetes(incident, service);
    if (service.container) {
      const restored = await this.drv(service).restoreParked(service.container).catch(() => undefined);
      if (restored) this.record(incident, 'action', 'rollback', 'ok', `the interrupted redeploy left ${restored} parked and no ${service.container}: put back under its name`);
    }
    const container = await this.drv(service).find(service).catch(() => undefined);
    // Started again by the interrupted action: it may still be coming up, so it gets its deadline.
    const restarted = container?.running === true && lastAction !== undefined && container.startedAt >= lastAction.at - 1000;
    const check = !container
      ? { ok: false, detail: 'container not found' }
      : restarted
        ? await waitForRecovery(this.drv(service), service, container.id, service.recovery_deadline)
        : await checkOnce(this.drv(service), service, container.id);
    this.record(incident, 'check', 'after restart of the remediator', check.ok ? 'ok' : 'failed', check.detail);
    // Without a probe, "running" proves nothing while the interrupted stop may still be under way.
    if (check.ok && (restarted || service.probe)) {
      this.recovered(incident, service.name, 'found recovered after the remediator restarted', this.sinceAlert(incident));
      return;
    }
    const { max_actions, window } = this.config.rate_limit;
    const recent = this.journal.actionsSince(service.name, this.now() - window);
    if (recent >= max_actions) {
      this.finish(incident, 'failed', 'interrupted');
      this.escalate(service.name, 'interrupted', incident.id, `an action on ${service.name} was interrupted, it is not healthy (${check.detail}) and it had ${recent} actions in the last ${Math.round(window / 60000)} min: needs a human`);
      return;
    }
    const saved = this.journal.getState(`ladder:${incident.id}`);
    const ladder: readonly StepConfig[] = saved
      ? (JSON.parse(saved) as StepConfig[])
      : (matchPolicy({ alertname: 'ServiceDown', service: service.name, remediate: 'true' }, this.config.policies)?.policy.ladder ?? [{ action: 'restart', attempts: 1 }]);
    this.record(incident, 'decision', 'resume', 'ok', `not healthy: the ladder again (${ladder.map((x) => `${x.action} x${x.attempts}`).join(', ')})`);
    await this.act(incident, ladder, this.config.dry_run);
  }
}
