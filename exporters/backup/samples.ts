/** Pure: set summaries as samples of the catalogue's metrics. */
import type { Sample } from '../../collector/contract.js';
import type { SetSummary } from './parse/sets.js';
import { M } from './metrics.js';

export function setSamples(summaries: readonly SetSummary[]): Sample[] {
  const out: Sample[] = [];
  for (const s of summaries) {
    const labels = { set: s.name };
    out.push({ metric: M.count, labels, value: s.count });
    // 0: no freshness expectation, so no series for BackupStale to compare with.
    if (s.expectedInterval > 0) out.push({ metric: M.interval, labels, value: s.expectedInterval / 1000 });
    if (s.minRetention !== undefined) out.push({ metric: M.retention, labels, value: s.minRetention / 1000 });
    if (s.newest) {
      out.push({ metric: M.last, labels, value: s.newest.time });
      if (s.newest.sizeBytes !== undefined) out.push({ metric: M.size, labels, value: s.newest.sizeBytes });
    }
    if (s.oldest) out.push({ metric: M.oldest, labels, value: s.oldest.time });
  }
  return out;
}
