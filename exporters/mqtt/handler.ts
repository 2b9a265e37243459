/**
 * Pure with respect to I/O: one MQTT message applied to the state. Everything
 * it does is decided by the config and the message; the connection code only calls
 * `handleMessage`.
 */
import { M } from './metrics.js';
import { parseAvailability } from './parse/availability.js';
import { matchTopic, parseJsonObject, payloadValue, toNumber } from './parse/payload.js';
import { parseSys } from './parse/sys.js';
import { parseTasmotaSensor, parseTasmotaState } from './parse/tasmota.js';
import { parseGroups, parseInventory, payloadTime } from './parse/z2m.js';
import type { MqttConfig } from './schema.js';
import type { MessageResult, MqttState } from './state.js';

export interface Message {
  readonly topic: string;
  readonly payload: Buffer;
  /** A retained message replayed on subscribe: not a sign of life. */
  readonly retain: boolean;
}

/** zigbee2mqtt's own sensor fields, exported for every device without configuration. */
const Z2M_DEFAULTS: { field: string; metric: string; scale: number }[] = [
  { field: 'battery', metric: M.battery, scale: 0.01 },
  { field: 'linkquality', metric: M.linkQuality, scale: 1 },
  { field: 'temperature', metric: M.temperature, scale: 1 },
  { field: 'humidity', metric: M.humidity, scale: 0.01 },
];

const MAX_NAME = 128;
const deviceName = (s: string) => (s.length > MAX_NAME ? s.slice(0, MAX_NAME) : s);
/** A known sensor field is a JSON number: not a boolean, not a string, not NaN or 1e400. */
const strictNumber = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** Topics carrying inventories, read under their own size limit. */
export function isInventoryTopic(c: MqttConfig, topic: string): boolean {
  const base = c.zigbee2mqtt.base_topic;
  return c.zigbee2mqtt.enabled && (topic === `${base}/bridge/devices` || topic === `${base}/bridge/groups`);
}

/**
 * When a device payload was made. A live message is now; a retained one is history
 * replayed by the broker: its own last_seen if it has one, else unknown (undefined).
 */
function madeAt(obj: Record<string, unknown>, m: Message, now: number): number | undefined {
  return m.retain ? payloadTime(obj) : now;
}

