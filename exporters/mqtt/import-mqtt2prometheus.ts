/**
 * Pure: an mqtt2prometheus config (its Readme's format) as the equivalent HomeStation
 * `mqtt` instance, and the list of what does not translate. The user's metric names
 * are kept (their dashboards keep working); the device label is `device`, where
 * mqtt2prometheus writes `sensor`. Secrets are never copied: the password goes to a
 * file the output names.
 */
import { parse, stringify } from 'yaml';

interface M2PMetric {
  prom_name?: unknown;
  mqtt_name?: unknown;
  help?: unknown;
  type?: unknown;
  mqtt_value_scale?: unknown;
  const_labels?: unknown;
  string_value_mapping?: { map?: Record<string, unknown>; error_value?: unknown };
  sensor_name_filter?: unknown;
  expires?: unknown;
  force_monotonicy?: unknown;
  raw_expression?: unknown;
  expression?: unknown;
}
interface M2PConfig {
  mqtt?: {
    server?: unknown;
    user?: unknown;
    password?: unknown;
    ca_cert?: unknown;
    client_cert?: unknown;
    client_key?: unknown;
    client_id?: unknown;
    topic_path?: unknown;
    device_id_regex?: unknown;
    metric_per_topic_config?: unknown;
  };
  cache?: { timeout?: unknown };
  json_parsing?: { separator?: unknown };
  metrics?: M2PMetric[];
}

export interface Imported {
  /** The HomeStation config, YAML, with the notes as comments on top. */
  readonly yaml: string;
  /** What does not translate, one line each. */
  readonly notes: readonly string[];
}

export class ImportError extends Error {}

const DEFAULT_DEVICE_REGEX = '(.*/)?(?P<deviceid>.*)';

/**
 * Which topic level the device id regex picks: a sample topic from the topic path
 * (each wildcard a distinct level) is matched, and the captured id must be exactly
 * one of its levels. Undefined when it is not one whole level.
 */
export function deviceLevel(topicPath: string, regex: string): number | undefined {
  const levels = topicPath.split('/').map((l, i) => (l === '+' ? `level${i}x` : l === '#' ? `rest${i}x` : l));
  let re: RegExp;
  try {
    re = new RegExp(`^(?:${regex.replace(/\(\?P</g, '(?<')})$`); // Go's (?P<name>) is JS's (?<name>)
  } catch {
    return undefined;
  }
  const id = re.exec(levels.join('/'))?.groups?.deviceid;
  if (id === undefined) return undefined;
  const at = levels.indexOf(id);
  return at >= 0 && topicPath.split('/')[at] === '+' ? at : undefined;
}

/** Go durations (24h, 60m, 1h30m, 90s) are Prometheus durations here; ms and fractions are not. */
function duration(v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined;
  return /^(\d+(h|m|s))+$/.test(v) ? v : undefined;
}

