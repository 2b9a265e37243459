/** The small human status page at `/`: one row per exporter instance. */

interface View {
  version: string;
  config: string;
  instances: {
    exporter: string;
    instance: string;
    up: boolean;
    settled: boolean;
    last_success: string | null;
    last_duration_seconds: number | null;
    last_error: { reason: string; message: string; hint?: string; at: string } | null;
    series: number;
  }[];
}

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

export function ago(iso: string | null, now: number): string {
  if (!iso) return 'never';
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.round(s / 60)} min ago`;
  if (s < 172800) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

export function statusPage(view: View, now: number): string {
  const rows = view.instances
    .map((i) => {
      const state = !i.settled ? 'starting' : i.up ? 'up' : 'down';
      const err = i.last_error
        ? `${escapeHtml(i.last_error.reason)}: ${escapeHtml(i.last_error.message)}${
            i.last_error.hint ? `<br><small>${escapeHtml(i.last_error.hint)}</small>` : ''
          }`
        : '';
      return `<tr class="${state}"><td>${escapeHtml(i.exporter)}</td><td>${escapeHtml(i.instance)}</td><td>${state}</td><td>${ago(
        i.last_success,
        now,
      )}</td><td>${i.last_duration_seconds === null ? '' : i.last_duration_seconds.toFixed(3) + ' s'}</td><td>${i.series}</td><td>${err}</td></tr>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="15">
<title>HomeStation</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem;color:#222}table{border-collapse:collapse}
td,th{padding:.3rem .8rem;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}
tr.up td:nth-child(3){color:#1a7f37}tr.down td:nth-child(3){color:#cf222e;font-weight:bold}
tr.starting td:nth-child(3){color:#9a6700}small{color:#555}
</style></head><body>
<h1>HomeStation</h1>
<p>Version ${escapeHtml(view.version)} · config: ${escapeHtml(view.config)} ·
<a href="/metrics">/metrics</a> · <a href="/api/v1/status">/api/v1/status</a> · <a href="/readyz">/readyz</a></p>
<table><thead><tr><th>Exporter</th><th>Instance</th><th>State</th><th>Last success</th><th>Duration</th><th>Series</th><th>Last error</th></tr></thead>
<tbody>
${rows || '<tr><td colspan="7">No exporter instances are configured.</td></tr>'}
</tbody></table>
</body></html>
`;
}
