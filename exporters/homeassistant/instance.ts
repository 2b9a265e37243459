/** The Home Assistant exporter's connection and model, loaded only when an instance is configured. */
import { readFileSync } from 'node:fs';
import { ExporterError, type InstanceBase, type InstanceContext, type StreamInstance } from '../../collector/contract.js';
import { HaClient } from './client.js';
import type { HaConfig } from './index.js';
import { HaModel, type AreaEntry, type ConfigEntry, type DeviceEntry, type EntityEntry, type FloorEntry, type HaState } from './model.js';

export function createHaInstance(ctx: InstanceContext, config: HaConfig & InstanceBase): StreamInstance {
  const token = config.token_file ? readFileSync(config.token_file, 'utf8').trim() : (config.token as string);
  const model = new HaModel(
    {
      includeDomains: config.include_domains,
      excludeDomains: config.exclude_domains,
      includeEntities: config.include_entities,
      excludeEntities: config.exclude_entities,
      includeIntegrations: config.include_integrations,
      excludeIntegrations: config.exclude_integrations,
    },
    config.max_series,
    {
      batteryLow: config.battery_low,
      silent: config.silent_sensors.map((r) => ({ entities: r.entities, deviceClasses: r.device_classes, after: r.after })),
    },
  );
  const client = new HaClient({ url: config.url, token, pingIntervalMs: config.ping_interval, pingTimeoutMs: config.ping_timeout, log: ctx.log });
  let refreshTimer: NodeJS.Timeout | undefined;
  let loggedOverBudget = 0;
  let reconnects = 0;
  let everReady = false;
  let synced = false;

  /** Everything from scratch, after every (re)connect. */
  const resync = async (): Promise<void> => {
    synced = false;
    await client.subscribe({ type: 'subscribe_events', event_type: 'state_changed' }, (event) => {
      const data = event?.data as { entity_id?: string; new_state?: HaState | null } | undefined;
      if (!data?.entity_id) return;
      model.lastEvent = ctx.now();
      ctx.reportSuccess();
      model.stateChanged(data.entity_id, data.new_state ?? null);
    });
    const refetch = async (type: string, apply: (result: unknown) => void) => {
      const r = await client.command({ type });
      if (r.success && Array.isArray(r.result)) apply(r.result);
      else ctx.log.warn({ command: type, error: r.error?.message }, 'Home Assistant command failed');
    };
    const entities = () => refetch('config/entity_registry/list', (r) => model.setEntities(r as EntityEntry[]));
    const devices = () => refetch('config/device_registry/list', (r) => model.setDevices(r as DeviceEntry[]));
    const areas = () => refetch('config/area_registry/list', (r) => model.setAreas(r as AreaEntry[]));
    // Floors exist since HA 2024.4; an older HA answers unknown_command, and there are none.
    const floors = async () => {
      const r = await client.command({ type: 'config/floor_registry/list' });
      if (r.success && Array.isArray(r.result)) model.setFloors(r.result as FloorEntry[]);
    };
    await client.subscribe({ type: 'subscribe_events', event_type: 'entity_registry_updated' }, (event) => {
      const d = event?.data as { action?: string; entity_id?: string; old_entity_id?: string } | undefined;
      if (d?.action && d.entity_id) model.entityRegistryUpdated(d.action, d.entity_id, d.old_entity_id);
      void entities();
    });
    await client.subscribe({ type: 'subscribe_events', event_type: 'device_registry_updated' }, () => void devices());
    await client.subscribe({ type: 'subscribe_events', event_type: 'area_registry_updated' }, () => void areas());
    await client.subscribe({ type: 'subscribe_events', event_type: 'floor_registry_updated' }, () => void floors());
    await client.subscribe({ type: 'config_entries/subscribe' }, (event) => {
      if (Array.isArray(event)) model.configEntriesChanged(event as unknown as { type: string | null; entry: ConfigEntry }[]);
    });
    const states = await client.command({ type: 'get_states' });
    if (states.success && Array.isArray(states.result)) model.setStates(states.result as HaState[]);
    await Promise.all([entities(), devices(), areas(), floors()]);
    synced = true;
    ctx.reportSuccess();
    ctx.log.info({ entities: model.states.size }, 'Home Assistant synced');
  };

  // The version from HA's auth_ok, not REST /api/config: the first fetch() of a
  // process loads undici and compiles its llhttp WebAssembly (13 MB of RSS, measured).
  client.on('ready', (version?: string) => {
    if (version) model.version = version;
    if (everReady) reconnects += 1;
    everReady = true;
    void resync();
  });
  // HA pushes no event when a sensor reports the same value again: read last_reported anew.
  const refreshReported = async () => {
    if (!client.connected || !synced) return;
    const states = await client.command({ type: 'get_states' }, 60_000);
    if (states.success && Array.isArray(states.result)) {
      model.setStates(states.result as HaState[]);
      ctx.reportSuccess();
    }
  };
  if (config.last_reported_refresh > 0) {
    refreshTimer = setInterval(() => void refreshReported(), config.last_reported_refresh);
    refreshTimer.unref();
  }
  let hung = false;
  client.on('hang', (message: string) => {
    synced = false;
    hung = true; // the close that follows is this hang, not a second error
    ctx.reportError(new ExporterError('timeout', message, { hint: 'Home Assistant is overloaded or stuck; look at its host' }));
  });
  client.on('rtt', (s: number) => {
    model.rttSeconds = s;
  });
  client.on('auth_invalid', (message?: string) => {
    ctx.reportError(new ExporterError('auth', `Home Assistant refused the access token (auth_invalid${message ? `: ${message}` : ''})`, { hint: 'create a new long-lived access token and restart HomeStation; not retrying meanwhile (HA bans IPs after repeated failures)' }));
  });
  client.on('connect_error', (message: string) => {
    ctx.reportError(new ExporterError('unreachable', `cannot reach ${config.url}: ${message}`, { hint: 'is Home Assistant running and reachable?' }));
  });
  client.on('down', () => {
    synced = false;
    if (hung) {
      hung = false;
      return;
    }
    ctx.reportError(new ExporterError('unreachable', `the connection to ${config.url} closed; reconnecting`, { hint: 'is Home Assistant running and reachable?' }));
  });

  return {
    mode: 'stream',
    start: () => client.start(),
    stop: () => {
      clearInterval(refreshTimer);
      return client.stop();
    },
    snapshot() {
      // Disconnected, the last-known model stays (connected reads 0); the resync replaces it.
      const up = client.connected && synced;
      const samples = model.snapshot(up, reconnects);
      // Said when it changes, not at every scrape: health series are kept, values are not.
      if (model.overBudget !== loggedOverBudget) {
        if (model.overBudget > 0) {
          ctx.log.warn({ refused: model.overBudget, maxSeries: config.max_series }, 'over max_series: entity series refused (health series are kept); raise max_series or filter entities');
        }
        loggedOverBudget = model.overBudget;
      }
      if (up) return { up, samples };
      const error = client.authRefused
        ? new ExporterError('auth', 'Home Assistant refused the access token (auth_invalid)', { hint: 'create a new long-lived access token and restart HomeStation' })
        : new ExporterError('unreachable', `not connected to ${config.url}${client.lastError ? `: ${client.lastError}` : ''}`, { hint: 'is Home Assistant running and reachable?' });
      return { up: false, samples, error };
    },
  };
}
