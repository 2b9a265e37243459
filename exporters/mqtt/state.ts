/**
 * The MQTT exporter's model of the world, kept current by messages and read at
 * scrape time: devices with their online state, last live message and values
 * (each value expiring after the TTL), the broker's $SYS values, and the
 * exporter's own counters. A series budget caps what new devices can add.
 */
import type { Logger } from 'pino';
import { keptSample, RENDERED, withLabels, type KeptSample, type Sample } from '../../collector/contract.js';
import { M } from './metrics.js';

/**
 * A payload value. A class, not an object literal: in the running collector these
 * literals came out of creation in V8's dictionary mode (%HasFastProperties false;
 * not so in isolation: a literal's hidden class is shared with every literal of the
 * process that starts the same way), about 430 bytes each instead of 40; at 20,000
 * series 6.6 MB more than needed. A class has hidden classes of its own.
 */
class Value {
  constructor(
    /** Its key in the device's values (the map's own string): an expired value is deleted by it. */
    readonly key: string,
    readonly metric: string,
    /** The series' full labels (device, source, its own), one object for its life: rendered once. */
    readonly labels: Readonly<Record<string, string>>,
    public value: number,
    /** Milliseconds; values expire ttl after this. */
    public at: number,
  ) {}
  /** The exposition's line for this value (see RENDERED). */
  [RENDERED]: unknown = undefined;
}


/**
 * The kept sample of `key`, its value set (made anew only when its labels changed).
 * A function, not a closure per device: at 5,000 devices those were 5,000 closures of
 * garbage per scrape.
 */
function keep(kept: Map<string, KeptSample>, key: string, metric: string, value: number, labels: Readonly<Record<string, string>>): KeptSample {
  let k = kept.get(key);
  if (k === undefined || k.labels !== labels) kept.set(key, (k = keptSample(metric, labels, value)));
  else k.value = value;
  return k;
}

interface Device {
  /** {device, source}: one object shared by the device's series. */
  readonly labels: Readonly<Record<string, string>>;
  /**
   * The device's own series (online, last seen, ...) as kept sample objects, so that
   * the exposition renders a line again only when its value changed.
   */
  kept?: Map<string, KeptSample>;
  online?: boolean;
  /** The last availability payload could not be read: the state is unknown (online reads 0). */
  availabilityUnknown?: boolean;
  lastSeen?: number;
  info?: { ieee_address: string; vendor: string; model: string };
  /** The info series' labels, made when the info changes. */
  infoLabels?: Readonly<Record<string, string>>;
  /** Seen before its source's inventory was known: pruned by the first one unless listed. */
  provisional?: boolean;
  /** Device uptime as last reported, and the restarts seen from it going back. */
  uptime?: number;
  restarts?: number;
  /** Per sensor of the device (Tasmota's SENSOR keys): its last live reading. */
  sensors?: Map<string, number>;
  /** metric + extra labels -> value */
  readonly values: Map<string, Value>;
}

/**
 * The info series' labels as one literal: a spread of the two objects gave each
 * device's labels a hidden class of its own in V8 (5,000 devices, 5,000 maps).
 */
function infoLabels(labels: Readonly<Record<string, string>>, info: { ieee_address: string; vendor: string; model: string }): Readonly<Record<string, string>> {
  return { device: labels.device as string, source: labels.source as string, ieee_address: info.ieee_address, vendor: info.vendor, model: info.model };
}

/** How a message was counted (homestation_mqtt_messages_total{result}). */
export const RESULTS = ['processed', 'not_json', 'not_number', 'too_large', 'ignored', 'unknown_topic', 'unknown_state', 'bad_inventory'] as const;
export type MessageResult = (typeof RESULTS)[number];
/** Why a single value of a message was not exported (homestation_mqtt_dropped_values_total{reason}). */
export const DROPPED_VALUES = ['not_number', 'retained_unknown_age', 'stale'] as const;
export type DroppedValue = (typeof DROPPED_VALUES)[number];
/** Devices a source may have before its inventory is known; past it, topics are unknown. */
export const MAX_PROVISIONAL = 500;

