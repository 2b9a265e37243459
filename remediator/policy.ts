/** Pure: which policy an alert falls under, and which service it is about. */
import type { PolicyConfig } from './schema.js';

export interface Match {
  readonly policy: PolicyConfig;
  readonly index: number;
  /** Undefined when neither the policy nor the alert's `service` label names one. */
  readonly service: string | undefined;
}

/** The first policy whose every `match` label equals the alert's. */
export function matchPolicy(labels: Readonly<Record<string, string>>, policies: readonly PolicyConfig[]): Match | undefined {
  const index = policies.findIndex((p) => Object.entries(p.match).every(([k, v]) => labels[k] === v));
  if (index < 0) return undefined;
  const policy = policies[index] as PolicyConfig;
  return { policy, index, service: policy.service ?? labels.service };
}

/** The key Alertmanager's resends share: the same alert, the same firing. */
export function alertKey(fingerprint: string, startsAt: string): string {
  return `${fingerprint}@${startsAt}`;
}
