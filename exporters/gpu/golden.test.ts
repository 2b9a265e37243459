/**
 * Golden exposition files: every recorded nvidia-smi query and every recorded
 * tegrastats line (fixtures/, SOURCE.txt says where each comes from), rendered by
 * the real parsers and the real exposition path, must equal its fixtures/golden
 * file. UPDATE_GOLDEN=1 rewrites them; promtool checks them. They are the series
 * this exporter emits, for rules and dashboards.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { exposeSamples } from '../../test/helpers/exposition.js';
import { expectGolden, expectPromtoolClean } from '../../test/helpers/golden.js';
import { gpu } from './index.js';
import { parseQueryGpu } from './parse/nvidia-smi.js';
import { parseNvidiaSmiXml } from './parse/nvidia-xml.js';
import { parseTegrastatsLine } from './parse/tegrastats.js';
import { migSamples, nvidiaSamples, processSamples, tegraSamples } from './samples.js';

const dir = new URL('./fixtures/', import.meta.url);
const goldenDir = new URL('./fixtures/golden/', import.meta.url);
/** The beszel capture was made with these fields and noheader,nounits (its first line says so). */
const BESZEL_FIELDS = ['index', 'name', 'temperature.gpu', 'memory.used', 'memory.total', 'utilization.gpu', 'power.draw'];

const smiCases = readdirSync(new URL('nvidia-smi/', dir)).filter((f) => !f.includes('help-query') && !f.includes('compute-apps'));
const xmlCases = readdirSync(new URL('nvidia-xml/', dir)).filter((f) => f.endsWith('.xml'));
const tegraCases = readdirSync(new URL('tegrastats/', dir))
  .filter((f) => f.endsWith('.txt'))
  .flatMap((f) =>
    readFileSync(new URL(`tegrastats/${f}`, dir), 'utf8')
      .split('\n')
      .map((line, i) => ({ file: f, n: i + 1, line }))
      .filter((l) => l.line.trim() && !l.line.startsWith('#')),
  );

const check = expectGolden;

describe('gpu exposition over recorded outputs', () => {
  it.each(smiCases)('nvidia-smi %s matches its golden file', async (name) => {
    const text = readFileSync(new URL(`nvidia-smi/${name}`, dir), 'utf8');
    const parsed = parseQueryGpu(text, name.startsWith('beszel') ? BESZEL_FIELDS : undefined);
    expect(parsed.gpus.length).toBeGreaterThan(0);
    check(await exposeSamples(gpu, nvidiaSamples(parsed.gpus), 'desktop'), new URL(`nvidia-smi__${name.replace(/\.(csv|txt)$/, '')}.prom`, goldenDir));
  });

  it.each(xmlCases)('nvidia-smi -q -x %s matches its golden file', async (name) => {
    const parsed = parseNvidiaSmiXml(readFileSync(new URL(`nvidia-xml/${name}`, dir), 'utf8'));
    expect(parsed.problems).toEqual([]);
    expect(parsed.gpus.length).toBeGreaterThan(0);
    const samples = [...nvidiaSamples(parsed.gpus), ...migSamples(parsed.mig), ...processSamples(parsed.processes, 20)];
    check(await exposeSamples(gpu, samples, 'desktop'), new URL(`nvidia-xml__${name.replace(/\.xml$/, '')}.prom`, goldenDir));
  });

  it.each(tegraCases.map((c) => [`${c.file}:${c.n}`, c] as const))('tegrastats %s matches its golden file', async (_, c) => {
    const s = parseTegrastatsLine(c.line);
    expect(s.unknown).toEqual([]);
    check(await exposeSamples(gpu, tegraSamples(s, { VDD_IN: 15 }), 'jetson'), new URL(`tegrastats__${c.file.replace(/\.txt$/, '')}__line${c.n}.prom`, goldenDir));
  });

  it('golden files pass promtool check metrics', (ctx) => {
    const files = expectPromtoolClean(ctx, goldenDir);
    expect(files.length).toBe(smiCases.length + xmlCases.length + tegraCases.length);
  });
});
