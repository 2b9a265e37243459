/**
 * Golden exposition files: each recorded tool output, rendered by the real parser
 * and the real exposition path, must equal its fixtures/golden/*.prom file.
 * UPDATE_GOLDEN=1 rewrites them; promtool checks them. They are also the list of
 * series that rules and dashboards may use.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { exposeSamples } from '../../test/helpers/exposition.js';
import { expectGolden, expectPromtoolClean } from '../../test/helpers/golden.js';
import { backup } from './index.js';
import { parseBorgArchives } from './parse/borg.js';
import { parseResticSnapshots } from './parse/restic.js';
import { resticGroupName, summarizeDeclared, summarizeGrouped } from './parse/sets.js';
import { setSamples } from './samples.js';

const dir = new URL('./fixtures/', import.meta.url);
const goldenDir = new URL('./fixtures/golden/', import.meta.url);
const DAY = 86_400_000;

function render(kind: 'restic' | 'borg', name: string) {
  const text = readFileSync(new URL(`${kind}/${name}`, dir), 'utf8');
  if (kind === 'restic') {
    const { items } = parseResticSnapshots(text);
    return setSamples(summarizeGrouped(items, (s) => resticGroupName(s, ['host', 'paths']), { expectedInterval: DAY, minRetention: 30 * DAY }));
  }
  const { items } = parseBorgArchives(text, 'Europe/Berlin');
  return setSamples(summarizeDeclared(items, [{ name: 'all', expectedInterval: DAY, matches: () => true }]));
}

const cases = [
  ...readdirSync(new URL('restic/', dir))
    .filter((f) => f.includes('snapshots'))
    .map((f) => ['restic', f] as const),
  ...readdirSync(new URL('borg/', dir))
    .filter((f) => !f.includes('analyze'))
    .map((f) => ['borg', f] as const),
];

describe('backup exposition over recorded outputs', () => {
  it.each(cases)('%s %s matches its golden file', async (kind, name) => {
    const text = await exposeSamples(backup, render(kind, name), 'nas');
    const golden = new URL(`${kind}__${name.replace(/\.json$/, '')}.prom`, goldenDir);
    expectGolden(text, golden);
  });

  it('golden files pass promtool check metrics', (ctx) => {
    expect(expectPromtoolClean(ctx, goldenDir).length).toBe(cases.length);
  });
});
