/**
 * Pure: Home Assistant as the exporter knows it: states, the entity, device, area
 * and floor registries and the config entries, kept current by events, read at
 * scrape time. No I/O, no clock: the connection code feeds it, tests feed it
 * recorded messages.
 */
import picomatch from 'picomatch';
import { keptSample, withLabels, type Sample } from '../../collector/contract.js';
import { KeptSamples } from '../../collector/kept-samples.js';
import { M } from './metrics.js';

export interface HaState {
  entity_id: string;
  state: string;
  attributes?: Record<string, unknown> | null;
  last_changed?: string;
  last_reported?: string;
  last_updated?: string;
}
export interface EntityEntry {
  entity_id: string;
  device_id?: string | null;
  area_id?: string | null;
  platform?: string;
  name?: string | null;
  original_name?: string | null;
  disabled_by?: string | null;
}
export interface DeviceEntry {
  id: string;
  name?: string | null;
  name_by_user?: string | null;
  manufacturer?: string | null;
  model?: string | null;
  area_id?: string | null;
  /** [["bluetooth", "AA:BB:..."], ["mac", ...]]: how the device is reached (the bluetooth exporter names devices by it). */
  connections?: [string, string][];
}
export interface AreaEntry {
  area_id: string;
  name?: string;
  floor_id?: string | null;
}
export interface ConfigEntry {
  entry_id: string;
  domain: string;
  state: string;
  /** Why setup failed or is retried ("could not authenticate"), where HA says. */
  reason?: string | null;
  /** Set when a user (or HA) disabled the entry: then it is not loaded on purpose. */
  disabled_by?: string | null;
}
export interface FloorEntry {
  floor_id: string;
  name?: string;
  level?: number | null;
}
export interface SilentRule {
  readonly entities: readonly string[];
  readonly deviceClasses: readonly string[];
  /** Milliseconds. */
  readonly after: number;
}

export interface Filters {
  readonly includeDomains: readonly string[];
  readonly excludeDomains: readonly string[];
  readonly includeEntities: readonly string[];
  readonly excludeEntities: readonly string[];
  readonly includeIntegrations: readonly string[];
  readonly excludeIntegrations: readonly string[];
}

export const ENTRY_STATES = ['loaded', 'setup_error', 'setup_retry', 'not_loaded', 'failed_unload', 'migration_error', 'setup_in_progress'];
/** A failure reason is free text: cut to this, so that the label stays bounded. */
const MAX_REASON = 120;

const seconds = (iso: string | undefined) => {
  const t = iso ? Date.parse(iso) : Number.NaN;
  return Number.isNaN(t) ? undefined : t / 1000;
};
const domainOf = (entityId: string) => entityId.split('.')[0] ?? '';
const NUMERIC = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

/** The attributes the series are made of; the rest of a state's (forecasts, option lists, pictures) is not kept. */
const USED_ATTRIBUTES = ['device_class', 'unit_of_measurement', 'last_triggered'] as const;

/** Whether a state read again says what the kept one says, last_reported aside (the attributes the series read). */
function saysTheSame(held: HaState, s: HaState): boolean {
  if (held.state !== s.state || held.last_changed !== s.last_changed) return false;
  return USED_ATTRIBUTES.every((k) => held.attributes?.[k] === s.attributes?.[k]);
}

/**
 * A state as the model keeps it: what its series read, not HA's whole object (a
 * weather entity's forecast, a media player's queue or a select's option list stay
 * in memory otherwise, for as long as the entity does not change).
 */
export function slim(s: HaState): HaState {
  let attributes: Record<string, unknown> | null = null;
  if (s.attributes) {
    for (const k of USED_ATTRIBUTES) {
      if (s.attributes[k] !== undefined) (attributes ??= {})[k] = s.attributes[k];
    }
  }
  return { entity_id: s.entity_id, state: s.state, attributes, last_changed: s.last_changed, last_reported: s.last_reported };
}

export class HaModel {
  states = new Map<string, HaState>();
  entities = new Map<string, EntityEntry>();
  devices = new Map<string, DeviceEntry>();
  areas = new Map<string, AreaEntry>();
  floors = new Map<string, FloorEntry>();
  configEntries = new Map<string, ConfigEntry>();
  version: string | undefined;
  lastEvent: number | undefined;
  rttSeconds: number | undefined;
  /** Series refused by the budget, each counted once (not again at every scrape). */
  droppedOverBudget = 0;
  /**
   * Bumped when the registries an entity's series read change (entities, devices):
   * every entity's series are made again then.
   */
  private generation = 0;
  /** Bumped when an entity id comes or goes: the sorted, filtered order is made again then. */
  private keysVersion = 0;
  private order: { keys: number; generation: number; ids: string[] } | undefined;
  /**
   * Per entity, the series made from its state object: kept (the same sample objects,
   * so the exposition reuses their lines) until HA sends a new state or a registry changes.
   */
  private readonly made = new Map<string, { state: HaState; generation: number; samples: Sample[] }>();
  /** The per-device health series' sample objects, kept from scrape to scrape. */
  private readonly deviceSeries = new KeptSamples();
  /** Series refused at the last scrape: only what is over budget now, so it cannot grow without bound. */
  private refused = new Set<string>();
  private readonly keep: (entityId: string) => boolean;
  private readonly silentAfter: (s: HaState) => number | undefined;