export class MqttState {
  private readonly devices = new Map<string, { source: string; name: string; state: Device }>();
  private readonly broker = new Map<string, Sample>();
  private readonly bridges = new Map<string, boolean>();
  readonly messages = Object.fromEntries(RESULTS.map((r) => [r, 0])) as Record<MessageResult, number>;
  readonly droppedValues = Object.fromEntries(DROPPED_VALUES.map((r) => [r, 0])) as Record<DroppedValue, number>;
  /** Per source with an inventory (zigbee2mqtt's bridge/devices): the devices it lists. */
  private readonly inventories = new Map<string, Set<string>>();
  /** Per source: names that are groups, never devices. */
  private readonly groups = new Map<string, Set<string>>();
  droppedOverBudget = 0;
  /** Series held now; see seriesCount. */
  private series = 0;
  reconnects = 0;
  authFailures = 0;
  connected = false;
  lastMessage: number | undefined;
  private lastBudgetLog = 0;
  /** The two arrays snapshots alternate between (see snapshot). */
  private readonly buffers: [Sample[], Sample[]] = [[], []];
  private flip = 0;

  constructor(
    private readonly ttlMs: number,
    private readonly maxSeries: number,
    private readonly log: Logger,
  ) {}

  private key(source: string, name: string): string {
    return `${source}\u0000${name}`;
  }

  private device(source: string, name: string, create: boolean): Device | undefined {
    const k = this.key(source, name);
    let d = this.devices.get(k);
    if (!d && create) {
      if (!this.admits(source, name)) return undefined;
      // A device holds no series by itself: there must be room for its first.
      if (this.series + 1 > this.maxSeries) {
        this.overBudget();
        return undefined;
      }
      d = { source, name, state: { labels: { device: name, source }, values: new Map(), ...(this.hasInventory(source) ? {} : { provisional: true }) } };
      this.devices.set(k, d);
    }
    return d?.state;
  }

  /** zigbee2mqtt announces its devices; other sources have no inventory. */
  private hasInventory(source: string): boolean {
    return source === 'zigbee2mqtt' && this.inventories.has(source);
  }

  /**
   * Whether messages about `name` may make (or touch) a device of `source`: never a
   * group; once the source's inventory is known, only what it lists; before, up to
   * MAX_PROVISIONAL provisional devices.
   */
  admits(source: string, name: string): boolean {
    if (this.groups.get(source)?.has(name)) return false;
    const inventory = this.inventories.get(source);
    if (inventory) return inventory.has(name);
    if (this.devices.has(this.key(source, name))) return true;
    if (source !== 'zigbee2mqtt') return true;
    let provisional = 0;
    for (const d of this.devices.values()) if (d.source === source && d.state.provisional) provisional += 1;
    return provisional < MAX_PROVISIONAL;
  }

  /** A source's inventory: listed devices get their info, the rest (provisional or removed) go. */
  applyInventory(source: string, devices: readonly { name: string; info: { ieee_address: string; vendor: string; model: string } }[]): void {
    this.inventories.set(source, new Set(devices.map((d) => d.name)));
    for (const old of this.deviceNames(source)) if (!this.inventories.get(source)?.has(old)) this.removeDevice(source, old);
    for (const d of devices) {
      const state = this.device(source, d.name, true);
      if (!state) continue;
      state.provisional = false;
      if (!state.info && !this.room(1)) continue;
      if (state.info?.ieee_address !== d.info.ieee_address || state.info.vendor !== d.info.vendor || state.info.model !== d.info.model) {
        state.info = d.info;
        state.infoLabels = infoLabels(state.labels, d.info);
      }
    }
  }

  /** A source's groups: not devices; any device made of one before is removed. */
  setGroups(source: string, names: readonly string[]): void {
    this.groups.set(source, new Set(names));
    for (const n of names) this.removeDevice(source, n);
  }

  /** A renamed device: the old name leaves the inventory too (the new one comes with the next bridge/devices). */
  renameDevice(source: string, from: string, to: string): void {
    this.removeDevice(source, from);
    const inventory = this.inventories.get(source);
    if (inventory?.delete(from)) inventory.add(to);
  }

