/** Pure: what a Home Assistant instance's samples say for the status page. */
import type { Finding, Review, Sample } from '../../collector/contract.js';
import { of, percent } from '../../collector/samples.js';
import { M } from './metrics.js';

const FAILED_ENTRY_STATES = new Set(['setup_error', 'setup_retry', 'failed_unload', 'migration_error']);
/** The HomeAssistant battery rule's threshold. */
export const BATTERY_LOW = 0.15;

export function reviewHomeAssistant(samples: readonly Sample[]): Review {
  const findings: Finding[] = [];
  const names = new Map(of(samples, M.deviceInfo).map((d) => [d.labels?.device_id ?? '', d.labels?.name || d.labels?.device_id || '']));
  const device = (id: string | undefined) => `device ${names.get(id ?? '') || id}`;
  for (const e of of(samples, M.entryState)) {
    if (e.value === 1 && FAILED_ENTRY_STATES.has(e.labels?.state ?? '')) {
      findings.push({ severity: 'warning', subject: `integration ${e.labels?.domain} (${e.labels?.entry_id})`, problem: `failed: ${e.labels?.state}` });
    }
  }
  const devices = of(samples, M.deviceAvailable);
  for (const d of devices) if (d.value === 0) findings.push({ severity: 'warning', subject: device(d.labels?.device_id), problem: 'is unavailable' });
  for (const b of of(samples, M.battery)) {
    if (b.value < BATTERY_LOW) findings.push({ severity: 'warning', subject: device(b.labels?.device_id), problem: `battery at ${percent(b.value)}` });
  }
  const entities = of(samples, M.entities).reduce((n, s) => n + s.value, 0);
  return { findings, fine: `${entities} entities, ${devices.length} devices, ${devices.filter((d) => d.value === 1).length} available` };
}
