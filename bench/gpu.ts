/**
 * npm run bench:gpu — what the gpu exporter costs HomeStation's own process, over
 * the FAKE nvidia-smi and tegrastats of test/fakes replaying recorded real outputs.
 *
 * 1. The parsers alone: µs per tegrastats line (every recorded line), per nvidia-smi
 *    CSV row, per `-q -x` report; reference: the XML report (what `query: xml` and
 *    telegraf read) against the CSV query.
 * 2. The tegrastats stream in the exporter (one long-lived process, lines parsed as
 *    they come): CPU of HomeStation's process per line, and at the default 5 s
 *    interval as a share of one core; reference: one tegrastats per reading (a new
 *    process per scrape, the way the issue says not to), the same lines.
 * 3. One nvidia-smi collection through the exporter (spawn, read, parse, samples):
 *    CPU of HomeStation's process, csv against xml.
 * The fakes are Node scripts: their own CPU (a Node start-up each) is not the real
 * tools' and is not counted; what is counted is HomeStation's side.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { InstanceContext } from '../collector/contract.js';
import { silentLogger } from '../collector/logging.js';
import { NvidiaSmiSource } from '../exporters/gpu/nvidia-smi.js';
import { parseQueryGpu } from '../exporters/gpu/parse/nvidia-smi.js';
import { parseNvidiaSmiXml } from '../exporters/gpu/parse/nvidia-xml.js';
import { parseTegrastatsLine } from '../exporters/gpu/parse/tegrastats.js';
import { nvidiaSamples, tegraSamples } from '../exporters/gpu/samples.js';
import { TegrastatsStream } from '../exporters/gpu/tegrastats.js';

const fixtures = new URL('../../exporters/gpu/fixtures/', import.meta.url);
const SMI = fileURLToPath(new URL('../../test/fakes/nvidia-smi.mjs', import.meta.url));
const TEGRA = fileURLToPath(new URL('../../test/fakes/tegrastats.mjs', import.meta.url));
const out = (line: string) => process.stdout.write(`${line}\n`);
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function ctx(): InstanceContext & { lines: number } {
  const c = { exporter: 'gpu', instance: 'bench', log: silentLogger(), now: Date.now, lines: 0, reportSuccess: () => void (c.lines += 1), reportError: () => undefined };
  return c;
}

function perCall(fn: () => unknown, iterations: number): number {
  for (let i = 0; i < Math.min(1000, iterations); i++) fn();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn();
  return Number(process.hrtime.bigint() - t0) / 1000 / iterations;
}

async function parsers(): Promise<void> {
  const lines = readdirSync(new URL('tegrastats/', fixtures))
    .filter((f) => f.endsWith('.txt'))
    .flatMap((f) => readFileSync(new URL(`tegrastats/${f}`, fixtures), 'utf8').split('\n'))
    .filter((l) => l.trim() && !l.startsWith('#'));
  let i = 0;
  const tegra = perCall(() => tegraSamples(parseTegrastatsLine(lines[i++ % lines.length] as string)), 50_000);
  const csv = readFileSync(new URL('nvidia-smi/nvidia-l40s__load.csv', fixtures), 'utf8');
  const csvUs = perCall(() => nvidiaSamples(parseQueryGpu(csv).gpus), 20_000);
  const xml = readFileSync(new URL('nvidia-xml/telegraf__tesla-t4.xml', fixtures), 'utf8');
  const xmlUs = perCall(() => nvidiaSamples(parseNvidiaSmiXml(xml).gpus), 2_000);
  out(`parsers: tegrastats ${tegra.toFixed(1)} µs/line (${lines.length} recorded lines); nvidia-smi CSV row ${csvUs.toFixed(1)} µs; -q -x report ${xmlUs.toFixed(0)} µs (xml/csv = ${(xmlUs / csvUs).toFixed(0)}x)`);
}

async function stream(): Promise<{ perLineMs: number }> {
  const c = ctx();
  const s = new TegrastatsStream(c, { command: TEGRA, interval: 50, silent_after: 3, rail_budgets: {} });
  await s.start();
  await sleep(1000);
  const l0 = c.lines;
  const t0 = cpuMs();
  await sleep(10_000);
  const used = cpuMs() - t0;
  const lines = c.lines - l0;
  await s.stop();
  const perLineMs = used / lines;
  out(`tegrastats stream: ${lines} lines in 10 s, ${(perLineMs * 1000).toFixed(0)} µs of HomeStation CPU per line; at the default 5 s interval ${((perLineMs / 5000) * 100).toFixed(4)}% of one core`);
  return { perLineMs };
}

async function processPerReading(reference: { perLineMs: number }): Promise<void> {
  process.env.FAKE_TEGRASTATS_MODE = 'die-after=1';
  const c = ctx();
  const readings = 40;
  const t0 = cpuMs();
  for (let i = 0; i < readings; i++) {
    const s = new TegrastatsStream(c, { command: TEGRA, interval: 1000, silent_after: 3, rail_budgets: {} });
    const before = c.lines;
    await s.start();
    while (c.lines === before) await sleep(5);
    await s.stop();
  }
  const perReading = (cpuMs() - t0) / readings;
  delete process.env.FAKE_TEGRASTATS_MODE;
  out(`reference, one tegrastats per reading: ${(perReading * 1000).toFixed(0)} µs of HomeStation CPU per reading (stream/reference = ${(reference.perLineMs / perReading).toFixed(2)}x), besides a process start each time`);
}

async function collections(): Promise<void> {
  const result: Record<string, number> = {};
  for (const query of ['csv', 'xml'] as const) {
    const src = new NvidiaSmiSource(ctx(), { command: SMI, query, processes: false, process_budget: 20, mig: true });
    const signal = new AbortController().signal;
    await src.collect(signal);
    const n = 30;
    const c0 = cpuMs();
    const w0 = Date.now();
    for (let i = 0; i < n; i++) await src.collect(signal);
    result[query] = (cpuMs() - c0) / n;
    out(`one nvidia-smi collection (${query}): ${result[query]!.toFixed(2)} ms of HomeStation CPU, ${((Date.now() - w0) / n).toFixed(0)} ms wall with the fake (a Node start-up)`);
  }
  out(`xml/csv per collection = ${(result.xml! / result.csv!).toFixed(2)}x; at the default 15 s interval the csv collection is ${((result.csv! / 15_000) * 100).toFixed(4)}% of one core`);
}

async function main(): Promise<void> {
  await parsers();
  const ref = await stream();
  await processPerReading(ref);
  await collections();
}

main().catch((err: Error) => {
  process.stderr.write(`bench:gpu: ${err.stack ?? err.message}\n`);
  process.exitCode = 1;
});