  /** Series held now (the budget counts these): kept as they come and go, not counted per message. */
  seriesCount(): number {
    return this.series;
  }

  /** The same count, from scratch (tests check the kept one against it). */
  recount(): number {
    let n = this.broker.size + this.bridges.size;
    for (const { state } of this.devices.values()) {
      n += (state.online === undefined ? 0 : 2) + (state.lastSeen === undefined ? 0 : 1) + (state.info ? 1 : 0) + state.values.size;
      n += (state.restarts === undefined ? 0 : 1) + (state.sensors?.size ?? 0);
    }
    return n;
  }

  private deviceSeries(state: Device): number {
    return (state.online === undefined ? 0 : 2) + (state.lastSeen === undefined ? 0 : 1) + (state.info ? 1 : 0) + state.values.size + (state.restarts === undefined ? 0 : 1) + (state.sensors?.size ?? 0);
  }

  /** True if `extra` new series fit the budget; otherwise counts and (rarely) says so. */
  /** Whether `extra` more series fit; if so they are counted now (the caller adds them). */
  private room(extra: number): boolean {
    if (this.series + extra <= this.maxSeries) {
      this.series += extra;
      return true;
    }
    this.overBudget();
    return false;
  }

  private overBudget(): void {
    this.droppedOverBudget += 1;
    const now = Date.now();
    if (now - this.lastBudgetLog > 60_000) {
      this.lastBudgetLog = now;
      this.log.warn({ maxSeries: this.maxSeries }, 'series budget reached: new series are refused, existing ones keep working (raise max_series?)');
    }
  }

  setBroker(sample: Sample): void {
    const k = `${sample.metric}${JSON.stringify(sample.labels ?? {})}`;
    if (!this.broker.has(k) && !this.room(1)) return;
    this.broker.set(k, sample);
  }

  setBridge(base: string, online: boolean): void {
    if (!this.bridges.has(base) && !this.room(1)) return;
    this.bridges.set(base, online);
  }

  /** Online or offline; undefined = the payload could not be read: unknown, which is not online. */
  setOnline(source: string, name: string, online: boolean | undefined): boolean {
    const d = this.device(source, name, true);
    if (!d) return false;
    if (d.online === undefined && !this.room(2)) return false;
    d.online = online ?? false;
    d.availabilityUnknown = online === undefined;
    return true;
  }

  /** A live message of the device was made at `at` (never moves back). */
  seen(source: string, name: string, at: number): boolean {
    const d = this.device(source, name, true);
    if (!d) return false;
    if (d.lastSeen === undefined && !this.room(1)) return false;
    d.lastSeen = Math.max(d.lastSeen ?? 0, at);
    return true;
  }

  /** A device's reported uptime: going back means it restarted. */
  setUptime(source: string, name: string, seconds: number, at: number): void {
    const d = this.device(source, name, false);
    if (!d) return;
    if (d.restarts === undefined) {
      if (!this.room(1)) return;
      d.restarts = 0;
    } else if (d.uptime !== undefined && seconds < d.uptime) d.restarts += 1;
    d.uptime = seconds;
    this.setValue(source, name, M.uptimeDevice, {}, seconds, at);
  }

  /** A sensor of the device (a Tasmota SENSOR key) gave a reading. */
  sensorSeen(source: string, name: string, sensor: string, at: number): void {
    const d = this.device(source, name, false);
    if (!d) return;
    d.sensors ??= new Map();
    if (!d.sensors.has(sensor) && !this.room(1)) return;
    d.sensors.set(sensor, Math.max(d.sensors.get(sensor) ?? 0, at));
  }

  setInfo(source: string, name: string, info: { ieee_address: string; vendor: string; model: string }): void {
    const d = this.device(source, name, true);
    if (!d) return;
    if (!d.info && !this.room(1)) return;
    if (d.info?.ieee_address !== info.ieee_address || d.info.vendor !== info.vendor || d.info.model !== info.model) {
      d.info = info;
      d.infoLabels = infoLabels(d.labels, info);
    }
  }

