/**
 * npm run bench:mqtt — the MQTT exporter under a steady load, against the reference
 * of mqtt2prometheus (Debian's prometheus-mqtt-exporter, in Go) in the same run with
 * an equivalent config: 200 zigbee2mqtt-style devices x 4 fields, 50,000 messages at
 * 5,000/s, QoS 1, through one Mosquitto. Figures: CPU microseconds per message
 * (user + system, from /proc), peak RSS, messages lost (published minus counted by
 * the exporter), and device series exposed. N=... and RATE=... override the load.
 *
 * Peak RSS is given twice: the process's whole life (VmHWM) and the flood's alone (the
 * kernel's peak reset through /proc/PID/clear_refs once both are subscribed), so a
 * peak set while starting is not taken for one the load set.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync } from 'mqtt';
import { startMosquitto } from '../test/helpers/mosquitto.js';
import { freePort } from '../test/helpers/podman.js';
import { spawnHomestation } from './launch.js';

const N = Number(process.env.N ?? 50_000);
const RATE = Number(process.env.RATE ?? 5_000);
const DEVICES = 200;
const out = (line: string) => process.stdout.write(`${line}\n`);
const TICKS = 100; // USER_HZ on Linux

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / TICKS;
}
function peakRssMiB(pid: number): number {
  return Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;
}
/** Resets the kernel's peak RSS of `pid` to its current RSS (Linux >= 4.0; root or the owner). */
function resetPeak(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
}
async function metrics(url: string): Promise<string> {
  return (await fetch(url)).text();
}
async function waitHttp(url: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer`);
}
const sumOf = (text: string, re: RegExp) =>
  text
    .split('\n')
    .filter((l) => re.test(l))
    .reduce((a, l) => a + Number(l.split(' ').pop()), 0);
const countOf = (text: string, re: RegExp) => text.split('\n').filter((l) => re.test(l)).length;

async function main(): Promise<void> {
  const broker = await startMosquitto();
  const dir = mkdtempSync(join(tmpdir(), 'hs-bench-mqtt-'));
  const hsPort = await freePort();
  const refPort = await freePort();
  writeFileSync(
    join(dir, 'hs.yaml'),
    `server: { host: 127.0.0.1, port: ${hsPort} }\nlog: { level: warn }\nexporters:\n  mqtt:\n    - name: bench\n      url: ${broker.url}\n      sys: false\n      tasmota: { enabled: false }\n`,
  );
  // mqtt2prometheus: the same topics and the same four fields, QoS 1.
  writeFileSync(
    join(dir, 'ref.yaml'),
    `mqtt:\n  server: tcp://127.0.0.1:${broker.port}\n  topic_path: zigbee2mqtt/+\n  device_id_regex: "zigbee2mqtt/(?P<deviceid>.*)"\n  qos: 1\ncache:\n  timeout: 60m\nmetrics:\n` +
      ['battery', 'humidity', 'linkquality', 'temperature'].map((f) => `  - prom_name: ${f}\n    mqtt_name: ${f}\n    help: ${f}\n    type: gauge\n`).join(''),
  );
  const procs: ChildProcess[] = [
    spawnHomestation(['run', '--config', join(dir, 'hs.yaml')], { stdio: 'ignore' }),
    spawn('prometheus-mqtt-exporter', ['-config', join(dir, 'ref.yaml'), '-listen-address', '127.0.0.1', '-listen-port', String(refPort), '-log-level', 'error'], { stdio: 'ignore' }),
  ];
  try {
    const hsUrl = `http://127.0.0.1:${hsPort}/metrics`;
    const refUrl = `http://127.0.0.1:${refPort}/metrics`;
    await waitHttp(hsUrl);
    await waitHttp(refUrl);
    await new Promise((r) => setTimeout(r, 2000)); // both subscribed
    const hsBefore = sumOf(await metrics(hsUrl), /^homestation_mqtt_messages_total\{/);
    const cpu0 = procs.map((p) => cpuSeconds(p.pid!));
    const startPeaks = procs.map((p) => peakRssMiB(p.pid!));
    for (const p of procs) resetPeak(p.pid!);

    const pub = await connectAsync(broker.url, { reconnectPeriod: 0 });
    const t0 = performance.now();
    const perTick = RATE / 100; // every 10 ms
    let sent = 0;
    // A window of unacknowledged QoS 1 messages keeps the rate steady without flooding.
    let inflight = 0;
    const acked = () => {
      inflight -= 1;
    };
    while (sent < N) {
      for (let i = 0; i < perTick && sent < N; i++, sent++) {
        const d = sent % DEVICES;
        const payload = JSON.stringify({ battery: 50 + (sent % 50), humidity: 40 + (sent % 20), linkquality: sent % 255, temperature: 20 + (sent % 10) / 10 });
        inflight += 1;
        pub.publish(`zigbee2mqtt/dev-${d}`, payload, { qos: 1 }, acked);
      }
      while (inflight > 2000) await new Promise((r) => setTimeout(r, 1));
      const due = t0 + (sent / RATE) * 1000;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
    while (inflight > 0) await new Promise((r) => setTimeout(r, 5));
    const seconds = (performance.now() - t0) / 1000;
    await pub.endAsync();
    await new Promise((r) => setTimeout(r, 3000)); // drain
    const cpu1 = procs.map((p) => cpuSeconds(p.pid!));
    const hsText = await metrics(hsUrl);
    const refText = await metrics(refUrl);
    const hsCounted = sumOf(hsText, /^homestation_mqtt_messages_total\{/) - hsBefore;
    const refReceived = sumOf(refText, /^received_messages\{/);
    const rows = [
      {
        name: 'homestation',
        cpu: cpu1[0]! - cpu0[0]!,
        rss: peakRssMiB(procs[0]!.pid!),
        startRss: startPeaks[0]!,
        lost: String(N - hsCounted),
        series: countOf(hsText, /^homestation_mqtt_device_(battery_ratio|humidity_ratio|link_quality|temperature_celsius)\{/),
      },
      {
        name: 'mqtt2prometheus (reference)',
        cpu: cpu1[1]! - cpu0[1]!,
        rss: peakRssMiB(procs[1]!.pid!),
        startRss: startPeaks[1]!,
        lost: refReceived > 0 ? String(N - refReceived) : 'n/a (no counter)',
        series: countOf(refText, /^(battery|humidity|linkquality|temperature)\{/),
      },
    ];
    out(`${N} messages from ${DEVICES} devices x 4 fields at ${(N / seconds).toFixed(0)}/s (target ${RATE}/s), QoS 1, one Mosquitto`);
    for (const r of rows) {
      const life = Math.max(r.rss, r.startRss);
      out(
        `  ${r.name.padEnd(28)} CPU ${((r.cpu / N) * 1e6).toFixed(1).padStart(6)} us/msg  peak RSS ${life.toFixed(1).padStart(6)} MiB (flood ${r.rss.toFixed(1)}, start-up ${r.startRss.toFixed(1)})  lost ${r.lost}  series ${r.series}`,
      );
    }
    out(`  CPU per message, homestation / mqtt2prometheus: ${(rows[0]!.cpu / rows[1]!.cpu).toFixed(2)}x`);
  } finally {
    for (const p of procs) p.kill('SIGTERM');
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
