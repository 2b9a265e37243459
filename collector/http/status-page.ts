/**
 * The status page at `/`: what is wrong in the homelab right now (worst and oldest
 * first, each with its age), then what is fine, then the exporters' own health.
 * Server-rendered HTML with inline CSS: no script, no front-end build, readable on
 * a phone, refreshed every 15 s.
 */

interface View {
  version: string;
  config: string;
  findings: { severity: 'critical' | 'warning'; source: string; subject: string; problem: string; since: string | null }[];
  fine: { source: string; text: string }[];
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

function findingsSection(view: View, now: number): string {
  if (view.findings.length === 0) {
    return `<section class="banner ok"><h2>All is well</h2><p>Nothing needs you right now.</p></section>`;
  }
  const critical = view.findings.filter((f) => f.severity === 'critical').length;
  const warnings = view.findings.length - critical;
  const headline = [critical ? `${critical} critical` : '', warnings ? `${warnings} warning${warnings === 1 ? '' : 's'}` : ''].filter(Boolean).join(', ');
  const items = view.findings
    .map(
      (f) =>
        `<li class="${f.severity}"><span class="sev">${f.severity}</span> <b>${escapeHtml(f.subject)}</b> ${escapeHtml(f.problem)}` +
        `<span class="meta">${f.since ? `since ${escapeHtml(ago(f.since, now))} · ` : ''}${escapeHtml(f.source)}</span></li>`,
    )
    .join('\n');
  return `<section class="banner ${critical ? 'critical' : 'warning'}"><h2>${headline}</h2></section>\n<ul class="findings">\n${items}\n</ul>`;
}

function instancesTable(view: View, now: number): string {
  const rows = view.instances
    .map((i) => {
      const state = !i.settled ? 'starting' : i.up ? 'up' : 'down';
      const err = i.last_error
        ? `${escapeHtml(i.last_error.reason)}: ${escapeHtml(i.last_error.message)}${i.last_error.hint ? `<br><small>${escapeHtml(i.last_error.hint)}</small>` : ''}`
        : '';
      return `<tr class="${state}"><td>${escapeHtml(i.exporter)}</td><td>${escapeHtml(i.instance)}</td><td>${state}</td><td>${ago(
        i.last_success,
        now,
      )}</td><td>${i.last_duration_seconds === null ? '' : i.last_duration_seconds.toFixed(3) + ' s'}</td><td>${i.series}</td><td>${err}</td></tr>`;
    })
    .join('\n');
  return `<div class="scroll"><table><thead><tr><th>Exporter</th><th>Instance</th><th>State</th><th>Last success</th><th>Duration</th><th>Series</th><th>Last error</th></tr></thead>
<tbody>
${rows || '<tr><td colspan="7">No exporter instances are configured.</td></tr>'}
</tbody></table></div>`;
}

export function statusPage(view: View, now: number): string {
  const fine = view.fine.map((f) => `<li><b>${escapeHtml(f.source)}</b> ${escapeHtml(f.text)}</li>`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta http-equiv="refresh" content="15">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${view.findings.length ? `(${view.findings.length}) ` : ''}HomeStation</title>
<style>
body{font-family:system-ui,sans-serif;margin:1rem auto;max-width:60rem;padding:0 1rem;color:#222;line-height:1.4}
h1{font-size:1.4rem;margin:.2rem 0}h2{font-size:1.15rem;margin:.2rem 0}h3{font-size:1rem;margin:1.4rem 0 .4rem}
.banner{border-radius:.5rem;padding:.6rem 1rem;margin:1rem 0}.banner p{margin:.2rem 0}
.banner.ok{background:#dafbe1;color:#116329}.banner.warning{background:#fff8c5;color:#7d4e00}.banner.critical{background:#ffebe9;color:#a40e26}
ul{padding:0;margin:0;list-style:none}.findings li{border-left:.35rem solid #d4a72c;padding:.45rem .7rem;margin:.4rem 0;background:#fafafa;border-radius:.25rem}
.findings li.critical{border-color:#cf222e}.sev{font-size:.75rem;text-transform:uppercase;font-weight:bold;color:#7d4e00}
li.critical .sev{color:#cf222e}.meta{display:block;font-size:.8rem;color:#57606a}
.fine li{padding:.2rem 0}.fine li::before{content:"\\2713  ";color:#1a7f37}
.scroll{overflow-x:auto}table{border-collapse:collapse;font-size:.9rem}
td,th{padding:.3rem .6rem;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}
tr.up td:nth-child(3){color:#1a7f37}tr.down td:nth-child(3){color:#cf222e;font-weight:bold}
tr.starting td:nth-child(3){color:#9a6700}small,footer{color:#57606a}footer{font-size:.8rem;margin-top:1.5rem}
</style></head><body>
<h1>HomeStation</h1>
${findingsSection(view, now)}
<h3>What is fine</h3>
<ul class="fine">
${fine || '<li>Nothing is configured yet.</li>'}
</ul>
<h3>Exporters</h3>
${instancesTable(view, now)}
<footer>Version ${escapeHtml(view.version)} · config: ${escapeHtml(view.config)} ·
<a href="/metrics">/metrics</a> · <a href="/api/v1/status">/api/v1/status</a> · <a href="/readyz">/readyz</a></footer>
</body></html>
`;
}
