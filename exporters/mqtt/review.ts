/** Pure: what an MQTT instance's samples say for the status page. */
import type { Finding, Review, Sample } from '../../collector/contract.js';
import { of, percent, valueOf } from '../../collector/samples.js';
import { M } from './metrics.js';

/** The BatteryLow rule's threshold. */
export const BATTERY_LOW = 0.15;

export function reviewMqtt(samples: readonly Sample[]): Review {
  const findings: Finding[] = [];
  for (const b of of(samples, M.z2mBridge)) {
    if (b.value === 0) findings.push({ severity: 'critical', subject: `zigbee2mqtt ${b.labels?.base_topic ?? ''}`, problem: 'bridge is offline' });
  }
  const devices = of(samples, M.online);
  for (const d of devices) {
    const l = { device: d.labels?.device ?? '', source: d.labels?.source ?? '' };
    const subject = `device ${l.device} (${l.source})`;
    const seen = valueOf(samples, M.lastSeen, l);
    const unknown = valueOf(samples, M.availabilityUnknown, l) === 1;
    const problem = unknown ? 'availability cannot be read (unknown, not online)' : 'is offline; shown since its last message';
    if (d.value === 0) findings.push({ severity: 'warning', subject, problem, ...(seen ? { since: seen * 1000 } : {}) });
  }
  for (const b of of(samples, M.battery)) {
    if (b.value < BATTERY_LOW) findings.push({ severity: 'warning', subject: `device ${b.labels?.device} (${b.labels?.source})`, problem: `battery at ${percent(b.value)}` });
  }
  const online = devices.filter((d) => d.value === 1).length;
  return { findings, fine: `${devices.length} device${devices.length === 1 ? '' : 's'}, ${online} online` };
}
