/** Pure: what a Home Assistant instance's samples say for the status page. */
import type { Finding, Review, Sample } from '../../collector/contract.js';
import { of, percent, valueOf } from '../../collector/samples.js';
import { M } from './metrics.js';

const FAILED_ENTRY_STATES = new Set(['setup_error', 'setup_retry', 'failed_unload', 'migration_error']);

export function reviewHomeAssistant(samples: readonly Sample[]): Review {
  const findings: Finding[] = [];
  const names = new Map(of(samples, M.deviceInfo).map((d) => [d.labels?.device_id ?? '', d.labels?.name || d.labels?.device_id || '']));
  const device = (id: string | undefined) => `device ${names.get(id ?? '') || id}`;
  for (const e of of(samples, M.entryState)) {
    const entry = { entry_id: e.labels?.entry_id ?? '', domain: e.labels?.domain ?? '' };
    // A disabled integration is not loaded on purpose: not a failure.
    if (e.value === 1 && FAILED_ENTRY_STATES.has(e.labels?.state ?? '') && valueOf(samples, M.entryDisabled, entry) !== 1) {
      const reason = of(samples, M.entryReason).find((r) => r.labels?.entry_id === entry.entry_id)?.labels?.reason;
      findings.push({ severity: 'warning', subject: `integration ${entry.domain} (${entry.entry_id})`, problem: `failed: ${e.labels?.state}${reason ? ` (${reason})` : ''}` });
    }
  }
  const devices = of(samples, M.deviceAvailable);
  for (const d of devices) if (d.value === 0) findings.push({ severity: 'warning', subject: device(d.labels?.device_id), problem: 'is unavailable' });
  for (const b of of(samples, M.batteryLow)) {
    if (b.value !== 1) continue;
    const level = valueOf(samples, M.battery, { device_id: b.labels?.device_id ?? '' });
    findings.push({ severity: 'warning', subject: device(b.labels?.device_id), problem: level === undefined ? 'battery low' : `battery at ${percent(level)}` });
  }
  const dropped = valueOf(samples, M.droppedSeries, { reason: 'over_budget' }) ?? 0;
  if (dropped > 0) findings.push({ severity: 'warning', subject: 'Home Assistant entities', problem: `${dropped} series over max_series were not exported (health series are kept); raise max_series or filter entities` });
  const entities = of(samples, M.entities).reduce((n, s) => n + s.value, 0);
  return { findings, fine: `${entities} entities, ${devices.length} devices, ${devices.filter((d) => d.value === 1).length} available` };
}
