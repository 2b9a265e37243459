/**
 * npm run bench:collector — what the collector costs on a small host.
 *
 * 1. RSS of `homestation run` (default config) without and with tracing enabled:
 *    what loading the OpenTelemetry SDK only on demand saves.
 * 2. Scrape formatting time for 20 instances x 5 sets, against the reference of a
 *    plain prom-client registry holding the same series as static gauges.
 * 3. One restic collection through HomeStation against the reference of the bare
 *    `restic snapshots --json --no-lock` it runs (skipped when restic is missing).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Gauge, Registry } from 'prom-client';
import { parseConfig } from '../collector/config/load.js';
import { Host } from '../collector/host.js';
import { silentLogger } from '../collector/logging.js';
import { EXPORTERS } from '../collector/registry.js';
import { spawnHomestation } from './launch.js';

const out = (line: string) => process.stdout.write(`${line}\n`);

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] as number;
}

async function rssOfRun(env: Record<string, string>): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'hs-bench-'));
  const cfg = join(dir, 'c.yaml');
  // The default config's exporters, on a free port.
  writeFileSync(cfg, 'server: { host: 127.0.0.1, port: 0 }\nexporters:\n  backup:\n    - name: d\n      files: { sets: [{ name: s, glob: "/var/backups/*" }] }\n');
  const child = spawnHomestation(['run', '--config', cfg], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    child.stderr?.on('data', (c: Buffer) => {
      if (c.toString().includes('HomeStation listening')) resolve();
    });
    child.once('exit', () => reject(new Error('exited early')));
  });
  await new Promise((r) => setTimeout(r, 3000));
  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  rmSync(dir, { recursive: true, force: true });
  return kb / 1024;
}

async function scrapeBench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'hs-bench-'));
  const instances: string[] = [];
  for (let i = 0; i < 20; i++) {
    const sets: string[] = [];
    for (let s = 0; s < 5; s++) {
      mkdirSync(join(dir, `i${i}`, `s${s}`), { recursive: true });
      writeFileSync(join(dir, `i${i}`, `s${s}`, 'dump.sql'), 'x');
      sets.push(`{ name: s${s}, glob: "${dir}/i${i}/s${s}/*" }`);
    }
    instances.push(`    - name: i${i}\n      files: { sets: [${sets.join(', ')}] }`);
  }
  const config = parseConfig(`exporters:\n  backup:\n${instances.join('\n')}\n`, 'bench.yaml', EXPORTERS, { env: {} });
  const host = new Host(config, EXPORTERS, { log: silentLogger(), processMetrics: false });
  for (const r of host.runners) await r.collectOnce();
  const text = await host.exposition.text();
  const series = text.split('\n').filter((l) => l && !l.startsWith('#'));

  // Reference: the same series as static prom-client gauges.
  const ref = new Registry();
  const gauges = new Map<string, Gauge>();
  for (const line of series) {
    const m = /^([a-z_]+)\{(.*)\} (\S+)$/.exec(line);
    if (!m) continue;
    const [, name, labelText, value] = m as unknown as [string, string, string, string];
    const labels = Object.fromEntries([...labelText.matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]])) as Record<string, string>;
    let g = gauges.get(name);
    if (!g) {
      g = new Gauge({ name, help: name, labelNames: Object.keys(labels), registers: [ref] });
      gauges.set(name, g);
    }
    g.set(labels, Number(value));
  }

  const time = async (f: () => Promise<string>, n: number) => {
    const samples: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await f();
      samples.push(performance.now() - t0);
    }
    return samples.sort((a, b) => a - b);
  };
  await time(() => host.exposition.text(), 200);
  await time(() => ref.metrics(), 200);
  const ours = await time(() => host.exposition.text(), 2000);
  const theirs = await time(() => ref.metrics(), 2000);
  out(`scrape: ${series.length} series, ${text.length} bytes`);
  out(`  homestation  p50 ${pct(ours, 0.5).toFixed(3)} ms  p99 ${pct(ours, 0.99).toFixed(3)} ms`);
  out(`  reference (static prom-client gauges)  p50 ${pct(theirs, 0.5).toFixed(3)} ms  p99 ${pct(theirs, 0.99).toFixed(3)} ms`);
  out(`  ratio p50 ${(pct(ours, 0.5) / pct(theirs, 0.5)).toFixed(2)}x`);
  await host.stop();
  rmSync(dir, { recursive: true, force: true });
}

async function resticBench(): Promise<void> {
  try {
    execFileSync('sh', ['-c', 'command -v restic'], { stdio: 'ignore' });
  } catch {
    out('restic: not installed, skipped (apt-get install restic)');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'hs-bench-'));
  const repo = join(dir, 'repo');
  const pw = join(dir, 'pw');
  writeFileSync(pw, 'pw\n');
  const env = { ...process.env, RESTIC_PASSWORD_FILE: pw, RESTIC_REPOSITORY: repo };
  execFileSync('restic', ['init', '-q'], { env });
  for (let i = 0; i < 20; i++) execFileSync('restic', ['backup', '-q', '--host', `h${i % 4}`, '--stdin', '--stdin-filename', `f${i}`], { env, input: `data ${i}` });
  const config = parseConfig(
    `exporters:\n  backup:\n    - name: r\n      restic: { repository: "${repo}", password_file: "${pw}" }\n`,
    'bench.yaml',
    EXPORTERS,
    { env: {} },
  );
  const host = new Host(config, EXPORTERS, { log: silentLogger(), processMetrics: false });
  const runner = host.runners[0]!;
  const n = 15;
  const ours: number[] = [];
  const raw: number[] = [];
  for (let i = 0; i < n; i++) {
    let t0 = performance.now();
    execFileSync('restic', ['snapshots', '--json', '--no-lock'], { env, stdio: ['ignore', 'pipe', 'ignore'] });
    raw.push(performance.now() - t0);
    t0 = performance.now();
    await runner.collectOnce();
    ours.push(performance.now() - t0);
  }
  if (!runner.status().up) throw new Error(`restic collection failed: ${runner.status().lastError?.message}`);
  ours.sort((a, b) => a - b);
  raw.sort((a, b) => a - b);
  out(`restic collection (20 snapshots, ${n} runs):`);
  out(`  homestation  median ${pct(ours, 0.5).toFixed(1)} ms`);
  out(`  reference (bare restic snapshots --json --no-lock)  median ${pct(raw, 0.5).toFixed(1)} ms`);
  out(`  ratio ${(pct(ours, 0.5) / pct(raw, 0.5)).toFixed(2)}x`);
  await host.stop();
  rmSync(dir, { recursive: true, force: true });
}

async function main(): Promise<void> {
  out(`node ${process.versions.node}, ${process.platform}/${process.arch}`);
  const plain = await rssOfRun({});
  const traced = await rssOfRun({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' });
  out(`RSS of homestation run (one files instance), 3 s after start:`);
  out(`  tracing off ${plain.toFixed(1)} MiB   tracing on (reference: SDK loaded) ${traced.toFixed(1)} MiB   ratio ${(plain / traced).toFixed(2)}x`);
  await scrapeBench();
  await resticBench();
}

await main();