function handleZigbee2mqtt(c: MqttConfig, state: MqttState, m: Message, text: string, now: number): MessageResult | undefined {
  const base = c.zigbee2mqtt.base_topic;
  const source = 'zigbee2mqtt';
  if (!m.topic.startsWith(`${base}/`)) return undefined;
  const rest = m.topic.slice(base.length + 1);
  if (rest === 'bridge/state') {
    const a = parseAvailability(text);
    if (a === 'cleared') return 'ignored';
    // An unreadable state is not online.
    state.setBridge(base, a === 'online');
    return a === 'unknown' ? 'unknown_state' : 'processed';
  }
  if (rest === 'bridge/devices') {
    const inv = parseInventory(text);
    if (!inv.ok) return 'bad_inventory'; // never applied: a bad list must not remove devices
    state.applyInventory(
      source,
      inv.value.map((d) => ({ name: deviceName(d.friendlyName), info: { ieee_address: d.ieeeAddress, vendor: d.vendor, model: d.model } })),
    );
    return 'processed';
  }
  if (rest === 'bridge/groups') {
    const groups = parseGroups(text);
    if (!groups.ok) return 'bad_inventory';
    state.setGroups(source, groups.value.map(deviceName));
    return 'processed';
  }
  if (rest === 'bridge/response/device/rename') {
    const obj = parseJsonObject(text) as { status?: string; data?: { from?: unknown; to?: unknown } } | undefined;
    if (!obj) return 'not_json';
    if (obj.status === 'ok' && typeof obj.data?.from === 'string') {
      state.renameDevice(source, deviceName(obj.data.from), typeof obj.data.to === 'string' ? deviceName(obj.data.to) : '');
    }
    return 'processed';
  }
  if (rest === 'bridge/health') {
    const obj = parseJsonObject(text) as { process?: { uptime_sec?: unknown; memory_used_mb?: unknown } } | undefined;
    if (!obj) return 'not_json';
    const uptime = toNumber(obj.process?.uptime_sec);
    const memory = toNumber(obj.process?.memory_used_mb);
    if (uptime !== undefined) state.setBroker({ metric: M.z2mUptime, labels: { base_topic: base }, value: uptime });
    // zigbee2mqtt divides bytes by 1024 twice for memory_used_mb.
    if (memory !== undefined) state.setBroker({ metric: M.z2mMemory, labels: { base_topic: base }, value: Math.round(memory * 1024 * 1024) });
    return 'processed';
  }
  if (rest.startsWith('bridge/')) return 'ignored';
  if (/\/(set|get)(\/.*)?$/.test(rest)) return 'ignored';
  const isAvailability = rest.endsWith('/availability');
  const name = deviceName(isAvailability ? rest.slice(0, -'/availability'.length) : rest);
  // Not announced by zigbee2mqtt (or a group): not a device.
  if (!state.admits(source, name)) return 'unknown_topic';
  if (isAvailability) {
    const a = parseAvailability(text);
    if (a === 'cleared') state.removeDevice(source, name);
    else state.setOnline(source, name, a === 'unknown' ? undefined : a === 'online');
    return a === 'unknown' ? 'unknown_state' : 'processed';
  }
  // A device's state message.
  const obj = parseJsonObject(text);
  if (!obj) return text.trim() === '' ? 'ignored' : 'not_json';
  const at = madeAt(obj, m, now);
  // Live, or retained with its own last_seen: a real sign of life at that time.
  if (at !== undefined) state.seen(source, name, at);
  for (const d of Z2M_DEFAULTS) {
    const raw = obj[d.field];
    if (raw === undefined || raw === null) continue;
    const v = strictNumber(raw);
    if (v === undefined) state.droppedValues.not_number += 1;
    else if (at === undefined) state.droppedValues.retained_unknown_age += 1;
    else if (now - at > c.ttl) state.droppedValues.stale += 1;
    else state.setValue(source, name, d.metric, {}, v * d.scale, at);
  }
  return 'processed';
}

/** Tasmota: tele/<device>/LWT, STATE, SENSOR and stat/<device>/RESULT. */
function handleTasmota(c: MqttConfig, state: MqttState, m: Message, text: string, now: number): MessageResult | undefined {
  const source = 'tasmota';
  const tele = matchTopic(`${c.tasmota.prefix}/+/+`, m.topic);
  const stat = tele ? undefined : matchTopic(`${c.tasmota.stat_prefix}/+/RESULT`, m.topic);
  const t = tele ?? stat;
  if (!t) return undefined;
  const name = deviceName(t[1] as string);
  const kind = stat ? 'RESULT' : (t[2] as string);
  if (kind === 'LWT') {
    const a = parseAvailability(text);
    if (a === 'cleared') state.removeDevice(source, name);
    else {
      state.setOnline(source, name, a === 'unknown' ? undefined : a === 'online');
      // The device's own "Online" is a sign of life; "Offline" is its will, sent by the broker.
      if (a === 'online' && !m.retain) state.seen(source, name, now);
    }
    return a === 'unknown' ? 'unknown_state' : 'processed';
  }
  if (kind !== 'STATE' && kind !== 'SENSOR' && kind !== 'RESULT') return 'ignored';
  const obj = parseJsonObject(text);
  if (!obj) return 'not_json';
  if (m.retain) return 'ignored'; // telemetry is not retained by Tasmota; a retained copy is history without an age
  if (!state.seen(source, name, now)) return 'ignored';
  if (kind === 'STATE') {
    const st = parseTasmotaState(obj);
    if (st.uptimeSeconds !== undefined) state.setUptime(source, name, st.uptimeSeconds, now);
    if (st.wifiSignalDbm !== undefined) state.setValue(source, name, M.wifiSignal, {}, st.wifiSignalDbm, now);
    for (const [relay, on] of st.relays) state.setValue(source, name, M.relayOn, { relay }, on ? 1 : 0, now);
    if (st.clockSynced !== undefined) state.setValue(source, name, M.clockSynced, {}, st.clockSynced ? 1 : 0, now);
  } else if (kind === 'SENSOR') {
    const sn = parseTasmotaSensor(obj);
    const e = sn.energy;
    if (e?.totalJoules !== undefined) state.setValue(source, name, M.energy, {}, e.totalJoules, now);
    if (e?.powerWatts !== undefined) state.setValue(source, name, M.power, {}, e.powerWatts, now);
    if (e?.voltageVolts !== undefined) state.setValue(source, name, M.voltage, {}, e.voltageVolts, now);
    if (e?.currentAmperes !== undefined) state.setValue(source, name, M.current, {}, e.currentAmperes, now);
    for (const r of sn.readings) {
      state.sensorSeen(source, name, r.sensor, now);
      if (r.temperatureCelsius !== undefined) state.setValue(source, name, M.sensorTemperature, { sensor: r.sensor }, r.temperatureCelsius, now);
      if (r.humidityRatio !== undefined) state.setValue(source, name, M.sensorHumidity, { sensor: r.sensor }, r.humidityRatio, now);
    }
    if (sn.clockSynced !== undefined) state.setValue(source, name, M.clockSynced, {}, sn.clockSynced ? 1 : 0, now);
  }
  return 'processed';
}

