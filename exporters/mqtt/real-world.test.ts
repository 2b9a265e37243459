/**
 * The MQTT exporter against a real Mosquitto, driven the way zigbee2mqtt 1.x/2.x and
 * Tasmota publish (their docs and source; shapes in fixtures/): groups, ghosts of
 * removed devices, bad inventories, unreadable availability, stray topics, a large
 * network's inventory, retained history, numbers that are not numbers, Tasmota
 * telemetry, and how fast it is back after the broker restarts.
 */
import { readFileSync } from 'node:fs';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import type { InstanceRunner } from '../../collector/instance-runner.js';
import { startMosquitto, type Broker } from '../../test/helpers/mosquitto.js';
import { runnerFor } from '../../test/helpers/runner.js';
import { missingToolsMessage } from '../../test/helpers/tools.js';
import { mqtt } from './index.js';
import { M } from './metrics.js';

const missing = missingToolsMessage(['mosquitto']);
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const recorded = JSON.parse(readFileSync(new URL('./fixtures/z2m-frontend-ws-onConnect.json', import.meta.url), 'utf8')) as { topic: string; payload: unknown }[];
const recordedDevices = recorded.find((m) => m.topic === 'bridge/devices')!.payload as Record<string, unknown>[];
const tasmota = JSON.parse(readFileSync(new URL('./fixtures/tasmota-telemetry.json', import.meta.url), 'utf8')) as Record<string, string>;

/** A bridge/devices as zigbee2mqtt writes it: the Coordinator and `names` as real device entries. */
function inventory(names: readonly string[]): string {
  const coordinator = recordedDevices.find((d) => d.type === 'Coordinator');
  const template = recordedDevices.find((d) => d.friendly_name === 'livingroom/temp_humidity')!;
  return JSON.stringify([coordinator, ...names.map((n, i) => ({ ...template, friendly_name: n, ieee_address: `0x00158d00${i.toString(16).padStart(8, '0')}` }))]);
}

async function broker(extra?: string): Promise<Broker> {
  const b = await startMosquitto(extra);
  cleanups.push(() => b.stop());
  return b;
}
async function publisher(url: string, options: Parameters<typeof connectAsync>[1] = {}): Promise<MqttClient> {
  const c = await connectAsync(url, { reconnectPeriod: 0, ...options });
  cleanups.push(() => c.endAsync(true).then(() => undefined));
  return c;
}
function exporter(instance: Record<string, unknown>): InstanceRunner {
  const runner = runnerFor(mqtt, { name: 'home', sys: false, ...instance });
  runner.start();
  cleanups.push(() => runner.stop());
  return runner;
}
const sample = (r: InstanceRunner, metric: string, labels: Record<string, string> = {}) =>
  r.status().samples.find((s) => s.metric === metric && Object.entries(labels).every(([k, v]) => s.labels?.[k] === v))?.value;
const devices = (r: InstanceRunner, source = 'zigbee2mqtt') =>
  [...new Set(r.status().samples.filter((s) => s.labels?.source === source && s.labels.device).map((s) => s.labels!.device))].sort();
const z2m = (device: string) => ({ device, source: 'zigbee2mqtt' });
const retained = { retain: true, qos: 1 as const };

