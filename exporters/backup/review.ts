/** Pure: what a backup instance's samples say for the status page. */
import type { Finding, Review, Sample } from '../../collector/contract.js';
import { humanDuration, of, valueOf } from '../../collector/samples.js';
import { M } from './metrics.js';

export function reviewBackup(samples: readonly Sample[], now: number): Review {
  const findings: Finding[] = [];
  const sets = of(samples, M.count).map((s) => s.labels?.set ?? '');
  let newest: number | undefined;
  for (const set of sets) {
    const l = { set };
    const subject = `backup set ${set}`;
    const last = valueOf(samples, M.last, l);
    const interval = valueOf(samples, M.interval, l);
    if (valueOf(samples, M.count, l) === 0) findings.push({ severity: 'warning', subject, problem: 'has no backup at all' });
    if (last !== undefined) {
      newest = Math.max(newest ?? 0, last * 1000);
      // The same threshold as the BackupStale rule.
      if (interval !== undefined && now / 1000 - last > 1.5 * interval) {
        findings.push({ severity: 'warning', subject, problem: `is overdue: expected every ${humanDuration(interval * 1000)}`, since: last * 1000 });
      }
    }
    if (valueOf(samples, M.complete, l) === 0) findings.push({ severity: 'critical', subject, problem: 'newest backup did not complete (a broken file, a failed Velero run)' });
  }
  if (valueOf(samples, M.checkOk) === 0) {
    const at = valueOf(samples, M.checkTime);
    findings.push({ severity: 'critical', subject: 'backup repository', problem: 'integrity check failed', ...(at ? { since: at * 1000 } : {}) });
  }
  const fine = sets.length === 0 ? 'no backup found yet (its sets are optional)' : `${sets.length} set${sets.length === 1 ? '' : 's'}${newest !== undefined ? `, newest backup ${humanDuration(now - newest)} ago` : ''}`;
  return { findings, fine };
}
