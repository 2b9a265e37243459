/**
 * npm run bench:bluetooth — HomeStation's CPU per advert at 1,000 adverts/s through
 * the Home Assistant path: `homestation run` (its own process, measured from
 * /proc/PID/stat) with a bluetooth instance on the FAKE Home Assistant of test/fakes,
 * which sends the adverts as HA does (one event per advert, coalesced into one frame
 * per send once the client asked for it): 100 devices, 3 proxies, track_all on.
 *
 * Reference, in the same run and through the same WebSocket client and fake: the
 * homeassistant exporter fed 1,000 state_changed events/s of 100 sensors. Both are
 * net of the same process idle over the same window.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeHa } from '../test/fakes/home-assistant.js';
import { freePort } from '../test/helpers/podman.js';
import { spawnHomestation } from './launch.js';

const TOKEN = 'bench-admin-token';
const RATE = 1000;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const ROUNDS = 3;
const SETTLE_MS = 3000;
const out = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const TICK = 100; // USER_HZ: /proc/PID/stat counts CPU time in 1/100 s on Linux

/** utime + stime of a process, in ms. */
function cpuOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICK;
}
const rssOf = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;

async function daemon(dir: string, exporters: string): Promise<{ child: ChildProcess; port: number }> {
  const port = await freePort();
  const cfg = join(dir, `c-${port}.yaml`);
  writeFileSync(cfg, `server: { host: 127.0.0.1, port: ${port} }\nlog: { level: warn }\nexporters:\n${exporters}`);
  const child = spawnHomestation(['run', '--config', cfg], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr?.resume();
  for (let i = 0; i < 100; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/metrics`)).ok) return { child, port };
    } catch {
      // not yet listening
    }
    await sleep(100);
  }
  throw new Error('homestation did not start');
}

async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l.startsWith(name))
    .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
}

/** Sends `perTick` events every 10 ms for `seconds`; returns how many were sent. */
async function drive(seconds: number, send: (i: number) => void): Promise<number> {
  let i = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < seconds * 1000) {
    const due = Math.floor(((performance.now() - t0) / 1000) * RATE);
    while (i < due) send(i++);
    await sleep(10);
  }
  return i;
}

interface Run {
  readonly perEventUs: number;
  readonly events: number;
  readonly rssMb: number;
}

/** `counter`: the series that counts what the process received; without one, what was sent counts. */
async function measure(label: string, dir: string, exporters: string, counter: string | undefined, send: (i: number) => void): Promise<Run> {
  const { child, port } = await daemon(dir, exporters);
  const pid = child.pid as number;
  await sleep(3000); // synced
  // The process idle, before any event: its own timers and pings.
  const idle0 = cpuOf(pid);
  await sleep(SECONDS * 1000);
  const idlePerMs = (cpuOf(pid) - idle0) / (SECONDS * 1000);
  await drive(3, send); // JIT warm
  await sleep(2000);
  const perEvent: number[] = [];
  let events = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const seen0 = counter ? await metric(port, counter) : 0;
    const c0 = cpuOf(pid);
    const t0 = performance.now();
    const sent = await drive(SECONDS, send);
    await sleep(SETTLE_MS); // the garbage of the round is collected within it, and charged to it
    const busyMs = cpuOf(pid) - c0;
    const netMs = busyMs - idlePerMs * (performance.now() - t0);
    const seen = counter ? (await metric(port, counter)) - seen0 : sent;
    perEvent.push((netMs * 1000) / seen);
    events += seen;
    out(`  ${label} round ${round + 1}: ${seen} of ${sent} events received; CPU ${busyMs.toFixed(0)} ms over ${SECONDS} s and ${SETTLE_MS / 1000} s after`);
  }
  const rssMb = rssOf(pid);
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  const median = [...perEvent].sort((a, b) => a - b)[Math.floor(perEvent.length / 2)] as number;
  out(
    `${label}: ${median.toFixed(1)} µs of CPU per event (median of ${ROUNDS}, net of idle ${(idlePerMs * 100).toFixed(2)}% of a core), ${((median * RATE) / 10_000).toFixed(1)}% of one core at ${RATE}/s; RSS ${rssMb.toFixed(0)} MB after ${events} events`,
  );
  return { perEventUs: median, events, rssMb };
}

async function main(): Promise<void> {
  out(`node ${process.versions.node}, ${process.platform}/${process.arch}; ${RATE} events/s, an idle window, then ${ROUNDS} rounds of ${SECONDS} s each`);
  const dir = mkdtempSync(join(tmpdir(), 'hs-bench-bt-'));
  writeFileSync(join(dir, 'token'), TOKEN);
  const fake = await startFakeHa({ token: TOKEN });
  const proxies = [0, 1, 2].map((p) => `AC:BC:32:89:0E:${(0xa0 + p).toString(16).toUpperCase()}`);
  for (const [p, source] of proxies.entries()) fake.bluetooth.addScanner({ source, connectable: true, name: `proxy-${p} (${source})`, adapter: `proxy-${p}`, scanner_type: 'remote' });
  const address = (d: number) => `C4:7C:8D:6C:${(d >> 8).toString(16).padStart(2, '0')}:${(d & 0xff).toString(16).padStart(2, '0')}`.toUpperCase();
  try {
    const bt = await measure(
      'bluetooth (HA path)',
      dir,
      `  bluetooth:\n    - name: bench\n      homeassistant: { url: ${fake.url}, token_file: ${join(dir, 'token')} }\n      track_all: true\n`,
      'homestation_bluetooth_scanner_adverts_total',
      (i) => {
        const d = i % 100;
        fake.bluetooth.advertise({
          name: `ATC_${d}`,
          address: address(d),
          rssi: -60 - (i % 30),
          manufacturer_data: {},
          service_data: { '0000181a-0000-1000-8000-00805f9b34fb': `a4c138${(i & 0xffff).toString(16).padStart(4, '0')}00e20b5c0c` },
          service_uuids: ['0000181a-0000-1000-8000-00805f9b34fb'],
          source: proxies[d % 3] as string,
          connectable: false,
          time: Date.now() / 1000,
          tx_power: null,
          raw: null,
        });
      },
    );
    fake.states = Array.from({ length: 100 }, (_, d) => ({ entity_id: `sensor.t${d}`, state: '20', attributes: { unit_of_measurement: '°C', device_class: 'temperature' }, last_changed: new Date().toISOString() }));
    const ha = await measure(
      'reference: homeassistant exporter, state_changed',
      dir,
      `  homeassistant:\n    - name: bench\n      url: ${fake.url}\n      token_file: ${join(dir, 'token')}\n      last_reported_refresh: 0s\n`,
      undefined,
      (i) => fake.setState({ entity_id: `sensor.t${i % 100}`, state: String(20 + (i % 50) / 10), attributes: { unit_of_measurement: '°C', device_class: 'temperature' }, last_changed: new Date().toISOString() }),
    );
    out(`bluetooth / homeassistant per event: ${(bt.perEventUs / ha.perEventUs).toFixed(2)}x`);
  } finally {
    await fake.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
