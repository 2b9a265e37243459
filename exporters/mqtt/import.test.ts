/**
 * `homestation import mqtt2prometheus`: the translation of its documented config, and
 * the proof that counts: the real mqtt2prometheus (Debian's prometheus-mqtt-exporter)
 * and HomeStation on the imported config, on one Mosquitto, export the same values
 * under the same metric names.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startDaemon, type Daemon } from '../../test/helpers/cli.js';
import { startMosquitto, type Broker } from '../../test/helpers/mosquitto.js';
import { freePort } from '../../test/helpers/podman.js';
import { missingToolsMessage } from '../../test/helpers/tools.js';
import { deviceLevel, importMqtt2prometheus } from './import-mqtt2prometheus.js';

const missing = missingToolsMessage(['mosquitto', 'prometheus-mqtt-exporter']);
let dir: string;

/** The Readme's example, on Tasmota-style topics. */
const m2p = (server: string) => `mqtt:
 server: ${server}
 user: bob
 password: happylittleclouds
 topic_path: tele/+/SENSOR
 device_id_regex: "tele/(?P<deviceid>.*)/.*"
 qos: 1
cache:
 timeout: 24h
metrics:
 - prom_name: temperature
   mqtt_name: AM2301.Temperature
   help: DHT22 temperature reading
   type: gauge
   const_labels:
    sensor_type: dht22
 - prom_name: humidity
   mqtt_name: AM2301.Humidity
   mqtt_value_scale: 0.01
   help: DHT22 humidity reading
   type: gauge
 - prom_name: energy_kwh_total
   mqtt_name: ENERGY.Total
   help: Energy meter reading
   type: counter
 - prom_name: relay
   mqtt_name: POWER
   help: Relay state
   type: gauge
   string_value_mapping:
    map:
     "OFF": 0
     "ON": 1
    error_value: -1
`;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hs-import-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('import mqtt2prometheus', () => {
  it('finds the device level of the usual device_id_regex forms', () => {
    expect(deviceLevel('v1/devices/me/+', '(.*/)?(?P<deviceid>.*)')).toBe(3);
    expect(deviceLevel('tele/+/SENSOR', 'tele/(?P<deviceid>.*)/.*')).toBe(1);
    expect(deviceLevel('home/+/+/state', 'home/[^/]+/(?P<deviceid>[^/]+)/state')).toBe(2);
    expect(deviceLevel('home/#', '(?P<deviceid>.*)')).toBeUndefined();
  });

  it('translates the config, keeps the metric names, never copies the password, and says what does not translate', () => {
    const { yaml, notes } = importMqtt2prometheus(m2p('tcp://127.0.0.1:1883'));
    expect(yaml).not.toContain('happylittleclouds');
    expect(yaml).toContain('name: energy_kwh_total');
    expect(notes.join('\n')).toMatch(/temperature: const_labels do not translate/);
    expect(notes.join('\n')).toMatch(/relay: string_value_mapping.error_value does not translate/);
    expect(notes.join('\n')).toMatch(/mqtt.password is not copied/);
    const file = join(dir, 'imported.yaml');
    writeFileSync(file, yaml.replaceAll('/etc/homestation/mqtt.pass', join(dir, 'pass')));
    writeFileSync(join(dir, 'pass'), 'x\n');
    expect(runCli(['check-config', file])).toMatchObject({ code: 0 });
  });

  it('refuses what is not an mqtt2prometheus config, naming why', () => {
    const file = join(dir, 'not-m2p.yaml');
    writeFileSync(file, 'exporters: {}\n');
    const res = runCli(['import', 'mqtt2prometheus', file]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('mqtt.server is missing');
    expect(runCli(['import', 'telegraf', file]).stderr).toContain('cannot import "telegraf"');
  });

  describe.runIf(!missing)('side by side with the real mqtt2prometheus', () => {
    let broker: Broker;
    let hs: Daemon | undefined;
    let ref: ChildProcess | undefined;
    afterAll(async () => {
      await hs?.stop();
      ref?.kill('SIGTERM');
      await broker?.stop();
    });

    it('exports the same values under the same names', async () => {
      broker = await startMosquitto('allow_anonymous true');
      const refConfig = join(dir, 'm2p.yaml');
      writeFileSync(refConfig, m2p(`tcp://127.0.0.1:${broker.port}`).replace(' user: bob\n password: happylittleclouds\n', ''));
      const imported = importMqtt2prometheus(m2p(broker.url)).yaml.replace(/ {6}username: bob\n {6}password_file: .*\n/, '');
      const hsPort = await freePort();
      const hsConfig = join(dir, 'hs.yaml');
      writeFileSync(hsConfig, `server: { host: 127.0.0.1, port: ${hsPort} }\n${imported}`);
      const refPort = await freePort();
      ref = spawn('prometheus-mqtt-exporter', ['-config', refConfig, '-listen-address', '127.0.0.1', '-listen-port', String(refPort), '-log-level', 'error'], { stdio: 'ignore' });
      hs = await startDaemon(['--config', hsConfig]);
      await expect.poll(async () => (await fetch(`http://127.0.0.1:${refPort}/metrics`).catch(() => undefined))?.status, { timeout: 10_000 }).toBe(200);
      await new Promise((r) => setTimeout(r, 1000)); // both subscribed
      const pub = await connectAsync(broker.url, { reconnectPeriod: 0 });
      for (const [dev, t, h, kwh, power] of [
        ['plug-a', 21.5, 40.5, 1.25, 'ON'],
        ['plug-b', 19.25, 55, 10.5, 'OFF'],
      ] as const) {
        await pub.publishAsync(`tele/${dev}/SENSOR`, JSON.stringify({ Time: '2026-11-25T10:00:00', AM2301: { Temperature: t, Humidity: h }, ENERGY: { Total: kwh }, POWER: power }), { qos: 1 });
      }
      await pub.endAsync();
      const values = async (url: string, label: string) => {
        const out: Record<string, number> = {};
        for (const line of (await (await fetch(url)).text()).split('\n')) {
          const m = /^(temperature|humidity|energy_kwh_total|relay)\{(.*)\} ([-+\d.e]+)/.exec(line);
          const dev = m && new RegExp(`${label}="([^"]+)"`).exec(m[2] as string)?.[1];
          if (m && dev) out[`${m[1]} ${dev}`] = Number(m[3]);
        }
        return out;
      };
      await expect.poll(async () => Object.keys(await values(`http://127.0.0.1:${hsPort}/metrics`, 'device')).length, { timeout: 10_000 }).toBe(8);
      await expect.poll(async () => Object.keys(await values(`http://127.0.0.1:${refPort}/metrics`, 'sensor')).length, { timeout: 10_000 }).toBe(8);
      const mine = await values(`http://127.0.0.1:${hsPort}/metrics`, 'device');
      expect(mine).toEqual(await values(`http://127.0.0.1:${refPort}/metrics`, 'sensor'));
      expect(mine['relay plug-a']).toBe(1);
      expect(mine['humidity plug-b']).toBeCloseTo(0.55);
    }, 60_000);
  });
});