  constructor(
    private readonly filters: Filters,
    private readonly maxSeries: number,
    private readonly health: { readonly batteryLow: number; readonly silent: readonly SilentRule[] } = { batteryLow: 0.15, silent: [] },
  ) {
    const silent = health.silent.map((r) => ({ ...r, match: r.entities.length ? picomatch(r.entities as string[]) : () => false }));
    this.silentAfter = (s) => {
      const dc = s.attributes?.device_class;
      const hit = silent.filter((r) => r.match(s.entity_id) || (typeof dc === 'string' && r.deviceClasses.includes(dc)));
      return hit.length ? Math.min(...hit.map((r) => r.after)) : undefined;
    };
    const inc = filters.includeEntities.length ? picomatch(filters.includeEntities as string[]) : () => true;
    const exc = filters.excludeEntities.length ? picomatch(filters.excludeEntities as string[]) : () => false;
    this.keep = (id) => {
      const d = domainOf(id);
      if (filters.includeDomains.length && !filters.includeDomains.includes(d)) return false;
      if (filters.excludeDomains.includes(d)) return false;
      if (!inc(id) || exc(id)) return false;
      const platform = this.entities.get(id)?.platform;
      if (filters.includeIntegrations.length && (!platform || !filters.includeIntegrations.includes(platform))) return false;
      if (platform && filters.excludeIntegrations.includes(platform)) return false;
      // Disabled entities lose their series.
      return !this.entities.get(id)?.disabled_by;
    };
  }

  /**
   * A full resync (after each connect, and every last_reported_refresh): replaces every
   * state. A state that says what the kept one says, last_reported aside, keeps the kept
   * object and the series made from it, and only its last_reported series is made anew:
   * made anew whole, every entity's five or six series became garbage at each refresh
   * (bench:memory, 2,000 entities: RSS rose 6 MB above its steady peak every 5 minutes).
   */
  setStates(list: readonly HaState[]): void {
    const next = new Map<string, HaState>();
    let sameIds = true;
    for (const s of list) {
      if (typeof s?.entity_id !== 'string') continue;
      const held = this.states.get(s.entity_id);
      if (held === undefined) sameIds = false;
      next.set(s.entity_id, held !== undefined && saysTheSame(held, s) && this.takeReported(held, s) ? held : slim(s));
    }
    if (next.size !== this.states.size) sameIds = false;
    this.states = next;
    if (!sameIds) this.keysVersion += 1;
  }

  /**
   * `held` takes `s`'s last_reported, its kept last_reported series replaced. False
   * where that series cannot simply be replaced (no series made from `held` yet, or
   * last_reported comes or goes): the state is then taken whole.
   */
  private takeReported(held: HaState, s: HaState): boolean {
    if (held.last_reported === s.last_reported) return true;
    const memo = this.made.get(s.entity_id);
    const reported = seconds(s.last_reported);
    if (memo?.state !== held || reported === undefined) return false;
    const at = memo.samples.findIndex((x) => x.metric === M.lastReported);
    const was = memo.samples[at];
    if (was === undefined) return false;
    held.last_reported = s.last_reported;
    memo.samples[at] = keptSample(M.lastReported, was.labels ?? {}, reported);
    return true;
  }

  /** state_changed: new_state null = removed; old_state null = added. */
  stateChanged(entityId: string, newState: HaState | null): void {
    if (newState === null) {
      if (this.states.delete(entityId)) this.keysVersion += 1;
    } else {
      if (!this.states.has(entityId)) this.keysVersion += 1;
      this.states.set(entityId, slim(newState));
    }
  }

  setEntities(list: readonly EntityEntry[]): void {
    this.entities = new Map(list.map((e) => [e.entity_id, e]));
    this.generation += 1;
  }

  /** entity_registry_updated: a rename drops the old id at once; a removal drops it. */
  entityRegistryUpdated(action: string, entityId: string, oldEntityId?: string): void {
    this.generation += 1;
    this.keysVersion += 1;
    if (action === 'remove') {
      this.entities.delete(entityId);
      this.states.delete(entityId);
    }
    if (action === 'update' && oldEntityId && oldEntityId !== entityId) {
      const e = this.entities.get(oldEntityId);
      this.entities.delete(oldEntityId);
      this.states.delete(oldEntityId);
      if (e) this.entities.set(entityId, { ...e, entity_id: entityId });
    }
  }

