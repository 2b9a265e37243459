/**
 * npm run bench:scrape — /metrics at ten times homelab scale, against the reference of
 * mqtt2prometheus (Debian's prometheus-mqtt-exporter, in Go) in the same run, same
 * broker, same devices: D zigbee2mqtt-style devices x 4 fields, one message each, then
 * 40 scrapes of /metrics one after another, without and with `Accept-Encoding: gzip`
 * (Prometheus always asks for gzip), after WARMUP scrapes that are timed apart: the
 * first scrapes after a load run while V8 still compiles the scrape path (in
 * HomeStation; the Go reference has no such phase), once per process start, and are
 * printed as the cold scrapes. Figures: scrape p50/p99, body size, RSS after the
 * scrapes and peak RSS (VmHWM) of each process; the p99 ratio against the reference.
 * Sizes: 500, 5,000 and 50,000 devices (2,000, 20,000, 200,000 series);
 * DEVICES=5000 runs one. Then Home Assistant with 5,306 entities (HA=N sets the
 * count; with DEVICES set, only when HA is set too).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync } from 'mqtt';
import { startFakeHa } from '../test/fakes/home-assistant.js';
import { startMosquitto } from '../test/helpers/mosquitto.js';
import { freePort } from '../test/helpers/podman.js';
import { spawnHomestation } from './launch.js';

/** DEVICES=0 with HA=N: Home Assistant alone. */
const SIZES = process.env.DEVICES !== undefined ? [Number(process.env.DEVICES)].filter((d) => d > 0) : [500, 5_000, 50_000];
const SCRAPES = 40;
/** Scrapes before the timed ones, their times printed apart (see above). */
const WARMUP = 5;
const FIELDS = ['battery', 'humidity', 'linkquality', 'temperature'];
const out = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const rss = (pid: number, field: 'VmRSS' | 'VmHWM') => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;

/**
 * One GET, the whole body read (not decompressed: the time is the server's and the
 * wire's). The body is kept as text only when asked: a timed scrape counts its bytes
 * and drops each chunk, as a streaming scraper does. Joining and decoding every 4 MB
 * body left this process (the client, and the fake Home Assistant beside it) a
 * mark-compact GC during some timed scrapes: the 40.8 ms Home Assistant p99 of one run
 * was this process's 8.5 ms pause and marking, while HomeStation (--trace-gc) ran
 * only sub-millisecond scavenges (docs/benchmarks.md).
 */
function get(url: string, gzip: boolean, asText = false): Promise<{ ms: number; bytes: number; text: string }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = request(url, { headers: gzip ? { 'accept-encoding': 'gzip' } : {} }, (res) => {
      const chunks: Buffer[] = [];
      let bytes = 0;
      res.on('data', (c: Buffer) => {
        bytes += c.length;
        if (asText) chunks.push(c);
      });
      res.on('end', () => {
        const ms = performance.now() - t0;
        resolve({ ms, bytes, text: asText && !gzip ? Buffer.concat(chunks).toString('utf8') : '' });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const sumOf = (text: string, re: RegExp) => (text.match(re) ?? []).reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, everyMs = 250): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    await sleep(everyMs);
  }
  throw new Error(`${what} not reached in ${timeoutMs / 1000} s`);
}

/** V8's heap and external memory as HomeStation's own process metrics give them, in MB. */
function heapOf(text: string): string {
  const v = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]) / 1048576;
  return `V8 heap used ${v('nodejs_heap_size_used_bytes').toFixed(0)} of ${v('nodejs_heap_size_total_bytes').toFixed(0)} MB, external ${v('nodejs_external_memory_bytes').toFixed(0)} MB`;
}

/** WARMUP scrapes of `url` (plain, then gzip, as the timed ones go), their times in order. */
async function warmUp(url: string): Promise<string> {
  const times: string[] = [];
  for (let i = 0; i < WARMUP; i++) times.push((await get(url, i % 2 === 1)).ms.toFixed(0));
  return `cold scrapes ${times.join(', ')} ms`;
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil(sorted.length * p) - 1)] as number;

