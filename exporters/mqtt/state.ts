/**
 * The MQTT exporter's model of the world, kept current by messages and read at
 * scrape time: devices with their online state, last live message and values
 * (each value expiring after the TTL), the broker's $SYS values, and the
 * exporter's own counters. A series budget caps what new devices can add.
 */
import type { Logger } from 'pino';
import type { Sample } from '../../collector/contract.js';
import { M } from './metrics.js';

interface Value {
  readonly metric: string;
  readonly labels: Readonly<Record<string, string>>;
  value: number;
  /** Milliseconds; values expire ttl after this. */
  at: number;
}

interface Device {
  online?: boolean;
  lastSeen?: number;
  info?: { ieee_address: string; vendor: string; model: string };
  /** metric + extra labels -> value */
  readonly values: Map<string, Value>;
}

export type MessageResult = 'processed' | 'not_json' | 'not_number' | 'too_large' | 'ignored';
const RESULTS: MessageResult[] = ['processed', 'not_json', 'not_number', 'too_large', 'ignored'];

export class MqttState {
  private readonly devices = new Map<string, { source: string; name: string; state: Device }>();
  private readonly broker = new Map<string, Sample>();
  private readonly bridges = new Map<string, boolean>();
  readonly messages = Object.fromEntries(RESULTS.map((r) => [r, 0])) as Record<MessageResult, number>;
  droppedOverBudget = 0;
  reconnects = 0;
  authFailures = 0;
  connected = false;
  lastMessage: number | undefined;
  private lastBudgetLog = 0;

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
      if (!this.room(1)) return undefined;
      d = { source, name, state: { values: new Map() } };
      this.devices.set(k, d);
    }
    return d?.state;
  }

  /** Series held now (the budget counts these). */
  seriesCount(): number {
    let n = this.broker.size + this.bridges.size;
    for (const { state } of this.devices.values()) {
      n += (state.online === undefined ? 0 : 1) + (state.lastSeen === undefined ? 0 : 1) + (state.info ? 1 : 0) + state.values.size;
    }
    return n;
  }

  /** True if `extra` new series fit the budget; otherwise counts and (rarely) says so. */
  private room(extra: number): boolean {
    if (this.seriesCount() + extra <= this.maxSeries) return true;
    this.droppedOverBudget += 1;
    const now = Date.now();
    if (now - this.lastBudgetLog > 60_000) {
      this.lastBudgetLog = now;
      this.log.warn({ maxSeries: this.maxSeries }, 'series budget reached: new series are refused, existing ones keep working (raise max_series?)');
    }
    return false;
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

  setOnline(source: string, name: string, online: boolean): void {
    const d = this.device(source, name, true);
    if (!d) return;
    if (d.online === undefined && !this.room(1)) return;
    d.online = online;
  }

  /** A live (not retained) message of the device arrived. */
  seen(source: string, name: string, at: number): void {
    const d = this.device(source, name, true);
    if (!d) return;
    if (d.lastSeen === undefined && !this.room(1)) return;
    d.lastSeen = at;
  }

  setInfo(source: string, name: string, info: { ieee_address: string; vendor: string; model: string }): void {
    const d = this.device(source, name, true);
    if (!d) return;
    if (!d.info && !this.room(1)) return;
    d.info = info;
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
    d.values.set(k, { metric, labels, value, at });
  }

  /** A renamed or removed device loses every series at once. */
  removeDevice(source: string, name: string): boolean {
    return this.devices.delete(this.key(source, name));
  }

  /** Devices of a source, for the bridge/devices diff. */
  deviceNames(source: string): string[] {
    return [...this.devices.values()].filter((d) => d.source === source).map((d) => d.name);
  }

  /** Samples as of `now`: values older than the TTL are dropped for good. */
  snapshot(now: number): Sample[] {
    const out: Sample[] = [];
    for (const s of this.broker.values()) out.push(s);
    for (const [base, online] of this.bridges) out.push({ metric: M.z2mBridge, labels: { base_topic: base }, value: online ? 1 : 0 });
    for (const { source, name, state } of this.devices.values()) {
      const labels = { device: name, source };
      if (state.online !== undefined) out.push({ metric: M.online, labels, value: state.online ? 1 : 0 });
      if (state.lastSeen !== undefined) out.push({ metric: M.lastSeen, labels, value: state.lastSeen / 1000 });
      if (state.info) out.push({ metric: M.info, labels: { ...labels, ...state.info }, value: 1 });
      for (const [k, v] of state.values) {
        if (now - v.at > this.ttlMs) {
          state.values.delete(k);
          continue;
        }
        out.push({ metric: v.metric, labels: { ...labels, ...v.labels }, value: v.value });
      }
    }
    out.push(
      { metric: M.connected, value: this.connected ? 1 : 0 },
      { metric: M.reconnects, value: this.reconnects },
      { metric: M.authFailures, value: this.authFailures },
      { metric: M.droppedSeries, labels: { reason: 'over_budget' }, value: this.droppedOverBudget },
      { metric: M.series, value: this.seriesCount() },
      ...RESULTS.map((result) => ({ metric: M.messages, labels: { result }, value: this.messages[result] })),
    );
    if (this.lastMessage !== undefined) out.push({ metric: M.lastMessage, value: this.lastMessage / 1000 });
    return out;
  }
}