  setDevices(list: readonly DeviceEntry[]): void {
    this.devices = new Map(list.map((d) => [d.id, d]));
    this.generation += 1;
  }

  setAreas(list: readonly AreaEntry[]): void {
    this.areas = new Map(list.map((a) => [a.area_id, a]));
  }

  setFloors(list: readonly FloorEntry[]): void {
    this.floors = new Map(list.map((f) => [f.floor_id, f]));
  }

  /** config_entries/subscribe messages: type null (initial), added, removed, updated. */
  configEntriesChanged(changes: readonly { type: string | null; entry: ConfigEntry }[]): void {
    for (const c of changes) {
      if (c.type === 'removed') this.configEntries.delete(c.entry.entry_id);
      else this.configEntries.set(c.entry.entry_id, c.entry);
    }
  }

  /**
   * Health series first, whatever the budget: up, integrations, device availability
   * and batteries, counts. Only the per-entity series count against max_series, so an
   * instance over budget loses values, never the alerts on its health.
   */
  snapshot(connected: boolean, reconnects: number): Sample[] {
    const out: Sample[] = [];
    out.push({ metric: M.connected, value: connected ? 1 : 0 }, { metric: M.reconnects, value: reconnects });
    if (this.version) out.push({ metric: M.info, labels: { version: this.version }, value: 1 });
    if (this.rttSeconds !== undefined) out.push({ metric: M.rtt, value: this.rttSeconds });
    if (this.lastEvent !== undefined) out.push({ metric: M.lastEvent, value: this.lastEvent / 1000 });
    for (const entry of this.configEntries.values()) {
      const states = ENTRY_STATES.includes(entry.state) ? ENTRY_STATES : [...ENTRY_STATES, entry.state];
      const base = { entry_id: entry.entry_id, domain: entry.domain };
      for (const state of states) out.push({ metric: M.entryState, labels: withLabels(base, { state }), value: entry.state === state ? 1 : 0 });
      out.push({ metric: M.entryDisabled, labels: base, value: entry.disabled_by ? 1 : 0 });
      if (entry.reason && entry.state !== 'loaded') out.push({ metric: M.entryReason, labels: withLabels(base, { reason: entry.reason.slice(0, MAX_REASON) }), value: 1 });
    }
    for (const a of this.areas.values()) out.push({ metric: M.areaInfo, labels: { area_id: a.area_id, name: a.name ?? '', floor_id: a.floor_id ?? '' }, value: 1 });
    for (const f of this.floors.values()) out.push({ metric: M.floorInfo, labels: { floor_id: f.floor_id, name: f.name ?? '', level: f.level === null || f.level === undefined ? '' : String(f.level) }, value: 1 });

    const counts = new Map<string, number>();
    const deviceAvailable = new Map<string, boolean>();
    const deviceBattery = new Map<string, number>();
    const deviceBatteryLow = new Map<string, boolean>();
    const sorted = this.ordered();
    for (const s of sorted) {
      const domain = domainOf(s.entity_id);
      const availability = s.state === 'unavailable' ? 'unavailable' : s.state === 'unknown' ? 'unknown' : 'available';
      counts.set(`${domain}\u0000${availability}`, (counts.get(`${domain}\u0000${availability}`) ?? 0) + 1);
      const device = this.entities.get(s.entity_id)?.device_id;
      if (!device) continue;
      deviceAvailable.set(device, (deviceAvailable.get(device) ?? false) || availability !== 'unavailable');
      if (s.attributes?.device_class !== 'battery') continue;
      if (domain === 'sensor' && s.attributes.unit_of_measurement === '%' && NUMERIC.test(s.state)) {
        const ratio = Number(s.state) / 100;
        deviceBattery.set(device, ratio);
        deviceBatteryLow.set(device, (deviceBatteryLow.get(device) ?? false) || ratio < this.health.batteryLow);
      } else if (domain === 'binary_sensor' && (s.state === 'on' || s.state === 'off')) {
        // A binary battery sensor: on means low.
        deviceBatteryLow.set(device, (deviceBatteryLow.get(device) ?? false) || s.state === 'on');
      }
    }
    // Per-device series are derived at every scrape, but their sample objects are kept
    // (1,082 devices: 2,200 series that were checked, escaped and rendered anew each time).
    const kept = this.deviceSeries;
    kept.begin();
    const byDevice = (metric: string, device: string, value: number) =>
      kept.sample(`${metric}\u0000${device}`, metric, value, undefined, () => ({ device_id: device }));
    // forEach: no [key, value] array per device per scrape.
    deviceAvailable.forEach((available, device) => out.push(byDevice(M.deviceAvailable, device, available ? 1 : 0)));
    deviceBattery.forEach((ratio, device) => out.push(byDevice(M.battery, device, ratio)));
    deviceBatteryLow.forEach((low, device) => out.push(byDevice(M.batteryLow, device, low ? 1 : 0)));
    for (const d of this.devices.values()) {
      out.push(
        kept.sample(`${M.deviceInfo}\u0000${d.id}`, M.deviceInfo, 1, d, () => ({
          device_id: d.id,
          name: d.name_by_user ?? d.name ?? '',
          manufacturer: d.manufacturer ?? '',
          model: d.model ?? '',
          area_id: d.area_id ?? '',
        })),
      );
    }
    kept.sweep();
    for (const [key, n] of counts) {
      const [domain, availability] = key.split('\u0000') as [string, string];
      out.push({ metric: M.entities, labels: { domain, availability }, value: n });
    }

    // Per-entity series, within the budget.
    let budget = this.maxSeries;
    const refusedNow = new Set<string>();
    const push = (sample: Sample) => {
      if (budget <= 0) {
        const key = `${sample.metric}${JSON.stringify(sample.labels ?? {})}`;
        if (!this.refused.has(key)) this.droppedOverBudget += 1;
        refusedNow.add(key);
        return;
      }
      budget -= 1;
      out.push(sample);
    };
    for (const s of sorted) {
      const memo = this.made.get(s.entity_id);
      const samples = memo && memo.state === s && memo.generation === this.generation ? memo.samples : this.entitySamples(s);
      if (samples !== memo?.samples) this.made.set(s.entity_id, { state: s, generation: this.generation, samples });
      for (const x of samples) push(x);
    }
    this.overBudget = refusedNow.size;
    this.refused = refusedNow;
    out.push({ metric: M.droppedSeries, labels: { reason: 'over_budget' }, value: this.droppedOverBudget });
    return out;
  }
  /** The series of one entity's state (its registry entry and device read as they are now). */
  private entitySamples(s: HaState): Sample[] {
    const out: Sample[] = [];
    const domain = domainOf(s.entity_id);
    const labels = { entity_id: s.entity_id, domain };
    const unavailable = s.state === 'unavailable';
    const unknown = s.state === 'unknown';
    out.push(keptSample(M.available, labels, unavailable ? 0 : 1));
    out.push(keptSample(M.unknown, labels, unknown ? 1 : 0));
    const changed = seconds(s.last_changed);
    if (changed !== undefined) out.push(keptSample(M.lastChanged, labels, changed));
    // Only HA's own last_reported (2024.3+): last_updated is no report time.
    const reported = seconds(s.last_reported);
    if (reported !== undefined) out.push(keptSample(M.lastReported, labels, reported));
    const silentAfter = this.silentAfter(s);
    if (silentAfter !== undefined) out.push(keptSample(M.silentThreshold, labels, silentAfter / 1000));
    // A value is exported only while it is current: never for unavailable or unknown.
    if (!unavailable && !unknown && NUMERIC.test(s.state.trim())) {
      const unit = typeof s.attributes?.unit_of_measurement === 'string' ? s.attributes.unit_of_measurement : '';
      out.push(keptSample(M.value, withLabels(labels, { unit }), Number(s.state)));
    }
    const reg = this.entities.get(s.entity_id);
    if (reg) {
      const device = reg.device_id ?? '';
      const area = reg.area_id ?? (device ? this.devices.get(device)?.area_id ?? '' : '');
      out.push(keptSample(M.entityInfo, { entity_id: s.entity_id, domain, device_id: device, area_id: area, platform: reg.platform ?? '', name: reg.name ?? reg.original_name ?? '' }, 1));
    }
    if (domain === 'automation') {
      out.push(keptSample(M.automationEnabled, { entity_id: s.entity_id }, s.state === 'on' ? 1 : 0));
      const lt = seconds(typeof s.attributes?.last_triggered === 'string' ? s.attributes.last_triggered : undefined);
      if (lt !== undefined) out.push(keptSample(M.automationTriggered, { entity_id: s.entity_id }, lt));
    }
    return out;
  }

  /** Kept entity ids in order (sorted, filtered); made again only when ids or registries changed. */
  private ordered(): HaState[] {
    if (this.order?.keys !== this.keysVersion || this.order.generation !== this.generation) {
      const ids = [...this.states.keys()].filter((id) => this.keep(id)).sort((a, b) => a.localeCompare(b));
      this.order = { keys: this.keysVersion, generation: this.generation, ids };
      const kept = new Set(ids);
      for (const id of this.made.keys()) if (!kept.has(id)) this.made.delete(id);
    }
    return this.order.ids.map((id) => this.states.get(id) as HaState);
  }

  /** Entity series refused at the last scrape (0 when all fit). */
  overBudget = 0;
}
