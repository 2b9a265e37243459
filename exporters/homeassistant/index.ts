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
    ping_interval: Type.Optional(Duration({ default: '30s', description: 'WebSocket ping; no pong in 10 s means reconnect.' })),
    include_domains: list('Only these domains (sensor, binary_sensor, ...).'),
    exclude_domains: list('Not these domains.'),
    include_entities: list('Only entities matching these globs (sensor.*_temperature).'),
    exclude_entities: list('Not entities matching these globs.'),
    include_integrations: list('Only entities of these integrations (zha, mqtt, ...).'),
    exclude_integrations: list('Not entities of these integrations.'),
    max_series: Type.Optional(Type.Integer({ minimum: 10, default: 20000, description: 'Series budget of the instance.' })),
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
