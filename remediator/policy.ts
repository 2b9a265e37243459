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

const RFC3339 = /^(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9})\d*)?([Zz]|[+-]\d\d:?\d\d)$/;

/**
 * An RFC 3339 time as the instant it names, to the nanosecond: "SECONDS.NNNNNNNNN"
 * since the epoch. Alertmanager keeps the source's offset and precision, so one
 * instant arrives as ...10:00:00Z, ...11:00:00+01:00 or ...10:00:00.000000000Z.
 * Undefined when the text is not RFC 3339.
 */
export function instantOf(text: string): string | undefined {
  const m = RFC3339.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac = '', zone = 'Z'] = m;
  let seconds = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)) / 1000;
  if (Number.isNaN(seconds)) return undefined;
  if (zone.toUpperCase() !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    seconds -= sign * (Number(digits.slice(0, 2)) * 3600 + Number(digits.slice(2)) * 60);
  }
  return `${seconds}.${frac.padEnd(9, '0')}`;
}

/** The key Alertmanager's resends share: the same alert, the same firing (by instant, not spelling). */
export function alertKey(fingerprint: string, startsAt: string): string {
  return `${fingerprint}@${instantOf(startsAt) ?? startsAt}`;
}
