/**
 * Home Assistant: is HA up, which integrations failed, which devices are
 * unavailable, which sensors went silent, which batteries are low. A stream
 * exporter over HA's WebSocket API: a scrape costs HA no request.
 */
import { Type } from '@sinclair/typebox';
import { Duration, Secret, SecretFile } from '../../collector/config/schema-types.js';
import { defineExporter, type ConfigProblem } from '../../collector/contract.js';
import { haMetrics } from './metrics.js';
import { reviewHomeAssistant } from './review.js';

export interface HaConfig {
  url: string;
  token?: string;
  token_file?: string;
  ping_interval: number;
  ping_timeout: number;
  last_reported_refresh: number;
  battery_low: number;
  silent_sensors: { entities: string[]; device_classes: string[]; after: number }[];
  include_domains: string[];
  exclude_domains: string[];
  include_entities: string[];
  exclude_entities: string[];
  include_integrations: string[];
  exclude_integrations: string[];
  max_series: number;
}

const list = (description: string) => Type.Optional(Type.Array(Type.String(), { default: [], description }));

export const homeassistant = defineExporter<HaConfig>({
  name: 'homeassistant',
  description: 'Home Assistant: up and responsive, failed integrations, unavailable devices, silent sensors, low batteries.',
  schema: Type.Object({
    url: Type.String({ pattern: '^https?://', description: 'Home Assistant, e.g. http://homeassistant.local:8123.' }),
    token: Type.Optional(Secret('A long-lived access token; prefer token_file.')),
    token_file: Type.Optional(SecretFile('A file holding the long-lived access token.')),
    ping_interval: Type.Optional(Duration({ default: '5s', description: 'A ping goes out when HA has sent nothing for this long (any message is a sign of life).' })),
    ping_timeout: Type.Optional(
      Duration({ default: '5s', description: 'No answer to a ping in this long: HA hangs; reconnect. A hang is noticed within 1.5 x ping_interval + ping_timeout (12.5 s by default).' }),
    ),
    last_reported_refresh: Type.Optional(
      Duration({
        default: '5m',
        description:
          "How often last_reported is read again with get_states (HA pushes no event when a sensor reports the same value); 0s: never, and last_reported is then as of the last change.",
      }),
    ),
    battery_low: Type.Optional(
      Type.Number({ minimum: 0, maximum: 1, default: 0.15, description: 'A battery below this ratio is low (homestation_homeassistant_device_battery_low); binary battery sensors say so themselves.' }),
    ),
    silent_sensors: Type.Optional(
      Type.Array(
        Type.Object(
          {
            entities: Type.Optional(Type.Array(Type.String(), { default: [], description: 'Entity globs, e.g. sensor.*_power.' })),
            device_classes: Type.Optional(Type.Array(Type.String(), { default: [], description: 'Device classes, e.g. temperature, power.' })),
            after: Duration({ description: 'Silent (not even reporting the same value) this long is an alert (HomeAssistantSensorSilent).' }),
          },
          { additionalProperties: false },
        ),
        { default: [], description: 'Opt-in silent-sensor alerts: entities matching an entry (any glob or device class) get a threshold.' },
      ),
    ),
    include_domains: list('Only these domains (sensor, binary_sensor, ...).'),
    exclude_domains: list('Not these domains.'),
    include_entities: list('Only entities matching these globs (sensor.*_temperature).'),
    exclude_entities: list('Not entities matching these globs.'),
    include_integrations: list('Only entities of these integrations (zha, mqtt, ...).'),
    exclude_integrations: list('Not entities of these integrations.'),
    max_series: Type.Optional(
      Type.Integer({
        minimum: 10,
        default: 40000,
        description: 'Series budget of the entity series (about 7 per entity: 40000 fits 5,000 entities); health series (integrations, devices, batteries, counts) are never dropped.',
      }),
    ),
  }),
  defaults: { interval: '30s', timeout: '10s' },
  metrics: haMetrics,
  review: reviewHomeAssistant,
  validate(config) {
    const problems: ConfigProblem[] = [];
    if ((config.token === undefined) === (config.token_file === undefined)) {
      problems.push({ path: [], message: 'set token_file (or token) to a long-lived access token' });
    }
    return problems;
  },
  async create(ctx, config) {
    // The WebSocket client and the model load only when an instance is configured.
    const { createHaInstance } = await import('./instance.js');
    return createHaInstance(ctx, config);
  },
});
