/**
 * The promtool unit tests are fed the shapes HomeStation really emits: every
 * homestation_* input series is in the metric catalogue with exactly its labels
 * (plus the target labels Prometheus adds), and every counter and histogram series
 * starts at 0 as HomeStation creates it, or is absent first and born later (a
 * service first named by its alert). A test that starts a counter at 5 hides the
 * first event, which is where the defects were. test/e2e/signals.test.ts checks
 * the same shapes on series captured from a running HomeStation.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { catalogue, type CatalogueEntry } from '../collector/catalogue.js';
import { EXPORTERS } from '../collector/registry.js';

const testsDir = fileURLToPath(new URL('../rules/tests/', import.meta.url));
/** Labels Prometheus adds from the scrape config (deploy/prometheus/prometheus.yml). */
const TARGET_LABELS = new Set(['job', 'instance', 'host']);
const entries = new Map(catalogue(EXPORTERS).map((e) => [e.name, e]));

/** The catalogue entry of a series name, a histogram's _bucket/_sum/_count included. */
export function entryOf(name: string): { entry: CatalogueEntry; part?: 'bucket' | 'sum' | 'count' } | undefined {
  const direct = entries.get(name);
  if (direct) return { entry: direct };
  const m = /^(.*)_(bucket|sum|count)$/.exec(name);
  const base = m && entries.get(m[1] as string);
  return base?.type === 'histogram' ? { entry: base, part: m![2] as 'bucket' | 'sum' | 'count' } : undefined;
}

export function parseSeries(selector: string): { name: string; labels: Record<string, string> } {
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?:\{(.*)\})?$/.exec(selector.trim());
  if (!m) throw new Error(`not a series: ${selector}`);
  const labels: Record<string, string> = {};
  for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"/g)) labels[l[1] as string] = l[2] as string;
  return { name: m[1] as string, labels };
}

interface Input { file: string; test: string; series: string; values: string }
const inputs: Input[] = readdirSync(testsDir)
  .filter((f) => f.endsWith('.test.yml'))
  .flatMap((file) =>
    (parse(readFileSync(`${testsDir}${file}`, 'utf8')) as { tests: { name: string; input_series?: { series: string; values: string }[] }[] }).tests.flatMap((t) =>
      (t.input_series ?? []).map((s) => ({ file, test: t.name, series: s.series, values: String(s.values) })),
    ),
  )
  .filter((i) => i.series.startsWith('homestation_'));

describe('promtool test inputs have the shapes HomeStation emits', () => {
  it('has inputs to check', () => {
    expect(inputs.length).toBeGreaterThan(20);
  });

  it.each(inputs.map((i) => [`${i.file}: ${i.series}`, i] as const))('%s', (_title, input) => {
    const { name, labels } = parseSeries(input.series);
    const found = entryOf(name);
    expect(found, `${name} is not in the catalogue (homestation metrics)`).toBeDefined();
    const { entry, part } = found!;
    const own = Object.keys(labels).filter((l) => !TARGET_LABELS.has(l) && !(part === 'bucket' && l === 'le'));
    expect(own.sort(), `labels of ${name}`).toEqual([...entry.allLabels].sort());
    if (entry.type === 'counter' || entry.type === 'histogram') {
      // The first value that is not a gap: 0 (HomeStation creates the series at 0), or a birth after a gap.
      const tokens = input.values.trim().split(/\s+/);
      const startsAbsent = tokens[0]?.startsWith('_');
      if (!startsAbsent) expect(tokens[0], `${input.test}: a ${entry.type} series starts at 0`).toMatch(/^0(\+|-|x|$)/);
    }
  });
});
