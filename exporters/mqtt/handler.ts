/**
 * Pure with respect to I/O: one MQTT message applied to the state. Everything
 * it does is decided by the config and the message; the connection code only calls
 * `handleMessage`.
 */
import { M } from './metrics.js';
import { parseAvailability } from './parse/availability.js';
import { matchTopic, parseJsonObject, payloadValue, toNumber } from './parse/payload.js';
import { parseSys } from './parse/sys.js';
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

function handleZigbee2mqtt(c: MqttConfig, state: MqttState, m: Message, text: string, now: number): MessageResult | undefined {
  const base = c.zigbee2mqtt.base_topic;
  if (!m.topic.startsWith(`${base}/`)) return undefined;
  const rest = m.topic.slice(base.length + 1);
  if (rest === 'bridge/state') {
    const a = parseAvailability(text);
    if (a === 'online' || a === 'offline') state.setBridge(base, a === 'online');
    return a === 'unknown' ? 'not_json' : 'processed';
  }
  if (rest === 'bridge/devices') {
    let list: unknown;
    try {
      list = JSON.parse(text);
    } catch {
      return 'not_json';
    }
    if (!Array.isArray(list)) return 'not_json';
    const names = new Set<string>();
    for (const d of list as { friendly_name?: unknown; ieee_address?: unknown; type?: unknown; definition?: { vendor?: unknown; model?: unknown } | null }[]) {
      if (typeof d?.friendly_name !== 'string' || d.type === 'Coordinator') continue;
      const name = deviceName(d.friendly_name);
      names.add(name);
      state.setInfo('zigbee2mqtt', name, {
        ieee_address: typeof d.ieee_address === 'string' ? d.ieee_address : '',
        vendor: typeof d.definition?.vendor === 'string' ? d.definition.vendor : '',
        model: typeof d.definition?.model === 'string' ? d.definition.model : '',
      });
    }
    // Devices gone from the list (removed, or renamed while we were away) lose their series.
    for (const old of state.deviceNames('zigbee2mqtt')) if (!names.has(old)) state.removeDevice('zigbee2mqtt', old);
    return 'processed';
  }
  if (rest === 'bridge/response/device/rename') {
    const obj = parseJsonObject(text) as { status?: string; data?: { from?: unknown } } | undefined;
    if (!obj) return 'not_json';
    if (obj.status === 'ok' && typeof obj.data?.from === 'string') state.removeDevice('zigbee2mqtt', deviceName(obj.data.from));
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
  if (rest.endsWith('/availability')) {
    const name = deviceName(rest.slice(0, -'/availability'.length));
    const a = parseAvailability(text);
    if (a === 'cleared') state.removeDevice('zigbee2mqtt', name);
    else if (a === 'online' || a === 'offline') state.setOnline('zigbee2mqtt', name, a === 'online');
    else return 'not_json';
    return 'processed';
  }
  if (/\/(set|get)(\/.*)?$/.test(rest)) return 'ignored';
  // A device's state message.
  const obj = parseJsonObject(text);
  if (!obj) return text.trim() === '' ? 'ignored' : 'not_json';
  const name = deviceName(rest);
  if (!m.retain) state.seen('zigbee2mqtt', name, now);
  for (const d of Z2M_DEFAULTS) {
    const v = toNumber(obj[d.field]);
    if (v !== undefined) state.setValue('zigbee2mqtt', name, d.metric, {}, v * d.scale, now);
  }
  return 'processed';
}

/** Applies one message; returns how it was counted. */
export function handleMessage(c: MqttConfig, state: MqttState, m: Message, now: number): MessageResult {
  if (m.payload.length > c.max_payload_bytes) return 'too_large';
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
    const t = matchTopic(`${c.tasmota.prefix}/+/LWT`, m.topic);
    if (t) {
      const name = deviceName(t[1] as string);
      const a = parseAvailability(text);
      if (a === 'cleared') state.removeDevice('tasmota', name);
      else if (a === 'online' || a === 'offline') {
        state.setOnline('tasmota', name, a === 'online');
        if (!m.retain) state.seen('tasmota', name, now);
      }
      results.push(a === 'unknown' ? 'not_json' : 'processed');
    }
  }
  for (const av of c.availability) {
    const t = matchTopic(av.topic, m.topic);
    const name = t?.[av.device_level];
    if (!t || name === undefined) continue;
    const a = parseAvailability(text, av.online, av.offline);
    if (a === 'cleared') state.removeDevice('custom', deviceName(name));
    else if (a !== 'unknown') state.setOnline('custom', deviceName(name), a === 'online');
    results.push(a === 'unknown' ? 'not_json' : 'processed');
  }
  for (const dm of c.metrics) {
    const t = matchTopic(dm.topic, m.topic);
    const name = t?.[dm.device_level];
    if (!t || name === undefined) continue;
    const v = payloadValue(text, dm.field);
    if (v.ok) {
      state.setValue('custom', deviceName(name), dm.name, {}, v.value * dm.scale, now);
      if (!m.retain) state.seen('custom', deviceName(name), now);
      results.push('processed');
    } else results.push(v.reason === 'missing' ? 'ignored' : v.reason);
  }
  return results.find((r) => r !== 'processed' && r !== 'ignored') ?? (results.includes('processed') ? 'processed' : 'ignored');
}
