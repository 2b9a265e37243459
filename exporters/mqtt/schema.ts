/** Config schema of the MQTT exporter: one instance per broker. */
import { Type } from '@sinclair/typebox';
import { Duration, Secret, SecretFile, StringEnum } from '../../collector/config/schema-types.js';

export const mqttSchema = Type.Object({
  url: Type.String({ pattern: '^(mqtt|mqtts|tcp|ssl|ws|wss)://', description: 'The broker: mqtt://host:1883, or mqtts://host:8883 for TLS.' }),
  username: Type.Optional(Type.String()),
  password: Type.Optional(Secret('The password; prefer password_file.')),
  password_file: Type.Optional(SecretFile('A file holding the password.')),
  ca_file: Type.Optional(Type.String({ description: 'CA certificate that signed the broker certificate (TLS).' })),
  cert_file: Type.Optional(Type.String({ description: 'Client certificate for mutual TLS.' })),
  key_file: Type.Optional(SecretFile('Client key for mutual TLS.')),
  protocol_version: Type.Optional(Type.Unsafe<4 | 5>({ type: 'integer', enum: [4, 5], default: 4, description: '4 = MQTT 3.1.1, 5 = MQTT 5.' })),
  client_id: Type.Optional(Type.String({ description: 'Default: homestation-<instance name>.' })),
  keepalive: Type.Optional(Duration({ default: '30s', description: 'MQTT keepalive.' })),
  sys: Type.Optional(Type.Boolean({ default: true, description: "Read the broker's health from $SYS/#." })),
  zigbee2mqtt: Type.Optional(
    Type.Object(
      {
        enabled: Type.Optional(Type.Boolean({ default: true })),
        base_topic: Type.Optional(Type.String({ default: 'zigbee2mqtt' })),
        max_inventory_bytes: Type.Optional(
          Type.Integer({
            minimum: 1024,
            default: 4 * 1024 * 1024,
            description: 'Size limit of bridge/devices and bridge/groups (about 1.6 KB a device: 4 MiB fits some 2,500 devices).',
          }),
        ),
      },
      {
        additionalProperties: false,
        default: {},
        description:
          'zigbee2mqtt bridge state, devices announced on bridge/devices (groups of bridge/groups are not devices and are not exported), availability and default sensor values.',
      },
    ),
  ),
  tasmota: Type.Optional(
    Type.Object(
      {
        enabled: Type.Optional(Type.Boolean({ default: true })),
        prefix: Type.Optional(Type.String({ default: 'tele', description: "Tasmota's telemetry prefix (LWT, STATE, SENSOR)." })),
        stat_prefix: Type.Optional(Type.String({ default: 'stat', description: "Tasmota's status prefix (RESULT)." })),
      },
      { additionalProperties: false, default: {}, description: 'Tasmota devices: LWT, STATE (uptime, restarts, Wi-Fi, relays) and SENSOR (energy, temperature and humidity probes).' },
    ),
  ),
  availability: Type.Optional(
    Type.Array(
      Type.Object(
        {
          topic: Type.String({ description: 'Topic filter, e.g. "home/+/status".' }),
          device_level: Type.Integer({ minimum: 0, description: 'Which topic level (0-based) names the device.' }),
          online: Type.Optional(Type.Array(Type.String(), { default: ['online'] })),
          offline: Type.Optional(Type.Array(Type.String(), { default: ['offline'] })),
        },
        { additionalProperties: false },
      ),
      { default: [], description: 'Availability or LWT topics of other devices.' },
    ),
  ),
  metrics: Type.Optional(
    Type.Array(
      Type.Object(
        {
          name: Type.String({
            pattern: '^[a-zA-Z_][a-zA-Z0-9_]*$',
            description: 'Metric name as Prometheus takes it (base units, _total for counters); any name that is not one of HomeStation\'s own.',
          }),
          help: Type.String({ minLength: 5 }),
          type: Type.Optional(StringEnum(['gauge', 'counter'] as const, { default: 'gauge', description: 'gauge or counter.' })),
          unit: Type.Optional(Type.String()),
          topic: Type.String({ description: 'Topic filter, e.g. "shellies/+/relay/0/power".' }),
          device_level: Type.Integer({ minimum: 0, description: 'Which topic level (0-based) names the device.' }),
          field: Type.Optional(Type.String({ description: 'Field of a JSON payload (dotted path); without it the payload is the number.' })),
          scale: Type.Optional(Type.Number({ default: 1, description: 'Multiplier, e.g. 0.01 for percent to ratio.' })),
          values: Type.Optional(
            Type.Record(Type.String(), Type.Number(), { description: 'String payloads to numbers, e.g. { open: 1, closed: 0 } (mqtt2prometheus string_value_mapping).' }),
          ),
        },
        { additionalProperties: false },
      ),
      { default: [], description: "Payload metrics (mqtt2prometheus's model)." },
    ),
  ),
  ttl: Type.Optional(Duration({ default: '15m', description: 'Values of a device that stops reporting are dropped after this.' })),
  reconnect_max: Type.Optional(
    Duration({ default: '1s', description: 'Longest wait between reconnection attempts (from 250 ms, doubling); a LAN broker is back in about this long.' }),
  ),
  max_series: Type.Optional(Type.Integer({ minimum: 10, default: 10000, description: 'Series budget of the instance.' })),
  max_payload_bytes: Type.Optional(Type.Integer({ minimum: 16, default: 65536, description: 'Larger payloads are counted and ignored.' })),
});

export interface DeclaredMetric {
  name: string;
  help: string;
  type: 'gauge' | 'counter';
  unit?: string;
  topic: string;
  device_level: number;
  field?: string;
  scale: number;
  values?: Record<string, number>;
}

export interface MqttConfig {
  url: string;
  username?: string;
  password?: string;
  password_file?: string;
  ca_file?: string;
  cert_file?: string;
  key_file?: string;
  protocol_version: 4 | 5;
  client_id?: string;
  keepalive: number;
  sys: boolean;
  zigbee2mqtt: { enabled: boolean; base_topic: string; max_inventory_bytes: number };
  tasmota: { enabled: boolean; prefix: string; stat_prefix: string };
  availability: { topic: string; device_level: number; online: string[]; offline: string[] }[];
  metrics: DeclaredMetric[];
  ttl: number;
  reconnect_max: number;
  max_series: number;
  max_payload_bytes: number;
}
