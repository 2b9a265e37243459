/**
 * npm run bench:mttr — fault to verified recovery at the SHIPPED timings, with the
 * real Prometheus, Alertmanager, blackbox_exporter, `homestation remediator` and
 * podman (test/helpers/mttr.ts), per fault and per path: container events, the
 * liveness watch, and the alert path alone (fast paths off). Baseline in the same
 * run: the engine's own restart policy (--restart=always), which sees crashes only.
 */
import { spawnSync } from 'node:child_process';
import { FAULTS, serviceOf, startStack, type Fault } from '../test/helpers/mttr.js';
import { IMAGE, freePort, podman, removeContainers, startPodmanService } from '../test/helpers/podman.js';

const RUNS = Number(process.env.MTTR_RUNS ?? 5);
const ALERT_RUNS = Number(process.env.MTTR_ALERT_RUNS ?? 2);
type Row = { fault: string; path: string; seconds: number[] };
const rows = new Map<string, Row>();
const add = (fault: string, path: string, seconds: number) => {
  const k = `${fault}\u0000${path}`;
  const r = rows.get(k) ?? { fault, path, seconds: [] };
  r.seconds.push(seconds);
  rows.set(k, r);
};
const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(xs.length * p) - 1)] as number;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function measure(run: number, fastPaths: boolean, faults: readonly Fault[]): Promise<void> {
  const s = await startStack(run, { fastPaths });
  try {
    await sleep(5000);
    const injected = new Map<Fault, number>();
    for (const f of faults) injected.set(f, s.inject(f));
    const deadline = Date.now() + 240_000;
    const pending = new Set(faults);
    while (pending.size && Date.now() < deadline) {
      for (const i of await s.incidents()) {
        const f = FAULTS.find((x) => serviceOf(x) === i.service);
        if (!f || !pending.has(f) || i.state !== 'recovered' || !i.endedAt) continue;
        pending.delete(f);
        add(f, fastPaths ? i.since : 'alert', (i.endedAt - (injected.get(f) as number)) / 1000);
      }
      await sleep(250);
    }
    for (const f of pending) add(f, fastPaths ? 'not recovered' : 'alert: not recovered', Number.NaN);
  } finally {
    await s.stop();
  }
}

/** The engine alone: --restart=always brings a killed container back; a frozen one it never sees. */
async function baseline(): Promise<void> {
  const engine = await startPodmanService();
  const name = `hs-bench-policy-${process.pid}`;
  try {
    const port = await freePort();
    podman(['run', '-d', '--name', name, '--restart=always', '-p', `127.0.0.1:${port}:80`, IMAGE, 'sh', '-c', 'mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 80 -h /www']);
    const up = async () => (await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(500) }).catch(() => undefined))?.status === 200;
    while (!(await up())) await sleep(100);
    for (let i = 0; i < RUNS; i++) {
      // Not brought back last time: started by hand, so that each run measures one kill.
      if (!(await up())) {
        podman(['start', name]);
        while (!(await up())) await sleep(100);
      }
      const t0 = Date.now();
      podman(['kill', name]);
      await sleep(200);
      let ok = false;
      while (Date.now() - t0 < 30_000 && !(ok = await up())) await sleep(100);
      add('killed', 'restart policy (baseline)', ok ? (Date.now() - t0) / 1000 : Number.NaN);
    }
    if (!(await up())) {
      podman(['start', name]);
      while (!(await up())) await sleep(100);
    }
    podman(['pause', name]);
    const t0 = Date.now();
    while (Date.now() - t0 < 30_000 && !(await up())) await sleep(500);
    add('frozen', 'restart policy (baseline)', (await up()) ? (Date.now() - t0) / 1000 : Number.NaN);
  } finally {
    removeContainers([name]);
    await engine.stop();
  }
}

async function main(): Promise<void> {
  if (spawnSync('sh', ['-c', 'command -v prometheus && command -v podman'], { stdio: 'ignore' }).status !== 0) {
    throw new Error('bench:mttr needs prometheus, alertmanager, blackbox_exporter and podman: bash scripts/install-system-deps.sh');
  }
  await baseline();
  for (let run = 0; run < RUNS; run++) await measure(run, true, ['killed', 'frozen', 'http_404', 'removed']);
  for (let run = 0; run < ALERT_RUNS; run++) await measure(100 + run, false, ['killed', 'frozen']);
  const lines = ['| fault | path | runs | p50 | p95 | max |', '|---|---|---|---|---|---|'];
  for (const r of [...rows.values()].sort((a, b) => a.fault.localeCompare(b.fault) || a.path.localeCompare(b.path))) {
    const ok = r.seconds.filter((x) => Number.isFinite(x));
    const fmt = (x: number | undefined) => (x === undefined ? 'never' : `${x.toFixed(1)} s`);
    lines.push(`| ${r.fault} | ${r.path} | ${r.seconds.length}${ok.length < r.seconds.length ? ` (${r.seconds.length - ok.length} never)` : ''} | ${fmt(ok.length ? q(ok, 0.5) : undefined)} | ${fmt(ok.length ? q(ok, 0.95) : undefined)} | ${fmt(ok.length ? Math.max(...ok) : undefined)} |`);
  }
  const events = rows.get('killed\u0000container_event')?.seconds.filter(Number.isFinite) ?? [];
  const policy = rows.get('killed\u0000restart policy (baseline)')?.seconds.filter(Number.isFinite) ?? [];
  process.stdout.write(`Fault to verified recovery at the shipped timings (${RUNS} runs; alert path ${ALERT_RUNS} runs)\n${lines.join('\n')}\n`);
  if (events.length && policy.length) process.stdout.write(`killed, p50: remediator (events) / restart policy = ${(q(events, 0.5) / q(policy, 0.5)).toFixed(2)}x\n`);
}

main().catch((err: Error) => {
  process.stderr.write(`bench:mttr: ${err.message}\n`);
  process.exitCode = 1;
});
