/** The MQTT exporter's connection and state, loaded only when an instance is configured. */
import { readFileSync } from 'node:fs';
import type { MqttClient } from 'mqtt';
import { ExporterError, type InstanceBase, type InstanceContext, type StreamInstance } from '../../collector/contract.js';
import { handleMessage } from './handler.js';
import type { MqttConfig } from './schema.js';
import { MqttState } from './state.js';
import { directTransport } from './transport.js';

/** CONNACK codes of a refused login: 3.1.1 (4, 5) and 5.0 (134, 135). */
const AUTH_CODES = new Set([4, 5, 134, 135]);
/** The first reconnection attempt after a drop; doubling to reconnect_max. */
const BACKOFF_MIN_MS = 250;

export async function createMqttInstance(ctx: InstanceContext, config: MqttConfig & InstanceBase): Promise<StreamInstance> {
  // Loaded only when an MQTT instance is configured.
  const { connect, MqttClient } = await import('mqtt');
  const state = new MqttState(config.ttl, config.max_series, ctx.log);
  let client: MqttClient | undefined;
  let lastError: ExporterError | undefined = new ExporterError('unreachable', `not connected to ${config.url} yet`);
  let backoff = BACKOFF_MIN_MS;
  let everConnected = false;

  const topics = (): string[] => [
    ...(config.sys ? ['$SYS/#'] : []),
    ...(config.zigbee2mqtt.enabled ? [`${config.zigbee2mqtt.base_topic}/#`] : []),
    ...(config.tasmota.enabled ? [`${config.tasmota.prefix}/+/+`, `${config.tasmota.stat_prefix}/+/RESULT`] : []),
    ...config.availability.map((a) => a.topic),
    ...config.metrics.map((m) => m.topic),
  ];

  return {
    mode: 'stream',
    async start() {
      const password = config.password_file ? readFileSync(config.password_file, 'utf8').replace(/\r?\n$/, '') : config.password;
      const tls = {
        ...(config.ca_file ? { ca: readFileSync(config.ca_file) } : {}),
        ...(config.cert_file ? { cert: readFileSync(config.cert_file) } : {}),
        ...(config.key_file ? { key: readFileSync(config.key_file) } : {}),
      };
      const options = {
        clientId: config.client_id ?? `homestation-${ctx.instance}-${process.pid}`,
        username: config.username,
        password,
        protocolVersion: config.protocol_version,
        keepalive: Math.round(config.keepalive / 1000),
        reconnectPeriod: backoff,
        connectTimeout: 10_000,
        clean: true,
        resubscribe: true,
        // mqtt-packet otherwise builds 65,536 two-byte Buffers on the first write (about
        // 7 MB of heap, for a client that writes only subscribes, acks and pings).
        writeCache: false,
        ...tls,
      };
      // TCP and TLS without the transports connect() loads (transport.ts says why).
      const direct = directTransport(config.url, tls);
      client = direct
        ? new MqttClient(direct.stream, { ...options, ...(direct.username ? { username: direct.username } : {}), ...(direct.password ? { password: direct.password } : {}) })
        : connect(config.url, options);
      client.on('connect', () => {
        if (everConnected) state.reconnects += 1;
        everConnected = true;
        state.connected = true;
        lastError = undefined;
        ctx.reportSuccess();
        // Back from an outage: the next drop is retried at once again.
        backoff = BACKOFF_MIN_MS;
        if (client) client.options.reconnectPeriod = backoff;
        // Subscribed on every connect: a clean session keeps no subscriptions.
        client?.subscribe(
          topics().map((t) => t),
          { qos: 1 },
          (err) => {
            if (err) ctx.log.error({ err: err.message }, 'subscribe failed');
          },
        );
        ctx.log.info({ url: config.url, topics: topics() }, 'connected to the MQTT broker');
      });
      client.on('close', () => {
        if (state.connected && client) {
          ctx.log.warn({ url: config.url }, 'disconnected from the MQTT broker; reconnecting');
          lastError = new ExporterError('unreachable', `disconnected from ${config.url}`, { hint: 'is the broker running and reachable?' });
          ctx.reportError(lastError);
        }
        state.connected = false;
        lastError ??= new ExporterError('unreachable', `disconnected from ${config.url}`);
        // mqtt.js has scheduled this attempt already; back off the next: 250 ms doubling to reconnect_max.
        backoff = Math.min(backoff * 2, config.reconnect_max);
        if (client) client.options.reconnectPeriod = backoff;
      });
      client.on('error', (err: Error & { code?: number | string }) => {
        if (typeof err.code === 'number' && AUTH_CODES.has(err.code)) {
          state.authFailures += 1;
          lastError = new ExporterError('auth', `the broker refused the login: ${err.message}`, { hint: 'check username and password_file' });
        } else {
          lastError = new ExporterError('unreachable', `${config.url}: ${err.message}`, { hint: 'is the broker running and reachable?' });
        }
        // The host counts it by reason and logs it once per change.
        ctx.reportError(lastError);
      });
      client.on('message', (topic, payload, packet) => {
        const now = ctx.now();
        state.lastMessage = now;
        ctx.reportSuccess();
        state.messages[handleMessage(config, state, { topic, payload, retain: packet.retain }, now)] += 1;
      });
    },
    async stop() {
      const c = client;
      client = undefined;
      if (c) await c.endAsync(true);
    },
    snapshot() {
      // Disconnected, the model stays: connected reads 0, devices keep their last-known
      // state and last-seen time, values still expire by their TTL.
      const samples = state.snapshot(ctx.now());
      return state.connected
        ? { up: true, samples }
        : { up: false, samples, error: lastError ?? new ExporterError('unreachable', `not connected to ${config.url}`) };
    },
  };
}
