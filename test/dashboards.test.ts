/**
 * Dashboards are code and never drift: the committed JSON is the generator's
 * output, every panel reads the ${datasource} variable, uids are stable, and every
 * PromQL expression in dashboards and rules parses and uses only series that
 * HomeStation emits (the catalogue), that rules record, or that a known external
 * exporter provides.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { catalogue } from '../collector/catalogue.js';
import { EXPORTERS } from '../collector/registry.js';
import { renderDashboards } from '../dashboards/generate.js';
import { metricNames } from './promql-names.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const jsonDir = `${root}dashboards/json/`;

interface Panel { type: string; title: string; datasource?: { uid: string }; targets?: { expr: string }[]; panels?: Panel[] }
interface Dashboard { uid: string; title: string; tags: string[]; panels: Panel[]; templating: { list: { type: string; name: string }[] }; links: unknown[] }
const dashboards: Dashboard[] = readdirSync(jsonDir).map((f) => JSON.parse(readFileSync(`${jsonDir}${f}`, 'utf8')) as Dashboard);
const panels = dashboards.flatMap((d) => d.panels.map((p) => ({ dashboard: d.uid, ...p })));

const ruleFiles = readdirSync(`${root}rules`).filter((f) => f.endsWith('.rules.yml'));
interface Rule { alert?: string; record?: string; expr: string }
const rules: Rule[] = ruleFiles.flatMap((f) => (parse(readFileSync(`${root}rules/${f}`, 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules));

/** Series HomeStation emits: the catalogue (histograms as their three series), and process/nodejs defaults. */
const emitted = new Set(
  catalogue(EXPORTERS).flatMap((m) => (m.type === 'histogram' ? [`${m.name}_bucket`, `${m.name}_sum`, `${m.name}_count`] : [m.name])),
);
const recorded = new Set(rules.flatMap((r) => (r.record ? [r.record] : [])));
/** Series of other programs of the stack, by name or prefix. */
const EXTERNAL = ['up', 'ALERTS', 'ALERTS_FOR_STATE', 'probe_success', 'probe_duration_seconds', 'probe_http_status_code'];
const EXTERNAL_PREFIXES = ['node_', 'prometheus_', 'alertmanager_', 'process_', 'nodejs_'];
const known = (n: string) => emitted.has(n) || recorded.has(n) || EXTERNAL.includes(n) || EXTERNAL_PREFIXES.some((p) => n.startsWith(p));

const expressions = [
  ...panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `dashboard ${p.dashboard} / ${p.title}`, expr: t.expr }))),
  ...rules.map((r) => ({ where: `rule ${r.alert ?? r.record}`, expr: r.expr })),
];

describe('dashboards', () => {
  it('are committed exactly as the generator writes them (npm run dashboards)', () => {
    const rendered = renderDashboards();
    expect(Object.keys(rendered).sort()).toEqual(readdirSync(jsonDir).sort());
    for (const [file, text] of Object.entries(rendered)) expect(readFileSync(`${jsonDir}${file}`, 'utf8'), file).toBe(text);
  });

  it('have stable unique uids, the homestation tag, links, and a ${datasource} variable', () => {
    expect(dashboards.map((d) => d.uid).sort()).toEqual(['homestation-backups', 'homestation-bluetooth', 'homestation-gpu', 'homestation-homeassistant', 'homestation-mqtt', 'homestation-overview', 'homestation-remediation', 'homestation-storage']);
    for (const d of dashboards) {
      expect(d.tags).toContain('homestation');
      expect(d.links.length).toBeGreaterThan(0);
      expect(d.templating.list).toContainEqual(expect.objectContaining({ type: 'datasource', name: 'datasource' }));
    }
  });

  it('read every query panel from the ${datasource} variable, never a datasource by name', () => {
    for (const p of panels.filter((x) => x.type !== 'row')) expect(p.datasource?.uid, `${p.dashboard} / ${p.title}`).toBe('${datasource}');
  });
});

describe('PromQL in dashboards and rules', () => {
  it('finds the names the parser sees, recording rules and __name__ matchers included', () => {
    expect(metricNames('sum(rate(a_total{x="1"}[5m])) / b:c:d and {__name__="e_bytes"}').names).toEqual(['a_total', 'b:c:d', 'e_bytes']);
    expect(metricNames('sum(rate(x[5m])').error).toBe(true);
  });

  it.each(expressions.map((e) => [e.where, e.expr] as const))('%s parses and uses only series that exist', (_where, expr) => {
    const { names, error } = metricNames(expr);
    expect(error).toBe(false);
    expect(names.length).toBeGreaterThan(0);
    expect(names.filter((n) => !known(n))).toEqual([]);
  });
});
