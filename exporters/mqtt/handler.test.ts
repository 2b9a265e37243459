/** The message handler over recorded zigbee2mqtt traffic, and a golden exposition of it. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../collector/config/load.js';
import { silentLogger } from '../../collector/logging.js';
import { exposeSamples } from '../../test/helpers/exposition.js';
import { handleMessage } from './handler.js';
import { mqtt } from './index.js';
import { M } from './metrics.js';
import type { MqttConfig } from './schema.js';
import { MqttState } from './state.js';

const configOf = (extra: Record<string, unknown> = {}): MqttConfig =>
  parseConfig(JSON.stringify({ exporters: { mqtt: [{ name: 'home', url: 'mqtt://127.0.0.1:1883', ...extra }] } }), 't.json', [mqtt], { env: {} })
    .instances[0]!.config as unknown as MqttConfig;

const onConnect = JSON.parse(readFileSync(new URL('./fixtures/z2m-frontend-ws-onConnect.json', import.meta.url), 'utf8')) as { topic: string; payload: unknown }[];

function replay(c: MqttConfig, state: MqttState, retain: boolean) {
  const results: Record<string, number> = {};
  for (const m of onConnect) {
    const payload = Buffer.from(typeof m.payload === 'string' ? m.payload : JSON.stringify(m.payload));
    const r = handleMessage(c, state, { topic: `zigbee2mqtt/${m.topic}`, payload, retain }, 1_700_000_000_000);
    results[r] = (results[r] ?? 0) + 1;
  }
  return results;
}

describe('MQTT handler over a recorded zigbee2mqtt 1.25 session', () => {
  it('reads bridge state, devices, both availability forms and sensor values', () => {
    const c = configOf();
    const state = new MqttState(c.ttl, c.max_series, silentLogger());
    const results = replay(c, state, true);
    expect(results.not_json ?? 0).toBe(0);
    const samples = state.snapshot(1_700_000_000_000);
    expect(samples.find((s) => s.metric === M.z2mBridge)).toMatchObject({ labels: { base_topic: 'zigbee2mqtt' }, value: 1 });
    // Availability of announced devices only: "hue lights" is a group (bridge/groups) and
    // "901" is in no inventory (a removed device's leftover): neither is a device.
    const announced = new Set((onConnect.find((m) => m.topic === 'bridge/devices')!.payload as { friendly_name: string }[]).map((d) => d.friendly_name));
    const availability = onConnect.filter((m) => m.topic.endsWith('/availability') && announced.has(m.topic.slice(0, -'/availability'.length)));
    expect(availability).toHaveLength(11);
    expect(samples.filter((s) => s.metric === M.online)).toHaveLength(11);
    expect(samples.some((s) => s.labels?.device === 'hue lights' || s.labels?.device === '901')).toBe(false);
    expect(results.unknown_topic).toBe(2);
    expect(samples.filter((s) => s.metric === M.info).length).toBeGreaterThan(5);
    // Replayed retained payloads are history: their own last_seen (2021-2022 here) is the
    // last sign of life, and their readings, far older than the TTL, are not the present.
    const lastSeen = samples.filter((s) => s.metric === M.lastSeen);
    expect(lastSeen).toHaveLength(12);
    expect(lastSeen.find((s) => s.labels?.device === 'hue1')?.value).toBe(Date.parse('2021-10-22T08:38:44+08:00') / 1000);
    expect(samples.filter((s) => s.metric === M.battery || s.metric === M.temperature)).toEqual([]);
    expect(state.droppedValues.stale).toBe(20);
    // The budget's count is kept as series come and go (groups removed, stale values expired): it agrees with a recount.
    expect(state.seriesCount()).toBe(state.recount());
    expect(state.seriesCount()).toBe(samples.filter((s) => s.labels?.device !== undefined || s.metric === M.z2mBridge).length);
    for (const s of samples.filter((x) => x.metric === M.battery || x.metric === M.humidity)) {
      expect(s.value).toBeGreaterThanOrEqual(0);
      expect(s.value).toBeLessThanOrEqual(1);
    }
  });

  it('matches its golden exposition file', async () => {
    const c = configOf();
    const state = new MqttState(c.ttl, c.max_series, silentLogger());
    replay(c, state, true);
    const text = await exposeSamples(mqtt, state.snapshot(1_700_000_000_000), 'home');
    const golden = new URL('./fixtures/golden/z2m-1.25-onConnect.prom', import.meta.url);
    if (process.env.UPDATE_GOLDEN === '1' || (!existsSync(golden) && process.env.CI !== 'true')) writeFileSync(golden, text);
    expect(text).toBe(readFileSync(golden, 'utf8'));
  });

  it('reads zigbee2mqtt 2.x bridge/health (the documented form)', () => {
    const forms = JSON.parse(readFileSync(new URL('./fixtures/mqtt-wire-forms.derived.json', import.meta.url), 'utf8')) as { zigbee2mqtt_2x: { topic: string; payload: string }[] };
    const health = forms.zigbee2mqtt_2x.find((f) => f.topic === 'zigbee2mqtt/bridge/health')!;
    const c = configOf();
    const state = new MqttState(c.ttl, c.max_series, silentLogger());
    expect(handleMessage(c, state, { topic: health.topic, payload: Buffer.from(health.payload), retain: true }, 1)).toBe('processed');
    const samples = state.snapshot(1);
    expect(samples.find((s) => s.metric === M.z2mUptime)).toEqual({ metric: M.z2mUptime, labels: { base_topic: 'zigbee2mqtt' }, value: 86400 });
    expect(samples.find((s) => s.metric === M.z2mMemory)?.value).toBe(Math.round(120.25 * 1024 * 1024));
  });

  it('counts bad input by reason and makes no series of it', () => {
    const c = configOf({ metrics: [{ name: 'homestation_mqtt_power_watts', help: 'Power of a plug.', topic: 'plugs/+/power', device_level: 1 }], max_payload_bytes: 100 });
    const state = new MqttState(c.ttl, c.max_series, silentLogger());
    const send = (topic: string, payload: string | Buffer) => handleMessage(c, state, { topic, payload: Buffer.from(payload), retain: false }, 1);
    expect(send('plugs/a/power', '12.5')).toBe('processed');
    expect(send('plugs/b/power', 'NaN')).toBe('not_number');
    expect(send('plugs/c/power', Buffer.from([0, 0xff, 0xfe]))).toBe('not_number');
    expect(send('plugs/d/power', 'x'.repeat(200))).toBe('too_large');
    expect(send('zigbee2mqtt/sensor', '{"temperature": ')).toBe('not_json');
    expect(send('other/topic', '1')).toBe('ignored');
    const values = state.snapshot(1).filter((s) => s.metric === 'homestation_mqtt_power_watts');
    expect(values.map(({ metric, labels, value }) => ({ metric, labels, value }))).toEqual([{ metric: 'homestation_mqtt_power_watts', labels: { device: 'a', source: 'custom' }, value: 12.5 }]);
  });

  it('keeps existing series and refuses new ones past the budget', () => {
    const c = configOf({ max_series: 20 });
    const state = new MqttState(c.ttl, c.max_series, silentLogger());
    for (let i = 0; i < 30; i++) handleMessage(c, state, { topic: `zigbee2mqtt/d${i}`, payload: Buffer.from('{"temperature":20}'), retain: false }, 1);
    expect(state.seriesCount()).toBeLessThanOrEqual(20);
    expect(state.seriesCount()).toBe(state.recount());
    expect(state.droppedOverBudget).toBeGreaterThan(0);
    handleMessage(c, state, { topic: 'zigbee2mqtt/d0', payload: Buffer.from('{"temperature":25}'), retain: false }, 2);
    expect(state.snapshot(2).find((s) => s.metric === M.temperature && s.labels?.device === 'd0')?.value).toBe(25);
  });
});
