/**
 * npm run bench:migrate — the time to migrate a service with its volume between two
 * independent podman engines on this machine (own storage roots and sockets), at
 * 100 MB and 1 GB of volume data (SIZES=100,1000 in MB; RUNS=5 each, the median
 * reported), through the real remediator (`POST /api/v1/remediate`, action migrate).
 *
 * References, in the same run after each migrate: a plain `tar -cf - | tar -xf -` of
 * the same volume directory into the other storage root (the floor of any copy,
 * with shell access to both), and the same two Engine API endpoints the migrate
 * uses piped by curl (`GET .../archive | PUT .../archive`: the floor through the
 * API). Printed: migrate wall time (request to verified recovery), the state copy's
 * time and throughput, the references', and the ratios.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IMAGE, freePort, podman, podmanAt, removeRoot, startPodmanService } from '../test/helpers/podman.js';
import { startTestRemediator, TOKEN } from '../test/helpers/remediator.js';

const RUNS = Number(process.env.RUNS ?? 5);
const SIZES = (process.env.SIZES ?? '100,1000').split(',').map(Number);
const FILE_MB = 10;
const out = (line: string) => process.stdout.write(`${line}\n`);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const fmt = (x: number, d = 2) => x.toFixed(d);

async function main(): Promise<void> {
  try {
    execFileSync('sh', ['-c', 'command -v podman && command -v tar && command -v curl'], { stdio: 'ignore' });
  } catch {
    out('podman or curl is not installed: apt-get install podman runc busybox-static curl');
    process.exitCode = 1;
    return;
  }
  const rootB = mkdtempSync(join(tmpdir(), 'hs-bench-hostb-'));
  const a = await startPodmanService();
  const b = await startPodmanService({ root: rootB });
  const name = `hs-bench-mig-${process.pid}`;
  const volume = `${name}-data`;
  const port = await freePort();
  const rem = await startTestRemediator(
    a.dockerHost,
    `  cooldown: 0s
  rate_limit: { max_actions: 1000, window: 1h }
  hosts:
    - { name: b, host: "${b.dockerHost}" }
  services:
    - name: m
      container: ${name}
      hosts: [local, b]
      state: { volumes: [${volume}] }
      probe: { http: { url: "http://{host}:${port}/ok.txt" }, timeout: 2s }
      recovery_deadline: 60s
      stop_timeout: 2s
`,
  );
  // A service that exits on SIGTERM, as a real one does (a bare httpd as PID 1 ignores it and waits out the grace period).
  const run = () => podman(['run', '-d', '--name', name, '-v', `${volume}:/data`, '-p', `127.0.0.1:${port}:80`, IMAGE, 'sh', '-c', 'echo ok > /data/ok.txt; httpd -f -p 80 -h /data & trap "kill $!; exit 0" TERM; wait']);
  const rows: string[] = [];
  try {
    out(`bench:migrate — podman ${podman(['version', '--format', '{{.Client.Version}}'])}, ${RUNS} runs per size, host A = default storage, host B = ${rootB}`);
    for (const mb of SIZES) {
      try {
        podman(['rm', '-f', '-t', '0', name]);
        podman(['volume', 'rm', '-f', volume]);
      } catch {
        // First size.
      }
      run();
      podman(['exec', name, 'sh', '-c', `i=0; while [ $i -lt ${Math.ceil(mb / FILE_MB)} ]; do busybox head -c ${FILE_MB * 1_000_000} /dev/urandom > /data/f$i; i=$((i+1)); done`]);
      const source = podman(['volume', 'inspect', '--format', '{{.Mountpoint}}', volume]);
      const walls: number[] = [];
      const copies: number[] = [];
      const tars: number[] = [];
      const curls: number[] = [];
      let bytes = 0;
      let breakdown = '';
      for (let i = 0; i < RUNS; i++) {
        const t0 = performance.now();
        const res = await fetch(`${rem.url}/api/v1/remediate`, {
          method: 'POST',
          headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify({ service: 'm', action: 'migrate', to: 'b' }),
        });
        const { incident } = (await res.json()) as { incident: { id: number } };
        while (rem.journal.incident(incident.id)?.state === 'acting') await new Promise((r) => setTimeout(r, 20));
        const wall = (performance.now() - t0) / 1000;
        const state = rem.journal.incident(incident.id)?.state;
        if (state !== 'recovered') throw new Error(`migrate ${i + 1} at ${mb} MB ended ${state}: ${JSON.stringify(rem.journal.entries(incident.id))}`);
        const entries = rem.journal.entries(incident.id);
        const started = entries.find((e) => e.what.startsWith('migrate: copy volume') && e.result === 'started');
        const done = entries.find((e) => e.what.startsWith('migrate: copy volume') && e.result === 'ok');
        bytes = rem.journal.migrationsOf(incident.id)[0]?.progress.stateBytes ?? 0;
        walls.push(wall);
        // Where the time went: from each step's journal entry to the next one's.
        const marks = entries.filter((e) => e.what.startsWith('migrate') || e.kind === 'outcome');
        breakdown = marks
          .slice(0, -1)
          .map((e, k) => `${e.what.replace('migrate: ', '')}${e.result === 'started' ? '' : ` ${e.result}`} ${fmt(((marks[k + 1] as { at: number }).at - e.at) / 1000)}`)
          .join(', ');
        copies.push(((done?.at ?? 0) - (started?.at ?? 0)) / 1000);

        // A stopped container on A with the volume, for the curl reference (the migrated one was removed).
        podman(['create', '--name', `${name}-hs-source`, '-v', `${volume}:/data`, IMAGE, 'true']);

        // The reference: the same directory, tar | tar into the other storage root.
        const dest = join(rootB, 'tar-reference');
        rmSync(dest, { recursive: true, force: true });
        mkdirSync(dest);
        const t1 = performance.now();
        execFileSync('sh', ['-c', `tar -C '${source}' -cf - . | tar -C '${dest}' -xf -`]);
        tars.push((performance.now() - t1) / 1000);
        rmSync(dest, { recursive: true, force: true });

        // The API's floor: the same endpoints, piped by curl into a scratch container on B.
        const ref = `${name}-ref`;
        // The image was loaded on B by ID (untagged), as a migrate does.
        podmanAt(rootB, ['create', '--name', ref, '-v', `${ref}:/data`, podmanAt(rootB, ['inspect', '--format', '{{.Image}}', name]), 'true']);
        const t2 = performance.now();
        execFileSync('sh', [
          '-c',
          `curl -sf --unix-socket '${a.socket}' 'http://d/v1.41/containers/${name}-hs-source/archive?path=/data' | curl -sf --unix-socket '${b.socket}' -X PUT -H 'content-type: application/x-tar' -T - 'http://d/v1.41/containers/${ref}/archive?path=/data'`,
        ]);
        curls.push((performance.now() - t2) / 1000);
        podmanAt(rootB, ['rm', '-f', ref]);
        podmanAt(rootB, ['volume', 'rm', '-f', ref]);
        podman(['rm', '-f', `${name}-hs-source`]);

        // Back to the start: the service on A again (its volume is still there), nothing on B.
        podmanAt(rootB, ['rm', '-f', '-t', '0', name]);
        podmanAt(rootB, ['volume', 'rm', '-f', volume]);
        podmanAt(rootB, ['rmi', '-af']);
        rem.engine.hosts.place('m', 'local');
        run();
        out(`  ${mb} MB run ${i + 1}: migrate ${fmt(wall)} s (copy ${fmt(copies.at(-1) as number)} s), tar|tar ${fmt(tars.at(-1) as number)} s, curl GET|PUT ${fmt(curls.at(-1) as number)} s`);
      }
      out(`  ${mb} MB, last run, seconds from each journaled step to the next: ${breakdown}`);
      const copy = median(copies);
      const tar = median(tars);
      const curl = median(curls);
      const rate = (s: number) => bytes / 1e6 / s;
      rows.push(
        `| ${mb} MB (${(bytes / 1e6).toFixed(0)} MB streamed) | ${fmt(median(walls))} s (${fmt(Math.min(...walls))}–${fmt(Math.max(...walls))}) | ${fmt(copy)} s, ${fmt(rate(copy), 0)} MB/s | ${fmt(tar)} s, ${fmt(rate(tar), 0)} MB/s | ${fmt(copy / tar)}x | ${fmt(curl)} s, ${fmt(rate(curl), 0)} MB/s | ${fmt(copy / curl)}x |`,
      );
    }
    out('');
    out('| volume data | migrate, request to verified recovery (median, min–max) | state copy (median) | tar \\| tar between the storage roots | copy / tar | curl GET \\| PUT, the same API endpoints | copy / curl |');
    out('|---|---|---|---|---|---|---|');
    for (const r of rows) out(r);
  } finally {
    await rem.stop();
    try {
      podman(['rm', '-f', '-t', '0', name]);
      podman(['volume', 'rm', '-f', volume]);
    } catch {
      // Already gone.
    }
    await a.stop();
    await b.stop();
    removeRoot(rootB);
  }
}

void main().catch((err: Error) => {
  out(`bench:migrate failed: ${err.message}`);
  process.exitCode = 1;
});
