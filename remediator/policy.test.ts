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

  it('keys an alert by fingerprint and start, as Alertmanager resends it', () => {
    expect(alertKey('abc', '2026-01-01T00:00:00Z')).toBe('abc@2026-01-01T00:00:00Z');
  });
});