describe.runIf(!missing)('MQTT exporter: what real zigbee2mqtt and Tasmota do', () => {
  it('a group is not a device, during the run and after an exporter restart', async () => {
    const b = await broker();
    const p = await publisher(b.url);
    await p.publishAsync('zigbee2mqtt/bridge/devices', inventory(['lamp-1', 'lamp-2']), retained);
    await p.publishAsync('zigbee2mqtt/bridge/groups', JSON.stringify([{ id: 1, friendly_name: 'living lights', members: [] }]), retained);
    await p.publishAsync('zigbee2mqtt/living lights/availability', '{"state":"online"}', retained);
    await p.publishAsync('zigbee2mqtt/lamp-1/availability', '{"state":"online"}', retained);
    for (let run = 0; run < 2; run++) {
      const r = exporter({ url: b.url });
      await expect.poll(() => sample(r, M.online, z2m('lamp-1')), { timeout: 10_000 }).toBe(1);
      await p.publishAsync('zigbee2mqtt/living lights', '{"state":"ON","brightness":200}', { qos: 1 });
      await expect.poll(() => sample(r, M.messages, { result: 'unknown_topic' })).toBeGreaterThanOrEqual(1);
      expect(devices(r)).toEqual(['lamp-1', 'lamp-2']);
      await r.stop();
    }
  });

  it("a removed device's retained availability is no ghost: not before the inventory, not after", async () => {
    const b = await broker();
    const p = await publisher(b.url);
    // z2m leaves the availability of a removed device behind, retained.
    await p.publishAsync('zigbee2mqtt/old-sensor/availability', '{"state":"online"}', retained);
    await p.publishAsync('zigbee2mqtt/door/availability', '{"state":"online"}', retained);
    await p.publishAsync('zigbee2mqtt/bridge/devices', inventory(['door']), retained);
    const r = exporter({ url: b.url });
    await expect.poll(() => sample(r, M.info, z2m('door')), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => devices(r)).toEqual(['door']);
    // Availability for something not in the inventory, later: still no device.
    await p.publishAsync('zigbee2mqtt/old-sensor/availability', '{"state":"online"}', { qos: 1 });
    await expect.poll(() => sample(r, M.messages, { result: 'unknown_topic' })).toBeGreaterThanOrEqual(1);
    expect(devices(r)).toEqual(['door']);
  });

  it('a malformed bridge/devices is counted and never applied', async () => {
    const b = await broker();
    const p = await publisher(b.url);
    await p.publishAsync('zigbee2mqtt/bridge/devices', inventory(['door', 'window']), retained);
    await p.publishAsync('zigbee2mqtt/door/availability', '{"state":"online"}', retained);
    const r = exporter({ url: b.url });
    await expect.poll(() => sample(r, M.online, z2m('door')), { timeout: 10_000 }).toBe(1);
    for (const bad of ['[{"foo":1},{"bar":2}]', '[]', '{"devices":[]}', '[{"friendly_name":"door"}]']) {
      await p.publishAsync('zigbee2mqtt/bridge/devices', bad, { qos: 1 });
    }
    await expect.poll(() => sample(r, M.messages, { result: 'bad_inventory' })).toBe(4);
    expect(devices(r)).toEqual(['door', 'window']);
    expect(sample(r, M.online, z2m('door'))).toBe(1);
  });

  it('an unreadable availability makes the state unknown (not online), visibly, and is counted', async () => {
    const b = await broker();
    const p = await publisher(b.url);
    await p.publishAsync('zigbee2mqtt/bridge/state', '{"state":"online"}', retained);
    await p.publishAsync('zigbee2mqtt/a/availability', '{"state":"online"}', retained);
    await p.publishAsync('zigbee2mqtt/b/availability', '{"state":"online"}', retained);
    const r = exporter({ url: b.url });
    await expect.poll(() => sample(r, M.online, z2m('b')), { timeout: 10_000 }).toBe(1);
    expect(sample(r, M.availabilityUnknown, z2m('a'))).toBe(0);
    await p.publishAsync('zigbee2mqtt/a/availability', '{"state":"unknown"}', { qos: 1 });
    await p.publishAsync('zigbee2mqtt/b/availability', '{"state":1}', { qos: 1 });
    await p.publishAsync('zigbee2mqtt/bridge/state', '{"state":"maybe"}', { qos: 1 });
    await expect.poll(() => sample(r, M.messages, { result: 'unknown_state' })).toBe(3);
    for (const d of ['a', 'b']) {
      expect(sample(r, M.online, z2m(d))).toBe(0);
      expect(sample(r, M.availabilityUnknown, z2m(d))).toBe(1);
    }
    expect(sample(r, M.z2mBridge)).toBe(0);
  });

  it('500 stray topics under the base are unknown topics, not 500 devices', async () => {
    const b = await broker();
    const p = await publisher(b.url);
    await p.publishAsync('zigbee2mqtt/bridge/devices', inventory(['door']), retained);
    const r = exporter({ url: b.url });
    await expect.poll(() => sample(r, M.info, z2m('door')), { timeout: 10_000 }).toBe(1);
    const seriesBefore = sample(r, M.series)!;
    for (let i = 0; i < 500; i++) p.publish(`zigbee2mqtt/stray/${i}`, '{"temperature":20}', { qos: 0 });
    await expect.poll(() => sample(r, M.messages, { result: 'unknown_topic' }), { timeout: 10_000 }).toBe(500);
    expect(devices(r)).toEqual(['door']);
    expect(sample(r, M.series)).toBe(seriesBefore);
  });

  it("the inventory of a 200-device network (~330 KB) is read with the default limits", async () => {
    const b = await broker();
    const p = await publisher(b.url);
    const names = Array.from({ length: 200 }, (_, i) => `sensor-${i}`);
    const payload = inventory(names);
    expect(payload.length).toBeGreaterThan(300_000);
    await p.publishAsync('zigbee2mqtt/bridge/devices', payload, retained);
    const r = exporter({ url: b.url, max_series: 2000 });
    await expect.poll(() => r.status().samples.filter((s) => s.metric === M.info).length, { timeout: 10_000 }).toBe(200);
    expect(sample(r, M.messages, { result: 'too_large' })).toBe(0);
  });

  it('retained history is not the present: old readings are stale, undated ones have no age; last_seen is the real one', async () => {
    const b = await broker();
    const p = await publisher(b.url);
    await p.publishAsync('zigbee2mqtt/bridge/devices', inventory(['freezer', 'remote', 'fresh']), retained);
    const old = new Date(Date.now() - 300 * 86_400_000).toISOString();
    await p.publishAsync('zigbee2mqtt/freezer', JSON.stringify({ temperature: -18.5, battery: 3, last_seen: old }), retained);
    await p.publishAsync('zigbee2mqtt/remote', JSON.stringify({ battery: 3, linkquality: 40 }), retained);
    const recent = Date.now() - 60_000;
    await p.publishAsync('zigbee2mqtt/fresh', JSON.stringify({ temperature: 4.5, last_seen: recent }), retained);
    const r = exporter({ url: b.url });
    await expect.poll(() => sample(r, M.temperature, z2m('fresh')), { timeout: 10_000 }).toBe(4.5);
    expect(sample(r, M.lastSeen, z2m('fresh'))).toBe(recent / 1000);
    expect(sample(r, M.lastSeen, z2m('freezer'))).toBe(Date.parse(old) / 1000);
    expect(sample(r, M.temperature, z2m('freezer'))).toBeUndefined();
    expect(sample(r, M.battery, z2m('freezer'))).toBeUndefined();
    expect(sample(r, M.battery, z2m('remote'))).toBeUndefined();
    expect(sample(r, M.lastSeen, z2m('remote'))).toBeUndefined();
    expect(sample(r, M.droppedValues, { reason: 'stale' })).toBe(2);
    expect(sample(r, M.droppedValues, { reason: 'retained_unknown_age' })).toBe(2);
  });

  it('numbers that are not numbers are dropped and counted, never exported (a boolean is no battery level)', async () => {
    const b = await broker();
    const p = await publisher(b.url);
    await p.publishAsync('zigbee2mqtt/bridge/devices', inventory(['odd']), retained);
    const r = exporter({
      url: b.url,
      metrics: [{ name: 'homestation_mqtt_power_watts', help: 'Power of a plug.', topic: 'plugs/+/power', device_level: 1 }],
    });
    await expect.poll(() => sample(r, M.info, z2m('odd')), { timeout: 10_000 }).toBe(1);
    await p.publishAsync('zigbee2mqtt/odd', '{"battery":true,"humidity":false,"temperature":"NaN","linkquality":1e400}', { qos: 1 });
    await p.publishAsync('plugs/a/power', 'NaN', { qos: 1 });
    await p.publishAsync('plugs/b/power', '1e400', { qos: 1 });
    await expect.poll(() => sample(r, M.droppedValues, { reason: 'not_number' })).toBe(6);
    expect(r.status().samples.filter((s) => [M.battery, M.humidity, M.temperature, M.linkQuality, 'homestation_mqtt_power_watts'].includes(s.metric))).toEqual([]);
    expect(sample(r, M.messages, { result: 'not_number' })).toBe(2);
  });

  it("Tasmota: last seen is the device's last live message, never the will the broker sends", async () => {
    const b = await broker();
    const r = exporter({ url: b.url });
    await expect.poll(() => r.status().up, { timeout: 10_000 }).toBe(true);
    const plug = await connectAsync(b.url, { reconnectPeriod: 0, keepalive: 1, will: { topic: 'tele/plug-7/LWT', payload: Buffer.from('Offline'), retain: true, qos: 1 } });
    await plug.publishAsync('tele/plug-7/LWT', 'Online', retained);
    const dev = { device: 'plug-7', source: 'tasmota' };
    await expect.poll(() => sample(r, M.online, dev)).toBe(1);
    await new Promise((res) => setTimeout(res, 300));
    await plug.publishAsync('tele/plug-7/STATE', tasmota.state!, { qos: 1 });
    await expect.poll(() => sample(r, M.uptimeDevice, dev)).toBe(631);
    const lastLive = sample(r, M.lastSeen, dev)!;
    await new Promise((res) => setTimeout(res, 1200));
    plug.stream.destroy(); // the broker sends the will after the keep-alive expires
    await expect.poll(() => sample(r, M.online, dev), { timeout: 10_000 }).toBe(0);
    expect(sample(r, M.lastSeen, dev)).toBe(lastLive);
    await plug.endAsync(true);
  });

  it('Tasmota natively: restarts, Wi-Fi, relays, energy, each DS18B20 probe, a 1970 clock; declared metrics join the same device', async () => {
    const b = await broker();
    const r = exporter({
      url: b.url,
      metrics: [{ name: 'plug_apparent_power_voltamperes', help: 'Apparent power of a Tasmota plug.', topic: 'tele/+/SENSOR', device_level: 1, field: 'ENERGY.ApparentPower' }],
    });
    await expect.poll(() => r.status().up, { timeout: 10_000 }).toBe(true);
    const p = await publisher(b.url);
    const dev = { device: 'plug-1', source: 'tasmota' };
    await p.publishAsync('tele/plug-1/STATE', tasmota.state!, { qos: 1 });
    await expect.poll(() => sample(r, M.restarts, dev)).toBe(0);
    await p.publishAsync('tele/plug-1/STATE', tasmota.state_after_reboot!, { qos: 1 });
    await expect.poll(() => sample(r, M.restarts, dev)).toBe(1);
    expect(sample(r, M.wifiSignal, dev)).toBe(-69);
    expect(sample(r, M.relayOn, { ...dev, relay: '2' })).toBe(1);
    expect(sample(r, M.relayOn, { ...dev, relay: '1' })).toBe(0);
    await p.publishAsync('tele/plug-1/SENSOR', tasmota.sensor_energy!, { qos: 1 });
    await expect.poll(() => sample(r, M.energy, dev)).toBeCloseTo(12.345 * 3_600_000);
    expect(sample(r, M.power, dev)).toBe(45);
    expect(sample(r, 'plug_apparent_power_voltamperes', dev)).toBe(50);
    expect(devices(r, 'custom')).toEqual([]);

    const probes = { device: 'pool', source: 'tasmota' };
    await p.publishAsync('tele/pool/SENSOR', tasmota.sensor_ds18b20_three!, { qos: 1 });
    await expect.poll(() => sample(r, M.sensorTemperature, { ...probes, sensor: 'DS18B20-3' })).toBe(4.5);
    const thirdSeen = sample(r, M.sensorLastSeen, { ...probes, sensor: 'DS18B20-3' })!;
    await new Promise((res) => setTimeout(res, 20));
    await p.publishAsync('tele/pool/SENSOR', tasmota.sensor_ds18b20_two!, { qos: 1 });
    await expect.poll(() => sample(r, M.sensorTemperature, { ...probes, sensor: 'DS18B20-1' })).toBe(21.6);
    // The vanished probe's last reading stays where it was while the others move on.
    expect(sample(r, M.sensorLastSeen, { ...probes, sensor: 'DS18B20-3' })).toBe(thirdSeen);
    expect(sample(r, M.sensorLastSeen, { ...probes, sensor: 'DS18B20-1' })).toBeGreaterThan(thirdSeen);

    await p.publishAsync('tele/shed/SENSOR', tasmota.sensor_am2301_no_time_sync_fahrenheit!, { qos: 1 });
    await expect.poll(() => sample(r, M.clockSynced, { device: 'shed', source: 'tasmota' })).toBe(0);
    expect(sample(r, M.sensorTemperature, { device: 'shed', source: 'tasmota', sensor: 'AM2301' })).toBeCloseTo(22);
  });
});