export function importMqtt2prometheus(text: string, instanceName = 'mqtt2prometheus'): Imported {
  let cfg: M2PConfig;
  try {
    cfg = (parse(text) ?? {}) as M2PConfig;
  } catch (err) {
    throw new ImportError(`not YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  const notes: string[] = [];
  const mqtt = cfg.mqtt;
  if (typeof mqtt?.server !== 'string') throw new ImportError('mqtt.server is missing: is this an mqtt2prometheus config?');
  if (typeof mqtt.topic_path !== 'string') throw new ImportError('mqtt.topic_path is missing');
  const topic = mqtt.topic_path;
  const regex = typeof mqtt.device_id_regex === 'string' ? mqtt.device_id_regex : DEFAULT_DEVICE_REGEX;
  let level = deviceLevel(topic, regex);
  if (level === undefined) {
    level = topic.split('/').length - 1;
    notes.push(`mqtt.device_id_regex "${regex}" does not pick one level of "${topic}": device_level ${level} (the last) is a guess; check it`);
  }
  if (mqtt.metric_per_topic_config !== undefined) {
    notes.push('mqtt.metric_per_topic_config (the metric name from the topic) does not translate: declare one metric per topic filter, without field');
  }
  const separator = typeof cfg.json_parsing?.separator === 'string' ? cfg.json_parsing.separator : '.';
  const instance: Record<string, unknown> = { name: instanceName, url: mqtt.server };
  if (typeof mqtt.user === 'string') instance.username = mqtt.user;
  if (mqtt.password !== undefined) {
    instance.password_file = '/etc/homestation/mqtt.pass';
    notes.push('mqtt.password is not copied: put it in /etc/homestation/mqtt.pass (or change password_file)');
  }
  if (typeof mqtt.ca_cert === 'string') instance.ca_file = mqtt.ca_cert;
  if (typeof mqtt.client_cert === 'string') instance.cert_file = mqtt.client_cert;
  if (typeof mqtt.client_key === 'string') instance.key_file = mqtt.client_key;
  if (typeof mqtt.client_id === 'string') instance.client_id = mqtt.client_id;
  // mqtt2prometheus only reads what it is told to: nothing else of HomeStation's.
  instance.sys = false;
  instance.zigbee2mqtt = { enabled: false };
  instance.tasmota = { enabled: false };

  const timeout = cfg.cache?.timeout;
  if (timeout === -1 || timeout === '-1') {
    instance.ttl = '3650d';
    notes.push('cache.timeout -1 (never expire): ttl 3650d');
  } else if (timeout !== undefined) {
    const d = duration(timeout);
    if (d) instance.ttl = d;
    else notes.push(`cache.timeout ${JSON.stringify(timeout)} is not a duration HomeStation reads: the default ttl (15m) applies`);
  }

  const metrics: Record<string, unknown>[] = [];
  let longestExpiry: string | undefined;
  for (const [i, m] of (cfg.metrics ?? []).entries()) {
    const name = typeof m.prom_name === 'string' ? m.prom_name : undefined;
    if (!name || !/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(name)) {
      notes.push(`metrics[${i}]: prom_name ${JSON.stringify(m.prom_name)} is not a Prometheus metric name: skipped`);
      continue;
    }
    const type = m.type === 'counter' ? 'counter' : 'gauge';
    const out: Record<string, unknown> = {
      name,
      help: typeof m.help === 'string' && m.help.length >= 5 ? m.help : `${name} from MQTT (imported from mqtt2prometheus)`,
      ...(type === 'counter' ? { type } : {}),
      topic,
      device_level: level,
    };
    if (mqtt.metric_per_topic_config === undefined && typeof m.mqtt_name === 'string') out.field = m.mqtt_name.split(separator).join('.');
    if (typeof m.mqtt_value_scale === 'number' && m.mqtt_value_scale !== 0 && m.mqtt_value_scale !== 1) out.scale = m.mqtt_value_scale;
    const map = m.string_value_mapping?.map;
    if (map && typeof map === 'object') {
      out.values = Object.fromEntries(Object.entries(map).filter(([, v]) => typeof v === 'number'));
      if (m.string_value_mapping?.error_value !== undefined) {
        notes.push(`${name}: string_value_mapping.error_value does not translate: an unmapped string is dropped and counted (homestation_mqtt_dropped_values_total{reason="not_number"})`);
      }
    }
    if (m.const_labels !== undefined) notes.push(`${name}: const_labels do not translate: add them with Prometheus relabeling (metric_relabel_configs)`);
    if (m.sensor_name_filter !== undefined) notes.push(`${name}: sensor_name_filter does not translate: narrow the topic filter instead`);
    if (m.force_monotonicy !== undefined) notes.push(`${name}: force_monotonicy does not translate: rate() and increase() handle counter resets`);
    if (m.raw_expression !== undefined || m.expression !== undefined) notes.push(`${name}: expressions do not translate: use scale, or a recording rule`);
    const expiry = duration(m.expires);
    if (m.expires !== undefined) {
      if (expiry && (!longestExpiry || parseSeconds(expiry) > parseSeconds(longestExpiry))) longestExpiry = expiry;
      notes.push(`${name}: expires ${JSON.stringify(m.expires)} is per metric there; HomeStation's ttl is per instance`);
    }
    metrics.push(out);
  }
  if (longestExpiry && !instance.ttl) instance.ttl = longestExpiry;
  instance.metrics = metrics;
  notes.push('series carry device="<id>" (mqtt2prometheus: sensor="<id>") and no topic label: adjust dashboards that select on sensor or topic');

  const header = [
    '# HomeStation config imported from mqtt2prometheus (`homestation import mqtt2prometheus FILE`).',
    '# What does not translate:',
    ...notes.map((n) => `#   - ${n}`),
  ].join('\n');
  return { yaml: `${header}\n${stringify({ exporters: { mqtt: [instance] } })}`, notes };
}

function parseSeconds(d: string): number {
  let s = 0;
  for (const m of d.matchAll(/(\d+)(h|m|s)/g)) s += Number(m[1]) * (m[2] === 'h' ? 3600 : m[2] === 'm' ? 60 : 1);
  return s;
}
