/**
 * The alert and recording rules: promtool accepts them and their unit tests pass,
 * every alert has its labels, annotations, runbook section and unit tests, and the
 * tests check each alert just before and at its `for` edge.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { requireTools } from './helpers/tools.js';

const rulesDir = fileURLToPath(new URL('../rules/', import.meta.url));
const ruleFiles = readdirSync(rulesDir).filter((f) => f.endsWith('.rules.yml'));
const testFiles = readdirSync(`${rulesDir}tests`).filter((f) => f.endsWith('.test.yml'));

interface Rule { alert?: string; record?: string; expr: string; for?: string; labels?: Record<string, string>; annotations?: Record<string, string> }
const rules: Rule[] = ruleFiles.flatMap((f) => (parse(readFileSync(`${rulesDir}${f}`, 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules));
const alerts = rules.filter((r) => r.alert);

interface AlertTest { eval_time: string; alertname: string; exp_alerts: unknown[] }
const alertTests: AlertTest[] = testFiles.flatMap((f) =>
  (parse(readFileSync(`${rulesDir}tests/${f}`, 'utf8')) as { tests: { alert_rule_test?: AlertTest[] }[] }).tests.flatMap((t) => t.alert_rule_test ?? []),
);
const runbooks = readFileSync(new URL('../docs/runbooks.md', import.meta.url), 'utf8');
const anchors = new Set([...runbooks.matchAll(/^## (.+)$/gm)].map((m) => (m[1] as string).toLowerCase().replace(/[^a-z0-9]+/g, '-')));

describe('alert and recording rules', () => {
  it('pass promtool check rules', (ctx) => {
    requireTools(ctx, 'promtool');
    const res = spawnSync('promtool', ['check', 'rules', ...ruleFiles], { cwd: rulesDir, encoding: 'utf8' });
    expect(res.stdout + res.stderr).not.toMatch(/FAILED|error/i);
    expect(res.status).toBe(0);
  });

  it('pass their promtool unit tests', (ctx) => {
    requireTools(ctx, 'promtool');
    const res = spawnSync('promtool', ['test', 'rules', ...testFiles.map((f) => `tests/${f}`)], { cwd: rulesDir, encoding: 'utf8' });
    expect(res.stdout + res.stderr).not.toContain('FAILED');
    expect(res.status).toBe(0);
  });

  it.each(alerts.map((a) => [a.alert as string, a] as const))('%s has severity, summary, description and a runbook section', (_name, a) => {
    expect(a.alert).toMatch(/^[A-Z][A-Za-z0-9]+$/);
    expect(['critical', 'warning', 'info']).toContain(a.labels?.severity);
    expect(a.annotations?.summary).toBeTruthy();
    expect(a.annotations?.description).toMatch(/\{\{/);
    const anchor = /docs\/runbooks\.md#([a-z0-9-]+)$/.exec(a.annotations?.runbook_url ?? '')?.[1];
    expect(anchors).toContain(anchor);
  });

  it.each([...new Set(alerts.map((a) => a.alert as string))])('%s is unit-tested silent before its for: edge and firing at it', (name) => {
    const tests = alertTests.filter((t) => t.alertname === name);
    expect(tests.some((t) => t.exp_alerts.length === 0)).toBe(true);
    expect(tests.some((t) => t.exp_alerts.length > 0)).toBe(true);
  });

  it('names recording rules level:metric:operations', () => {
    for (const r of rules.filter((x) => x.record)) expect(r.record).toMatch(/^[a-z_]+:[a-z_]+:[a-z0-9_]+$/);
  });

  it('repeats the for: of every remediable alert as its detection_for annotation (the remediator measures recovery from the failure)', () => {
    const remediable = alerts.filter((a) => a.labels?.remediate === 'true');
    expect(remediable.length).toBeGreaterThan(0);
    for (const a of remediable) expect(a.annotations?.detection_for, a.alert).toBe(a.for ?? '0s');
  });

  it('gives the alerts the remediator acts on its labels', () => {
    const serviceDown = alerts.find((a) => a.alert === 'ServiceDown')!;
    expect(serviceDown.labels).toMatchObject({ remediate: 'true' });
    expect(serviceDown.expr).toContain('probe_success');
  });
});