describe.runIf(!missing)('MQTT exporter: back within 2 s after the broker returns', () => {
  it('20 broker restarts (SIGTERM and SIGKILL, persistence on and off): p95 under 2 s', async () => {
    const gaps: number[] = [];
    for (const persistence of [false, true]) {
      const b = await broker(`allow_anonymous true${persistence ? '\npersistence true' : ''}`);
      const r = exporter({ url: b.url });
      await expect.poll(() => r.status().up, { timeout: 10_000 }).toBe(true);
      for (let i = 0; i < 10; i++) {
        await (i % 2 === 0 ? b.stop() : b.kill());
        await expect.poll(() => r.status().up, { timeout: 10_000, interval: 20 }).toBe(false);
        // Outages of 1 to 3 s: long enough for an unbounded backoff to have grown.
        await new Promise((res) => setTimeout(res, 1000 + (i % 3) * 1000));
        const back = Date.now();
        await b.restart();
        await expect.poll(() => r.status().up, { timeout: 20_000, interval: 20 }).toBe(true);
        gaps.push(Date.now() - back);
      }
    }
    gaps.sort((a, b) => a - b);
    const p95 = gaps[Math.ceil(gaps.length * 0.95) - 1]!;
    process.stdout.write(`MQTT reconnect after a broker restart (ms, 20 restarts): p50 ${gaps[9]}, p95 ${p95}, max ${gaps[19]}\n`);
    expect(p95).toBeLessThan(2000);
  }, 120_000);
});
