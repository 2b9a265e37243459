/**
 * What is wrong in the homelab right now, worst and oldest first, and what is fine:
 * the exporters' own reviews of the samples they serve, instances that are down,
 * and the remediator's open incidents. Read at request time from kept state only.
 */
import type { ExporterKind, Finding } from './contract.js';
import type { InstanceStatus } from './instance-runner.js';

export interface SourcedFinding extends Finding {
  /** exporter/instance, or "remediator". */
  readonly source: string;
}

/** What the collector's pages need of a remediator running in the same process. */
export interface RemediatorView {
  /** Undefined while it is starting. */
  engine(): { readonly connected: boolean; readonly error?: string; readonly since: number } | undefined;
  /** Incidents being acted on, or failed and waiting for a person. */
  openIncidents(): readonly { readonly id: number; readonly service: string; readonly state: string; readonly alertname: string; readonly reason: string | null; readonly startedAt: number; readonly endedAt: number | null }[];
}

export interface Health {
  readonly findings: readonly SourcedFinding[];
  readonly fine: readonly { readonly source: string; readonly text: string }[];
}

const rank = { critical: 0, warning: 1 } as const;

/** `instances`: each runner's status as read once for the request, with its kind. */
export function health(instances: readonly { readonly status: InstanceStatus; readonly kind: ExporterKind }[], remediator: RemediatorView | undefined, now: number): Health {
  const findings: SourcedFinding[] = [];
  const fine: { source: string; text: string }[] = [];
  for (const { status: st, kind } of instances) {
    const source = `${st.exporter}/${st.instance}`;
    const down = st.settled && !st.up;
    if (down) {
      const err = st.lastError;
      const kept = st.mode === 'stream' && st.lastSuccess !== undefined ? '; what it last knew is still shown' : '';
      findings.push({
        source,
        severity: 'critical',
        subject: `exporter ${source}`,
        problem: `is down${err ? ` (${err.reason}: ${err.message})` : ''}${kept}`,
        ...(st.failingSince !== undefined ? { since: st.failingSince } : {}),
      });
    }
    const review = kind.review?.(st.samples, now);
    if (review) {
      for (const f of review.findings) findings.push({ ...f, source });
      if (!down) fine.push({ source, text: review.fine });
    }
  }
  if (remediator) {
    const engine = remediator.engine();
    if (engine && !engine.connected) {
      findings.push({ source: 'remediator', severity: 'critical', subject: 'remediator', problem: `cannot reach the container engine (${engine.error ?? 'unknown'}); not acting, retrying`, since: engine.since });
    }
    for (const i of remediator.openIncidents()) {
      findings.push(
        i.state === 'acting'
          ? { source: 'remediator', severity: 'warning', subject: `service ${i.service}`, problem: `being remediated (incident ${i.id}, ${i.alertname})`, since: i.startedAt }
          : { source: 'remediator', severity: 'critical', subject: `service ${i.service}`, problem: `needs a human: ${i.reason ?? i.state} (incident ${i.id})`, since: i.endedAt ?? i.startedAt },
      );
    }
    fine.push({ source: 'remediator', text: engine === undefined ? 'starting' : engine.connected ? 'container engine connected' : 'degraded' });
  }
  // Worst first; within a severity the oldest first (an unknown age last).
  const age = (f: Finding) => f.since ?? Number.MAX_SAFE_INTEGER;
  findings.sort((a, b) => rank[a.severity] - rank[b.severity] || age(a) - age(b));
  return { findings, fine };
}

/**
 * Incidents a person should see, from the most recent first: those acting, and a
 * service's failed incidents of the last week until a later one of the same service
 * recovered or resolved.
 */
export function openIncidents<T extends { service: string; state: string; startedAt: number; endedAt: number | null }>(recentFirst: readonly T[], now: number): T[] {
  const closed = new Set<string>();
  return recentFirst.filter((i) => {
    const open = i.state === 'acting' || (!closed.has(i.service) && i.state === 'failed' && now - (i.endedAt ?? i.startedAt) < 7 * 86_400_000);
    if (i.state === 'recovered' || i.state === 'resolved') closed.add(i.service);
    return open;
  });
}
