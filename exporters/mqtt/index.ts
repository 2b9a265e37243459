/**
 * MQTT: is the broker healthy, is every device alive and reporting, and what do
 * they report? One instance per broker; a stream exporter: it subscribes once and
 * keeps its state current from messages, and a scrape only reads that state.
 */
import { defineExporter, type ConfigProblem, type MetricSpec } from '../../collector/contract.js';
import { mqttMetrics } from './metrics.js';
import { reviewMqtt } from './review.js';
import { mqttSchema, type MqttConfig } from './schema.js';

export const mqtt = defineExporter<MqttConfig>({
  name: 'mqtt',
  description: 'Broker health ($SYS), device availability and freshness (zigbee2mqtt, Tasmota, LWT) and payload metrics.',
  schema: mqttSchema,
  defaults: { interval: '30s', timeout: '10s' },
  metrics: mqttMetrics,
  review: reviewMqtt,
  configuredMetrics(config) {
    return (config.metrics ?? []).map(
      (m): MetricSpec => ({ name: m.name, type: m.type, help: m.help, ...(m.unit ? { unit: m.unit } : {}), labels: ['device', 'source'] }),
    );
  },
  validate(config) {
    const problems: ConfigProblem[] = [];
    if (config.password !== undefined && config.password_file !== undefined) {
      problems.push({ path: ['password'], message: 'set password or password_file, not both' });
    }
    const builtin = new Set(mqttMetrics.map((m) => m.name));
    const seen = new Set<string>();
    config.metrics.forEach((m, i) => {
      if (builtin.has(m.name)) problems.push({ path: ['metrics', i, 'name'], message: `${m.name} is a built-in metric; pick another name` });
      else if (m.name.startsWith('homestation_') && !m.name.startsWith('homestation_mqtt_')) {
        problems.push({ path: ['metrics', i, 'name'], message: `${m.name}: names under homestation_ are HomeStation's own (use homestation_mqtt_... or a name of yours)` });
      } else if (m.name === 'up' || m.name.startsWith('scrape_')) {
        problems.push({ path: ['metrics', i, 'name'], message: `${m.name} is Prometheus' own; pick another name` });
      }
      if (seen.has(m.name)) problems.push({ path: ['metrics', i, 'name'], message: `duplicate metric ${m.name}` });
      seen.add(m.name);
      if (m.type === 'counter' && !m.name.endsWith('_total')) problems.push({ path: ['metrics', i, 'name'], message: 'a counter name ends in _total' });
      if (m.type === 'gauge' && m.name.endsWith('_total')) problems.push({ path: ['metrics', i, 'name'], message: 'only counters end in _total' });
    });
    return problems;
  },
  async create(ctx, config) {
    // The connection code and mqtt.js load only when an instance is configured.
    const { createMqttInstance } = await import('./instance.js');
    return createMqttInstance(ctx, config);
  },
});
