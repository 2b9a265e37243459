/**
 * The registry, the folders and the catalogue agree, and every metric follows the
 * Prometheus conventions: adding an exporter that breaks them fails here.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { catalogue } from '../collector/catalogue.js';
import { rootSchema } from '../collector/config/schema.js';
import { EXPORTERS } from '../collector/registry.js';

const root = new URL('../', import.meta.url);
const folders = readdirSync(new URL('exporters/', root)).filter((f) => statSync(new URL(`exporters/${f}`, root)).isDirectory());

describe('exporter registry', () => {
  it('has one registry entry per exporters/ folder, named alike', () => {
    expect(EXPORTERS.map((k) => k.name).sort()).toEqual([...folders].sort());
  });

  it('composes the config schema from the registry: one exporters.<name> key per kind', () => {
    const schema = rootSchema(EXPORTERS) as unknown as { properties: { exporters: { properties: Record<string, unknown> } } };
    expect(Object.keys(schema.properties.exporters.properties).sort()).toEqual(EXPORTERS.map((k) => k.name).sort());
  });

  it.each(folders)('exporters/%s has a README with a table of its metrics', (folder) => {
    const readme = readFileSync(new URL(`exporters/${folder}/README.md`, root), 'utf8');
    const kind = EXPORTERS.find((k) => k.name === folder)!;
    for (const m of kind.metrics) expect(readme, `README of ${folder} lists ${m.name}`).toContain(m.name);
  });
});

describe('metric catalogue conventions', () => {
  const entries = catalogue(EXPORTERS);

  it.each(entries.map((e) => [e.name, e] as const))('%s follows the naming rules', (name, e) => {
    expect(name).toMatch(/^[a-z_][a-z0-9_]*$/);
    // The recovery histogram is named by the product, not the component: homestation_recovery_seconds.
    const prefix = e.source === 'homestation' ? 'homestation_' : e.source === 'remediator' ? 'homestation_' : `homestation_${e.source}_`;
    expect(name.startsWith(prefix)).toBe(true);
    if (e.type === 'counter') expect(name).toMatch(/_total$/);
    else expect(name).not.toMatch(/_total$/);
    if (e.unit === 'seconds') expect(name).toMatch(/_seconds(_total)?$/);
    if (e.unit === 'bytes') expect(name).toMatch(/_bytes(_total)?$/);
    if (/_(seconds|bytes)(_total)?$/.test(name)) expect(e.unit).toBeDefined();
    expect(e.help.length).toBeGreaterThan(20);
    for (const l of e.allLabels) expect(l).toMatch(/^[a-z_][a-z0-9_]*$/);
    // `instance` and `job` belong to Prometheus' target labels.
    expect(e.allLabels).not.toContain('instance');
    expect(e.allLabels).not.toContain('job');
  });

  it('has a distinct help text for every metric and no name twice', () => {
    expect(new Set(entries.map((e) => e.name)).size).toBe(entries.length);
    expect(new Set(entries.map((e) => e.help)).size).toBe(entries.length);
  });
});
