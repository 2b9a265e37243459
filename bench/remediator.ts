/**
 * npm run bench:remediator — time from the fault to the verified recovery, for
 * restart and redeploy, on podman's Docker API (20 runs each by default; RUNS=n).
 *
 * Each run stops a busybox httpd container, sends the Alertmanager webhook with
 * startsAt = the moment of the fault, and reads the incident's recovery time from
 * the journal (the same figure as homestation_recovery_seconds). Reference: the
 * bare engine doing the same (podman start / a podman rm+run), which is the floor;
 * and the 120 s budget.
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { alertPayload, startTestRemediator } from '../test/helpers/remediator.js';
import { freePort, podman, removeContainers, runWeb, startPodmanService, IMAGE } from '../test/helpers/podman.js';

const RUNS = Number(process.env.RUNS ?? 20);
const out = (line: string) => process.stdout.write(`${line}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const max = (xs: number[]) => Math.max(...xs);

async function waitHttp(url: string): Promise<void> {
  for (;;) {
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(500) })).ok) return;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function main(): Promise<void> {
  try {
    execFileSync('sh', ['-c', 'command -v podman'], { stdio: 'ignore' });
  } catch {
    out('podman is not installed: apt-get install podman runc busybox-static');
    process.exitCode = 1;
    return;
  }
  const engine = await startPodmanService();
  const restartName = `hs-bench-restart-${process.pid}`;
  const redeployName = `hs-bench-redeploy-${process.pid}`;
  const portA = await freePort();
  const portB = await freePort();
  const rem = await startTestRemediator(
    engine.dockerHost,
    `  cooldown: 0s
  rate_limit: { max_actions: 1000, window: 1h }
  services:
    - { name: a, container: ${restartName}, probe: { http: { url: "http://127.0.0.1:${portA}/" } }, stop_timeout: 1s, recovery_deadline: 60s }
    - { name: b, container: ${redeployName}, probe: { http: { url: "http://127.0.0.1:${portB}/" } }, stop_timeout: 1s, recovery_deadline: 60s }
  policies:
    - { match: { alertname: ServiceDown, service: a }, ladder: [{ action: restart }] }
    - { match: { alertname: ServiceDown, service: b }, ladder: [{ action: redeploy }] }
`,
  );
  try {
    const a = await runWeb(restartName, { port: portA });
    const b = await runWeb(redeployName, { port: portB });
    const measure = async (service: string, container: string): Promise<number> => {
      podman(['stop', '-t', '0', container]);
      const startsAt = new Date().toISOString();
      await rem.post(alertPayload([{ labels: { alertname: 'ServiceDown', service }, startsAt }]));
      await rem.engine.idle();
      const incident = rem.journal.incidents(1)[0]!;
      if (incident.state !== 'recovered' || incident.recoverySeconds === null) {
        throw new Error(`run failed: ${JSON.stringify(incident)} ${JSON.stringify(rem.journal.entries(incident.id))}`);
      }
      return incident.recoverySeconds;
    };
    const restart: number[] = [];
    const redeploy: number[] = [];
    const bareStart: number[] = [];
    const bareRecreate: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      restart.push(await measure('a', a.name));
      redeploy.push(await measure('b', b.name));
      // Reference: the engine alone, timed to the same "serves HTTP" point.
      podman(['stop', '-t', '0', a.name]);
      let t0 = performance.now();
      podman(['start', a.name]);
      await waitHttp(a.url);
      bareStart.push((performance.now() - t0) / 1000);
      const ref = `hs-bench-ref-${process.pid}`;
      const refPort = await freePort();
      t0 = performance.now();
      podman(['run', '-d', '--name', ref, '-p', `127.0.0.1:${refPort}:80`, IMAGE, 'sh', '-c', 'mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 80 -h /www']);
      await waitHttp(`http://127.0.0.1:${refPort}/`);
      bareRecreate.push((performance.now() - t0) / 1000);
      removeContainers([ref]);
    }
    out(`podman ${podman(['--version']).replace('podman version ', '')}, ${RUNS} runs each, fault (container stopped) -> verified recovery (probe passed twice):`);
    out(`  restart   median ${median(restart).toFixed(2)} s  max ${max(restart).toFixed(2)} s`);
    out(`            reference: podman start until HTTP answers, median ${median(bareStart).toFixed(2)} s; ratio ${(median(restart) / median(bareStart)).toFixed(1)}x`);
    out(`  redeploy  median ${median(redeploy).toFixed(2)} s  max ${max(redeploy).toFixed(2)} s`);
    out(`            reference: podman run of a new container until HTTP answers, median ${median(bareRecreate).toFixed(2)} s; ratio ${(median(redeploy) / median(bareRecreate)).toFixed(1)}x`);
    out(`  budget 120 s: worst case uses ${((max([...restart, ...redeploy]) / 120) * 100).toFixed(1)}% (detection time comes on top: see the rules)`);
  } finally {
    await rem.stop();
    removeContainers([restartName, redeployName]);
    await engine.stop();
    rmSync(rem.dir, { recursive: true, force: true });
  }
}

await main();