  setValue(source: string, name: string, metric: string, labels: Record<string, string>, value: number, at: number): void {
    const d = this.device(source, name, true);
    if (!d) return;
    // Most values have no labels of their own: skip building a key string for them.
    const k = Object.keys(labels).length === 0 ? metric : `${metric}${JSON.stringify(labels)}`;
    const v = d.values.get(k);
    if (v) {
      v.value = value;
      v.at = at;
      return;
    }
    if (!this.room(1)) return;
    d.values.set(k, new Value(k, metric, k === metric ? d.labels : withLabels(d.labels, labels), value, at));
  }

  /** A renamed or removed device loses every series at once. */
  removeDevice(source: string, name: string): boolean {
    const k = this.key(source, name);
    const d = this.devices.get(k);
    if (!d) return false;
    this.series -= this.deviceSeries(d.state);
    return this.devices.delete(k);
  }

  /** Devices of a source, for the bridge/devices diff. */
  deviceNames(source: string): string[] {
    return [...this.devices.values()].filter((d) => d.source === source).map((d) => d.name);
  }

  /** Samples as of `now`: values older than the TTL are dropped for good. */
  snapshot(now: number): Sample[] {
    // Written by index into one of two kept arrays (never emptied with length = 0, which
    // gives V8 back their storage): a new array per scrape was a third of a scrape's
    // garbage at 20,000 series. Two, so that the previous snapshot stays whole while
    // the next is made.
    this.flip ^= 1;
    const out = this.buffers[this.flip] as Sample[];
    let n = 0;
    for (const s of this.broker.values()) out[n++] = s;
    for (const [base, online] of this.bridges) out[n++] = { metric: M.z2mBridge, labels: { base_topic: base }, value: online ? 1 : 0 };
    for (const { state } of this.devices.values()) {
      const labels = state.labels;
      const kept = (state.kept ??= new Map());
      if (state.online !== undefined) {
        out[n++] = keep(kept, 'o', M.online, state.online ? 1 : 0, labels);
        out[n++] = keep(kept, 'a', M.availabilityUnknown, state.availabilityUnknown ? 1 : 0, labels);
      }
      if (state.restarts !== undefined) out[n++] = keep(kept, 'r', M.restarts, state.restarts, labels);
      for (const [sensor, at] of state.sensors ?? []) {
        const key = `s:${sensor}`;
        out[n++] = keep(kept, key, M.sensorLastSeen, at / 1000, kept.get(key)?.labels ?? withLabels(labels, { sensor }));
      }
      if (state.lastSeen !== undefined) out[n++] = keep(kept, 'l', M.lastSeen, state.lastSeen / 1000, labels);
      if (state.infoLabels) out[n++] = keep(kept, 'i', M.info, 1, state.infoLabels);
      // Over the values, not the entries: a [key, value] array per series per scrape was a
      // quarter of a scrape's garbage at 20,000 series (249 -> 190 scavenges in 80 scrapes).
      for (const v of state.values.values()) {
        if (now - v.at > this.ttlMs) {
          state.values.delete(v.key);
          this.series -= 1;
          continue;
        }
        out[n++] = v; // the value object itself: the exposition re-renders its line only when the value changed
      }
    }
    out[n++] = { metric: M.connected, value: this.connected ? 1 : 0 };
    out[n++] = { metric: M.reconnects, value: this.reconnects };
    out[n++] = { metric: M.authFailures, value: this.authFailures };
    out[n++] = { metric: M.droppedSeries, labels: { reason: 'over_budget' }, value: this.droppedOverBudget };
    out[n++] = { metric: M.series, value: this.seriesCount() };
    for (const result of RESULTS) out[n++] = { metric: M.messages, labels: { result }, value: this.messages[result] };
    for (const reason of DROPPED_VALUES) out[n++] = { metric: M.droppedValues, labels: { reason }, value: this.droppedValues[reason] };
    if (this.lastMessage !== undefined) out[n++] = { metric: M.lastMessage, value: this.lastMessage / 1000 };
    if (out.length !== n) out.length = n; // fewer series than last time: the rest let go
    return out;
  }
}
