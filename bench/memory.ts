/**
 * npm run bench:memory — HomeStation's memory with every exporter configured at
 * homelab scale, as the stand-ins in test/ allow: MQTT (a real Mosquitto, 500
 * zigbee2mqtt-style devices x 4 fields, each publishing every 10 s), Home Assistant
 * (the fake HA: 2,000 entities, 20 state changes/s), Bluetooth through that HA (3
 * proxies, 50 devices, 20 adverts/s), backups (a real restic repository with a
 * snapshot), filesystem, NAS (a mount with a write test) and GPU (the fake
 * nvidia-smi replaying recorded outputs). `homestation run` in its own process, its
 * /metrics scraped every 15 s as Prometheus would; VmRSS sampled every second.
 *
 * Two runs of DURATION seconds (default 600): without tracing, then with tracing on
 * (OTLP/HTTP to a local receiver that accepts everything); TRACING=off or on runs one. Figures: peak RSS
 * (VmHWM), steady RSS (the median of the last minute), against the 100 MB target.
 * SOAK=1: one run of DURATION (default 3600 s) without tracing, reporting the RSS
 * slope over its second half (least squares, MB per hour): it must not grow.
 *
 * First, the embedded default config idle for a minute (no --config: the filesystem
 * and backup-file exporters of any Debian host), against its 64 MB target.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connectAsync } from 'mqtt';
import { startFakeHa } from '../test/fakes/home-assistant.js';
import { startMosquitto } from '../test/helpers/mosquitto.js';
import { freePort } from '../test/helpers/podman.js';
import { spawnHomestation } from './launch.js';

const SMI = fileURLToPath(new URL('../../test/fakes/nvidia-smi.mjs', import.meta.url));
const SOAK = process.env.SOAK === '1';
const DURATION_S = Number(process.env.DURATION ?? (SOAK ? 3600 : 600));
const TARGET_MB = 100;
const TOKEN = 'bench-token';
const out = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const status = (pid: number, field: 'VmRSS' | 'VmHWM') => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]) / 1024;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

/** MB per hour over the samples (least squares). */
function slopePerHour(samples: { t: number; mb: number }[]): number {
  const n = samples.length;
  const mt = samples.reduce((s, x) => s + x.t, 0) / n;
  const mm = samples.reduce((s, x) => s + x.mb, 0) / n;
  const num = samples.reduce((s, x) => s + (x.t - mt) * (x.mb - mm), 0);
  const den = samples.reduce((s, x) => s + (x.t - mt) ** 2, 0);
  return den ? (num / den) * 3_600_000 : 0;
}

/** `homestation run` on its embedded default config, idle: RSS at 5 s and 60 s, and the peak. */
async function idleDefault(): Promise<void> {
  const port = await freePort();
  const child = spawnHomestation(['run'], { stdio: ['ignore', 'ignore', 'pipe'], env: { HOMESTATION_PORT: String(port), HOMESTATION_HOST: '127.0.0.1' } });
  const pid = child.pid as number;
  try {
    await sleep(5000);
    const at5 = status(pid, 'VmRSS');
    await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { 'accept-encoding': 'gzip' } });
    await sleep(55_000);
    out(`idle, embedded default config: RSS ${at5.toFixed(0)} MB at 5 s, ${status(pid, 'VmRSS').toFixed(0)} MB at 60 s (target 64 MB), peak ${status(pid, 'VmHWM').toFixed(0)} MB`);
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
  }
}