/** The source a declared topic's device belongs to: a Tasmota topic is its Tasmota device. */
function declaredSource(c: MqttConfig, topic: string): string {
  return c.tasmota.enabled && (matchTopic(`${c.tasmota.prefix}/+/#`, topic) || matchTopic(`${c.tasmota.stat_prefix}/+/#`, topic)) ? 'tasmota' : 'custom';
}

/** Applies one message; returns how it was counted. */
export function handleMessage(c: MqttConfig, state: MqttState, m: Message, now: number): MessageResult {
  if (m.payload.length > (isInventoryTopic(c, m.topic) ? c.zigbee2mqtt.max_inventory_bytes : c.max_payload_bytes)) return 'too_large';
  const text = m.payload.toString('utf8');
  if (m.topic.startsWith('$SYS/')) {
    const v = parseSys(m.topic, text);
    if (v) state.setBroker(v);
    return v ? 'processed' : 'ignored';
  }
  // A message several rules read counts once: as its failure if one failed.
  const results: MessageResult[] = [];
  if (c.zigbee2mqtt.enabled) {
    const r = handleZigbee2mqtt(c, state, m, text, now);
    if (r) results.push(r);
  }
  if (c.tasmota.enabled) {
    const r = handleTasmota(c, state, m, text, now);
    if (r) results.push(r);
  }
  for (const av of c.availability) {
    const t = matchTopic(av.topic, m.topic);
    const name = t?.[av.device_level];
    if (!t || name === undefined) continue;
    const a = parseAvailability(text, av.online, av.offline);
    if (a === 'cleared') state.removeDevice('custom', deviceName(name));
    else state.setOnline('custom', deviceName(name), a === 'unknown' ? undefined : a === 'online');
    results.push(a === 'unknown' ? 'unknown_state' : 'processed');
  }
  for (const dm of c.metrics) {
    const t = matchTopic(dm.topic, m.topic);
    const name = t?.[dm.device_level];
    if (!t || name === undefined) continue;
    const v = payloadValue(text, dm.field, dm.values);
    const source = declaredSource(c, dm.topic);
    if (!v.ok) {
      if (v.reason === 'not_number') state.droppedValues.not_number += 1;
      results.push(v.reason === 'missing' ? 'ignored' : v.reason);
    } else if (m.retain) {
      state.droppedValues.retained_unknown_age += 1; // a retained reading has no age: history, not the present
      results.push('processed');
    } else {
      state.setValue(source, deviceName(name), dm.name, {}, v.value * dm.scale, now);
      state.seen(source, deviceName(name), now);
      results.push('processed');
    }
  }
  return results.find((r) => r !== 'processed' && r !== 'ignored' && r !== 'unknown_topic') ?? (results.includes('processed') ? 'processed' : results.includes('unknown_topic') ? 'unknown_topic' : 'ignored');
}
