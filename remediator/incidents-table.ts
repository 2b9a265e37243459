/** Pure: the remediator's incidents as a table for people (the CLI's `homestation incidents`). */
import type { Incident, JournalEntry } from './journal.js';

const time = (ms: number) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19);

function pad(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]!))).join('  ').trimEnd()).join('\n');
}

/** Newest first; with `steps`, every journal entry of each incident under it. */
export function incidentsTable(incidents: readonly (Incident & { steps?: readonly JournalEntry[] })[], options: { steps: boolean; now: number }): string {
  if (incidents.length === 0) return 'No incidents in the journal.\n';
  const rows = [['ID', 'STARTED (UTC)', 'SERVICE', 'ALERT', 'STATE', 'RECOVERY', 'REASON']];
  for (const i of incidents) {
    rows.push([
      String(i.id),
      time(i.startedAt),
      i.service,
      i.alertname,
      i.state === 'acting' ? `acting (${Math.round((options.now - i.startedAt) / 1000)} s)` : i.state,
      i.recoverySeconds === null ? '' : `${i.recoverySeconds.toFixed(1)} s`,
      i.reason ?? '',
    ]);
  }
  let out = `${pad(rows)}\n`;
  if (options.steps) {
    for (const i of incidents) {
      out += `\nIncident ${i.id} (${i.service}):\n`;
      for (const e of i.steps ?? []) out += `  ${time(e.at)}  ${e.kind.padEnd(8)} ${e.what} ${e.result}${e.detail ? `: ${e.detail}` : ''}\n`;
    }
  }
  return out;
}