async function main(): Promise<void> {
  for (const tool of ['mosquitto', 'restic']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      out(`${tool} is not installed: bash scripts/install-system-deps.sh`);
      process.exitCode = 1;
      return;
    }
  }
  if (!SOAK) await idleDefault();
  const dir = mkdtempSync(join(tmpdir(), 'hs-bench-mem-'));
  const broker = await startMosquitto();
  const ha = await startFakeHa({ token: TOKEN });
  writeFileSync(join(dir, 'token'), TOKEN);
  // Home Assistant: 2,000 entities over 400 devices.
  ha.states = Array.from({ length: 2000 }, (_, i) =>
    i % 4 === 3
      ? { entity_id: `binary_sensor.door_${i}`, state: 'off', attributes: { device_class: 'door', friendly_name: `Door ${i}` }, last_changed: new Date().toISOString() }
      : { entity_id: `sensor.temp_${i}`, state: String(20 + (i % 10)), attributes: { unit_of_measurement: '°C', device_class: 'temperature', friendly_name: `Temp ${i}` }, last_changed: new Date().toISOString() },
  );
  const proxies = [0, 1, 2].map((p) => `AC:BC:32:89:0E:${(0xa0 + p).toString(16).toUpperCase()}`);
  for (const [p, source] of proxies.entries()) ha.bluetooth.addScanner({ source, connectable: true, name: `proxy-${p}`, adapter: `proxy-${p}`, scanner_type: 'remote' });
  // Backups: a real restic repository with one snapshot.
  const repo = join(dir, 'restic');
  writeFileSync(join(dir, 'restic.pass'), 'bench\n');
  mkdirSync(join(dir, 'data'));
  writeFileSync(join(dir, 'data', 'file'), 'x'.repeat(100_000));
  const restic = (args: string[]) => execFileSync('restic', ['-r', repo, '--password-file', join(dir, 'restic.pass'), ...args], { stdio: 'ignore' });
  restic(['init']);
  restic(['backup', '--host', 'nas', join(dir, 'data')]);
  mkdirSync(join(dir, 'share'));
  // An OTLP/HTTP receiver that takes everything.
  const otlp = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  });
  await new Promise<void>((r) => otlp.listen(0, '127.0.0.1', r));
  const otlpPort = (otlp.address() as { port: number }).port;

  const pub = await connectAsync(broker.url);
  const devices = 500;
  const inventory = Array.from({ length: devices }, (_, d) => ({ ieee_address: `0x${d.toString(16).padStart(16, '0')}`, friendly_name: `dev-${d}`, type: 'EndDevice', definition: { model: 'WSDCGQ11LM', vendor: 'Aqara' }, power_source: 'Battery' }));
  await pub.publishAsync('zigbee2mqtt/bridge/devices', JSON.stringify(inventory), { qos: 1, retain: true });
  let tick = 0;
  const address = (d: number) => `C4:7C:8D:6C:00:${d.toString(16).padStart(2, '0')}`.toUpperCase();
  // Every 20 ms: one device publishes (500 devices every 10 s); HA and Bluetooth at 20/s each.
  const load = setInterval(() => {
    tick += 1;
    const d = tick % devices;
    void pub.publishAsync(`zigbee2mqtt/dev-${d}`, JSON.stringify({ battery: 90 - (tick % 10), humidity: 40 + (tick % 20), linkquality: 100 + (tick % 50), temperature: 20 + (tick % 7) / 10 }), { qos: 1 }).catch(() => undefined);
    const e = tick % 2000;
    if (e % 4 !== 3) ha.setState({ entity_id: `sensor.temp_${e}`, state: String(20 + (tick % 100) / 10), attributes: { unit_of_measurement: '°C', device_class: 'temperature', friendly_name: `Temp ${e}` }, last_changed: new Date().toISOString() });
    const b = tick % 50;
    ha.bluetooth.advertise({ name: `ATC_${b}`, address: address(b), rssi: -60 - (tick % 30), manufacturer_data: {}, service_data: {}, service_uuids: [], source: proxies[b % 3] as string, connectable: false, time: Date.now() / 1000, tx_power: null, raw: null });
  }, 20);

  const config = (port: number) => `server: { host: 127.0.0.1, port: ${port} }
log: { level: warn }
exporters:
  mqtt:
    - { name: home, url: ${broker.url}, sys: false, tasmota: { enabled: false } }
  homeassistant:
    - { name: home, url: ${ha.url}, token_file: ${join(dir, 'token')} }
  bluetooth:
    - { name: home, homeassistant: { url: ${ha.url}, token_file: ${join(dir, 'token')} }, track_all: true }
  backup:
    - { name: nas, interval: 1m, restic: { repository: ${repo}, password_file: ${join(dir, 'restic.pass')} } }
  filesystem:
    - { name: local }
  nas:
    - { name: nas, mounts: [{ path: ${join(dir, 'share')}, tier: media, write_test: true }], disks: { enabled: false } }
  gpu:
    - { name: desktop, source: nvidia-smi, nvidia_smi: { command: ${SMI} } }
`;
  const rows: string[] = [];
  try {
    // TRACING=off or on: one of the two runs (comparisons of flags, say).
    const runs = SOAK || process.env.TRACING === 'off' ? [false] : process.env.TRACING === 'on' ? [true] : [false, true];
    for (const tracing of runs) {
      const port = await freePort();
      writeFileSync(join(dir, 'hs.yaml'), config(port));
      const env = { ...(tracing ? { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${otlpPort}` } : { OTEL_SDK_DISABLED: 'true' }) };
      const child = spawnHomestation(['run', '--config', join(dir, 'hs.yaml')], { stdio: ['ignore', 'ignore', 'pipe'], env });
      let stderr = '';
      child.stderr?.on('data', (c: Buffer) => (stderr = `${stderr}${c.toString()}`.slice(-4000)));
      const pid = child.pid as number;
      const samples: { t: number; mb: number }[] = [];
      const t0 = Date.now();
      let scrapes = 0;
      let lastBody = 0;
      let nextScrape = t0 + 5000;
      while (Date.now() - t0 < DURATION_S * 1000) {
        if (child.exitCode !== null) throw new Error(`homestation exited (${child.exitCode}): ${stderr}`);
        samples.push({ t: Date.now() - t0, mb: status(pid, 'VmRSS') });
        if (Date.now() >= nextScrape) {
          nextScrape += 15_000;
          const res = await fetch(`http://127.0.0.1:${port}/metrics`, { headers: { 'accept-encoding': 'gzip' } }).catch(() => undefined);
          if (res?.ok) {
            lastBody = (await res.text()).length;
            scrapes += 1;
          }
        }
        if (samples.length % 60 === 0) out(`  ${tracing ? 'tracing' : 'no tracing'} ${Math.round((Date.now() - t0) / 1000)} s: RSS ${samples.at(-1)?.mb.toFixed(0)} MB, peak ${status(pid, 'VmHWM').toFixed(0)} MB`);
        await sleep(1000);
      }
      const metricsText = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      const ups = [...metricsText.matchAll(/^homestation_exporter_up\{exporter="([^"]+)",exporter_instance="[^"]+"\} (\d)/gm)].map((m) => `${m[1]}=${m[2]}`);
      const peak = status(pid, 'VmHWM');
      const steady = median(samples.slice(-60).map((s) => s.mb));
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      const half = samples.slice(Math.floor(samples.length / 2));
      const slope = slopePerHour(half);
      out(`  exporters up: ${ups.join(' ')}; ${scrapes} scrapes, last body ${(lastBody / 1024).toFixed(0)} KiB (asked gzip; read decompressed)`);
      const mb = (name: string) => (Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metricsText)?.[1]) / 1048576).toFixed(0);
      out(`  at the end: V8 heap used ${mb('nodejs_heap_size_used_bytes')} of ${mb('nodejs_heap_size_total_bytes')} MB, external ${mb('nodejs_external_memory_bytes')} MB`);
      rows.push(
        `| ${tracing ? 'with tracing' : 'without tracing'} | ${DURATION_S} s | ${peak.toFixed(0)} MB (${(peak / TARGET_MB).toFixed(2)}x) | ${steady.toFixed(0)} MB (${(steady / TARGET_MB).toFixed(2)}x) | ${slope >= 0 ? '+' : ''}${slope.toFixed(1)} MB/h |`,
      );
    }
    out('');
    out(`| all exporters at homelab scale | run | peak RSS (VmHWM), target ${TARGET_MB} MB | steady RSS (median of the last minute) | RSS slope over the second half |`);
    out('|---|---|---|---|---|');
    for (const r of rows) out(r);
  } finally {
    clearInterval(load);
    await pub.endAsync().catch(() => undefined);
    await ha.close();
    await broker.stop();
    otlp.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

void main().catch((err: Error) => {
  out(`bench:memory failed: ${err.message}`);
  process.exitCode = 1;
});
