/**
 * npm run bench:mttr — fault to verified recovery at the SHIPPED timings, with the
 * real Prometheus, Alertmanager, blackbox_exporter, `homestation remediator` and
 * podman (test/helpers/mttr.ts), per fault and per path: container events, the
 * liveness watch, and the alert path alone (fast paths off); a frozen dependency
 * (its dependent comes back with it) and the remediator SIGKILLed mid-action. Two
 * times per fault: to serving again (the first 200 after the fault, polled every
 * 50 ms) and to the remediator's verified recovery (its probe passing twice).
 * Baseline in the same run: the engine's own restart policy (--restart=always) on
 * the same crash (the process SIGKILLed from outside); no restart policy sees a hang.
 */
import { spawnSync } from 'node:child_process';
import { FAULTS, serviceOf, startStack, type Fault } from '../test/helpers/mttr.js';
import { IMAGE, freePort, podman, removeContainers, startPodmanService } from '../test/helpers/podman.js';

const RUNS = Number(process.env.MTTR_RUNS ?? 5);
const ALERT_RUNS = Number(process.env.MTTR_ALERT_RUNS ?? 5);
type Row = { fault: string; path: string; serving: number[]; verified: number[] };
const rows = new Map<string, Row>();
const add = (fault: string, path: string, serving: number, verified: number) => {
  const k = `${fault}\u0000${path}`;
  const r = rows.get(k) ?? { fault, path, serving: [], verified: [] };
  r.serving.push(serving);
  r.verified.push(verified);
  rows.set(k, r);
};
const q = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(xs.length * p) - 1)] as number;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const answers = async (url: string) => (await fetch(url, { signal: AbortSignal.timeout(300) }).catch(() => undefined))?.status === 200;

/** Resolves with the seconds from `t0` to the first 200 after the service was seen failing (NaN past the deadline). */
async function servingAgain(url: string, t0: number, deadlineMs: number): Promise<number> {
  let down = false;
  while (Date.now() - t0 < deadlineMs) {
    const ok = await answers(url);
    if (!ok) down = true;
    else if (down) return (Date.now() - t0) / 1000;
    await sleep(50);
  }
  return Number.NaN;
}

async function measure(run: number, fastPaths: boolean, faults: readonly Fault[]): Promise<void> {
  const s = await startStack(run, { fastPaths });
  try {
    await sleep(5000);
    const injected = new Map<Fault, number>();
    const serving = new Map<Fault, Promise<number>>();
    for (const f of faults) {
      injected.set(f, s.inject(f));
      serving.set(f, servingAgain(s.urls[f], injected.get(f) as number, 240_000));
    }
    const deadline = Date.now() + 240_000;
    const pending = new Set(faults);
    while (pending.size && Date.now() < deadline) {
      for (const i of await s.incidents()) {
        const f = FAULTS.find((x) => serviceOf(x) === i.service);
        if (!f || !pending.has(f) || i.state !== 'recovered' || !i.endedAt) continue;
        pending.delete(f);
        add(f, fastPaths ? i.since : 'alert', await (serving.get(f) as Promise<number>), (i.endedAt - (injected.get(f) as number)) / 1000);
      }
      await sleep(250);
    }
    for (const f of pending) add(f, fastPaths ? 'not recovered' : 'alert: not recovered', Number.NaN, Number.NaN);
    if (!fastPaths) return;
    // The remediator SIGKILLed in the middle of a restart (a 10 s grace period), then started again.
    const t0 = s.inject('interrupted');
    const back = servingAgain(s.urls.interrupted, t0, 150_000);
    let acting: number | undefined;
    while (acting === undefined && Date.now() - t0 < 60_000) {
      acting = (await s.incidents()).find((i) => i.service === 'interrupted' && i.state === 'acting' && i.steps.some((e) => e.kind === 'action'))?.id;
      if (acting === undefined) await sleep(100);
    }
    if (acting === undefined) return add('remediator killed mid-action', 'not acted on', Number.NaN, Number.NaN);
    await s.restartRemediator();
    let done: { endedAt: number | null; state: string; since: string } | undefined;
    while (!done && Date.now() - t0 < 150_000) {
      done = (await s.incidents()).find((i) => i.id === acting && i.state !== 'acting');
      if (!done) await sleep(250);
    }
    const ok = done?.state === 'recovered' && done.endedAt !== null;
    add('remediator killed mid-action', `${done?.since ?? '?'}, then resumed`, await back, ok ? ((done!.endedAt as number) - t0) / 1000 : Number.NaN);
  } finally {
    await s.stop();
  }
}

