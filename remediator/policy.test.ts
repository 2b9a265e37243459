import { describe, expect, it } from 'vitest';
import { alertKey, matchPolicy } from './policy.js';
import type { PolicyConfig } from './schema.js';

const policies: PolicyConfig[] = [
  { match: { alertname: 'ServiceDown', service: 'zigbee2mqtt' }, ladder: [{ action: 'restart', attempts: 2 }, { action: 'redeploy', attempts: 1 }] },
  { match: { alertname: 'ServiceDown' }, ladder: [{ action: 'restart', attempts: 1 }] },
  { match: { alertname: 'DiskFull' }, service: 'nas', ladder: [{ action: 'restart', attempts: 1 }] },
];

describe('policy matching', () => {
  it('takes the first policy whose labels all match, and the service from the alert', () => {
    const m = matchPolicy({ alertname: 'ServiceDown', service: 'zigbee2mqtt', severity: 'critical' }, policies);
    expect(m?.index).toBe(0);
    expect(m?.service).toBe('zigbee2mqtt');
    expect(matchPolicy({ alertname: 'ServiceDown', service: 'mosquitto' }, policies)).toMatchObject({ index: 1, service: 'mosquitto' });
  });

  it('lets a policy name the service', () => {
    expect(matchPolicy({ alertname: 'DiskFull', service: 'other' }, policies)).toMatchObject({ index: 2, service: 'nas' });
  });

  it('matches nothing when a label differs or is missing', () => {
    expect(matchPolicy({ alertname: 'BackupStale' }, policies)).toBeUndefined();
    expect(matchPolicy({}, policies)).toBeUndefined();
  });

  it('keys an alert by fingerprint and the instant it started, however Alertmanager spells it', () => {
    const spellings = ['2026-11-25T10:00:00Z', '2026-11-25T11:00:00+01:00', '2026-11-25T10:00:00.000000000Z', '2026-11-25T05:00:00-05:00', '2026-11-25T10:00:00.000Z'];
    expect(new Set(spellings.map((s) => alertKey('abc', s)))).toEqual(new Set([`abc@${Date.UTC(2026, 10, 25, 10) / 1000}.000000000`]));
    // Sub-millisecond precision is kept: these are two firings.
    expect(alertKey('abc', '2026-11-25T10:00:00.000000001Z')).not.toBe(alertKey('abc', '2026-11-25T10:00:00.000000002Z'));
    expect(alertKey('abc', '2026-11-25T10:00:00Z')).not.toBe(alertKey('abd', '2026-11-25T10:00:00Z'));
  });
});