async function size(devices: number): Promise<void> {
  // No per-client queue limit: at 50,000 devices published as fast as the broker takes
  // them, Mosquitto's default (1,000 queued QoS 1 messages per client) dropped messages
  // for whichever subscriber was behind, and the bench waited for messages that never came.
  const broker = await startMosquitto('allow_anonymous true\nmax_queued_messages 0');
  const dir = mkdtempSync(join(tmpdir(), 'hs-bench-scrape-'));
  const hsPort = await freePort();
  const refPort = await freePort();
  writeFileSync(
    join(dir, 'hs.yaml'),
    `server: { host: 127.0.0.1, port: ${hsPort} }\nlog: { level: warn }\nexporters:\n  mqtt:\n    - name: bench\n      url: ${broker.url}\n      sys: false\n      tasmota: { enabled: false }\n      zigbee2mqtt: { max_inventory_bytes: ${devices * 200 + 1_000_000} }\n      max_series: ${devices * 10}\n`,
  );
  writeFileSync(
    join(dir, 'ref.yaml'),
    `mqtt:\n  server: tcp://127.0.0.1:${broker.port}\n  topic_path: zigbee2mqtt/+\n  device_id_regex: "zigbee2mqtt/(?P<deviceid>.*)"\n  qos: 1\ncache:\n  timeout: 60m\nmetrics:\n` +
      FIELDS.map((f) => `  - prom_name: ${f}\n    mqtt_name: ${f}\n    help: ${f}\n    type: gauge\n`).join(''),
  );
  const procs: { name: string; url: string; child: ChildProcess; series: RegExp; handled: RegExp }[] = [
    {
      name: 'homestation',
      url: `http://127.0.0.1:${hsPort}/metrics`,
      // HS_NODE_ARGS="--cpu-prof --cpu-prof-dir=DIR" (or --heap-prof) profiles HomeStation's side.
      child: spawnHomestation(['run', '--config', join(dir, 'hs.yaml')], { stdio: 'ignore' }),
      series: /^homestation_mqtt_device_(battery_ratio|humidity_ratio|link_quality|temperature_celsius)\{/gm,
      handled: /^homestation_mqtt_messages_total\{[^}]*result="processed"\} .*$/gm,
    },
    {
      name: 'mqtt2prometheus',
      url: `http://127.0.0.1:${refPort}/metrics`,
      child: spawn('prometheus-mqtt-exporter', ['-config', join(dir, 'ref.yaml'), '-listen-address', '127.0.0.1', '-listen-port', String(refPort), '-log-level', 'error'], { stdio: 'ignore' }),
      series: /^(battery|humidity|linkquality|temperature)\{/gm,
      handled: /^received_messages\{.*$/gm,
    },
  ];
  try {
    for (const p of procs) await waitFor(`${p.name} listening`, async () => (await get(p.url, false)).bytes > 0, 20_000);
    await sleep(1500); // both subscribed
    const pub = await connectAsync(broker.url, { reconnectPeriod: 0 });
    // zigbee2mqtt's inventory first, as the bridge publishes it (retained): HomeStation
    // admits only listed devices once there is one (and 500 before).
    const coordinator = { friendly_name: 'Coordinator', ieee_address: '0x00124b0000000000', type: 'Coordinator', definition: null };
    const inventory = [coordinator, ...Array.from({ length: devices }, (_, d) => ({
      friendly_name: `dev-${d}`,
      ieee_address: `0x${(0x00158d0000000000n + BigInt(d)).toString(16).padStart(16, '0')}`,
      type: 'EndDevice',
      definition: { vendor: 'Xiaomi', model: 'WSDCGQ11LM' },
    }))];
    await pub.publishAsync('zigbee2mqtt/bridge/devices', JSON.stringify(inventory), { qos: 1, retain: true });
    for (let d = 0; d < devices; d++) {
      const payload = JSON.stringify({ battery: 50 + (d % 50), humidity: 40 + (d % 20), linkquality: d % 255, temperature: 20 + (d % 10) / 10 });
      await pub.publishAsync(`zigbee2mqtt/dev-${d}`, payload, { qos: 1 });
    }
    await pub.endAsync();
    // Every message handled (a small read of each body, every 2 s: counting 200,000 series
    // by regex at every poll was slower than the ingest it waited for), then the series counted once.
    for (const p of procs) {
      await waitFor(`${p.name} handling ${devices} messages`, async () => sumOf((await get(p.url, false, true)).text, p.handled) >= devices, 60_000 + devices * 12, 2000);
      const series = (await get(p.url, false, true)).text.match(p.series)?.length ?? 0;
      if (series < devices * 4) throw new Error(`${p.name} has ${series} of ${devices * 4} series`);
    }
    await sleep(1000);
    out(`${devices} devices x 4 fields = ${devices * 4} series; ${SCRAPES} scrapes each, one after another`);
    const hs = procs[0]!;
    out(`  homestation before the scrapes: RSS ${rss(hs.child.pid!, 'VmRSS').toFixed(0)} MB, peak ${rss(hs.child.pid!, 'VmHWM').toFixed(0)} MB; ${heapOf((await get(hs.url, false, true)).text)}`);
    for (const p of procs) out(`  ${p.name.padEnd(16)} ${await warmUp(p.url)}, then the timed ones:`);
    const p99 = new Map<string, number>();
    for (const gzip of [false, true]) {
      for (const p of procs) {
        const times: number[] = [];
        let bytes = 0;
        for (let i = 0; i < SCRAPES; i++) {
          const r = await get(p.url, gzip);
          times.push(r.ms);
          bytes = r.bytes;
        }
        times.sort((a, b) => a - b);
        p99.set(`${p.name}/${gzip}`, pct(times, 0.99));
        out(
          `  ${p.name.padEnd(16)} ${gzip ? 'gzip ' : 'plain'}  p50 ${pct(times, 0.5).toFixed(1).padStart(7)} ms  p99 ${pct(times, 0.99).toFixed(1).padStart(7)} ms  body ${(bytes / 1024).toFixed(0).padStart(6)} KiB  RSS ${rss(p.child.pid!, 'VmRSS').toFixed(0).padStart(4)} MB  peak ${rss(p.child.pid!, 'VmHWM').toFixed(0).padStart(4)} MB`,
        );
      }
    }
    for (const gzip of [false, true]) {
      out(`  p99 homestation / mqtt2prometheus ${gzip ? 'gzip ' : 'plain'}: ${((p99.get(`homestation/${gzip}`) as number) / (p99.get(`mqtt2prometheus/${gzip}`) as number)).toFixed(2)}x (target <= 0.5x)`);
    }
  } finally {
    for (const p of procs) p.child.kill('SIGTERM');
    await Promise.all(procs.map((p) => new Promise((r) => (p.child.exitCode !== null ? r(null) : p.child.once('exit', r)))));
    await broker.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Home Assistant at the issue's size (5,306 entities over 1,082 devices, 20 areas) on
 * the FAKE Home Assistant (test/fakes), 20 state changes/s while scraped. No reference:
 * no Go exporter reads HA's WebSocket API; the targets are #15's (p99 <= 60 ms, peak
 * RSS <= 120 MB).
 */
async function homeAssistant(entities: number, devices: number): Promise<void> {
  const ha = await startFakeHa({ token: 'bench' });
  const dir = mkdtempSync(join(tmpdir(), 'hs-bench-scrape-ha-'));
  writeFileSync(join(dir, 'token'), 'bench');
  const at = new Date().toISOString();
  const domains = ['sensor', 'sensor', 'sensor', 'binary_sensor', 'switch', 'light', 'automation', 'update'];
  const stateOf = (i: number, tick = 0) => {
    const domain = domains[i % domains.length] as string;
    const entity_id = `${domain}.e${i}`;
    if (domain === 'sensor') return { entity_id, state: String(20 + ((i + tick) % 100) / 10), attributes: { unit_of_measurement: i % 2 ? '°C' : 'W', device_class: i % 2 ? 'temperature' : 'power', state_class: 'measurement', friendly_name: `Sensor ${i}` }, last_changed: at, last_reported: new Date().toISOString() };
    if (domain === 'update') return { entity_id, state: i % 5 ? 'off' : 'on', attributes: { installed_version: '1.0', latest_version: i % 5 ? '1.0' : '1.1', friendly_name: `Update ${i}` }, last_changed: at };
    if (domain === 'automation') return { entity_id, state: 'on', attributes: { last_triggered: at, friendly_name: `Automation ${i}` }, last_changed: at };
    return { entity_id, state: (i + tick) % 2 ? 'on' : 'off', attributes: { friendly_name: `${domain} ${i}` }, last_changed: at };
  };
  ha.areas = Array.from({ length: 20 }, (_, a) => ({ area_id: `area_${a}`, name: `Area ${a}` }));
  ha.devices = Array.from({ length: devices }, (_, d) => ({ id: `dev${d}`, name: `Device ${d}`, manufacturer: 'Aqara', model: 'WSDCGQ11LM', area_id: `area_${d % 20}` }));
  ha.entities = Array.from({ length: entities }, (_, i) => ({ entity_id: stateOf(i).entity_id, device_id: `dev${i % devices}`, platform: 'zha' }));
  ha.states = Array.from({ length: entities }, (_, i) => stateOf(i));
  const port = await freePort();
  writeFileSync(
    join(dir, 'hs.yaml'),
    `server: { host: 127.0.0.1, port: ${port} }\nlog: { level: warn }\nexporters:\n  homeassistant:\n    - { name: home, url: ${ha.url}, token_file: ${join(dir, 'token')}, max_series: ${entities * 10} }\n`,
  );
  const child = spawnHomestation(['run', '--config', join(dir, 'hs.yaml')], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}/metrics`;
  let tick = 0;
  const changes = setInterval(() => {
    tick += 1;
    ha.setState(stateOf((tick * 7) % entities, tick));
  }, 50);
  try {
    await waitFor('HomeStation listening', async () => (await get(url, false)).bytes > 0, 20_000);
    await waitFor(
      `every entity of ${entities} exported`,
      async () => ((await get(url, false, true)).text.match(/^homestation_homeassistant_entity_info\{/gm)?.length ?? 0) >= entities,
      60_000,
      1000,
    );
    const startPeak = rss(child.pid!, 'VmHWM');
    await sleep(1000);
    out(`Home Assistant: ${entities} entities over ${devices} devices, ${SCRAPES} scrapes each way, 20 state changes/s`);
    out(`  before the scrapes: RSS ${rss(child.pid!, 'VmRSS').toFixed(0)} MB, peak ${startPeak.toFixed(0)} MB; ${heapOf((await get(url, false, true)).text)}`);
    out(`  homestation      ${await warmUp(url)}, then the timed ones:`);
    for (const gzip of [false, true]) {
      const times: number[] = [];
      let bytes = 0;
      for (let i = 0; i < SCRAPES; i++) {
        const r = await get(url, gzip);
        times.push(r.ms);
        bytes = r.bytes;
      }
      times.sort((a, b) => a - b);
      out(
        `  homestation      ${gzip ? 'gzip ' : 'plain'}  p50 ${pct(times, 0.5).toFixed(1).padStart(7)} ms  p99 ${pct(times, 0.99).toFixed(1).padStart(7)} ms (target <= 60)  body ${(bytes / 1024).toFixed(0).padStart(6)} KiB  RSS ${rss(child.pid!, 'VmRSS').toFixed(0).padStart(4)} MB  peak ${rss(child.pid!, 'VmHWM').toFixed(0).padStart(4)} MB (target <= 120)`,
      );
    }
  } finally {
    clearInterval(changes);
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
    await ha.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

out(`node ${process.versions.node}, ${process.platform}/${process.arch}`);
for (const d of SIZES) {
  try {
    await size(d);
  } catch (err) {
    out(`${d} devices: not measured: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}
if (!process.env.DEVICES || process.env.HA) {
  try {
    await homeAssistant(Number(process.env.HA ?? 5306), 1082);
  } catch (err) {
    out(`Home Assistant: not measured: ${(err as Error).message}`);
    process.exitCode = 1;
  }
}