/** The engine alone: --restart=always brings a crashed container back; a frozen one it never sees. */
async function baseline(): Promise<void> {
  const engine = await startPodmanService();
  const name = `hs-bench-policy-${process.pid}`;
  try {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}/`;
    podman(['run', '-d', '--name', name, '--restart=always', '-p', `127.0.0.1:${port}:80`, IMAGE, 'sh', '-c', 'mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 80 -h /www']);
    while (!(await answers(url))) await sleep(100);
    for (let i = 0; i < RUNS; i++) {
      // The same crash as the stack's `killed`: the process SIGKILLed from outside.
      const t0 = Date.now();
      process.kill(Number(podman(['inspect', '--format', '{{.State.Pid}}', name])), 'SIGKILL');
      const seconds = await servingAgain(url, t0, 30_000);
      add('killed', 'restart policy (baseline)', seconds, Number.NaN);
      if (!Number.isFinite(seconds)) podman(['start', name]);
      while (!(await answers(url))) await sleep(100);
      await sleep(1000);
    }
    podman(['pause', name]);
    const t0 = Date.now();
    add('frozen', 'restart policy (baseline)', await servingAgain(url, t0, 30_000), Number.NaN);
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
  for (let run = 0; run < RUNS; run++) await measure(run, true, ['killed', 'frozen', 'http_404', 'removed', 'dependency']);
  for (let run = 0; run < ALERT_RUNS; run++) await measure(100 + run, false, ['killed', 'frozen']);
  const fmt = (x: number | undefined) => (x === undefined ? 'never' : `${x.toFixed(1)} s`);
  const stats = (xs: number[]) => {
    const ok = xs.filter((x) => Number.isFinite(x));
    return ok.length ? [fmt(q(ok, 0.5)), fmt(q(ok, 0.95)), fmt(Math.max(...ok))] : ['never', 'never', 'never'];
  };
  const lines = ['| fault | path | runs | serving p50 | p95 | max | verified p50 | p95 | max |', '|---|---|---|---|---|---|---|---|---|'];
  for (const r of [...rows.values()].sort((a, b) => a.fault.localeCompare(b.fault) || a.path.localeCompare(b.path))) {
    const never = r.serving.filter((x) => !Number.isFinite(x)).length;
    const verified = r.path.includes('baseline') ? ['—', '—', '—'] : stats(r.verified);
    lines.push(`| ${r.fault} | ${r.path} | ${r.serving.length}${never ? ` (${never} never)` : ''} | ${stats(r.serving).join(' | ')} | ${verified.join(' | ')} |`);
  }
  process.stdout.write(`Fault to serving again and to verified recovery at the shipped timings (${RUNS} runs; alert path ${ALERT_RUNS} runs)\n${lines.join('\n')}\n`);
  const events = rows.get('killed\u0000container_event')?.serving.filter(Number.isFinite) ?? [];
  const policy = rows.get('killed\u0000restart policy (baseline)')?.serving.filter(Number.isFinite) ?? [];
  if (events.length && policy.length) {
    process.stdout.write(`killed, to serving p50: remediator (events) ${q(events, 0.5).toFixed(2)} s / restart policy ${q(policy, 0.5).toFixed(2)} s = ${(q(events, 0.5) / q(policy, 0.5)).toFixed(1)}x\n`);
  }
}

main().catch((err: Error) => {
  process.stderr.write(`bench:mttr: ${err.message}\n`);
  process.exitCode = 1;
});
