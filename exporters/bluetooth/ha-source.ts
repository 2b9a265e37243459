/**
 * The Home Assistant source: HA's four bluetooth subscriptions over the same
 * WebSocket client as the homeassistant exporter. Every (re)connect resyncs: the
 * subscriptions replay what HA has (scanners, modes, allocations, its advert history),
 * and a ping after the last of them marks the end of the replay, so that what HA no
 * longer has is marked gone. The commands require an administrator's token.
 */
import { readFileSync } from 'node:fs';
import { ExporterError, type InstanceContext } from '../../collector/contract.js';
import type { WarnOnce } from '../../collector/warn-once.js';
import { HaClient, type HaMessage } from '../homeassistant/client.js';
import type { BluetoothConfig } from './index.js';
import type { BluetoothModel } from './model.js';
import { SUBSCRIPTIONS, applyHaEvent, type Subscription } from './ha-events.js';
import { normalizeAddress } from './parse/ha.js';
import type { BluetoothSource } from './source.js';

type HaOptions = NonNullable<BluetoothConfig['homeassistant']>;

export class HaBluetoothSource implements BluetoothSource {
  private readonly client: HaClient;
  private isSynced = false;
  private everReady = false;
  private failure: ExporterError | undefined;

  constructor(
    private readonly ctx: InstanceContext,
    private readonly o: HaOptions,
    private readonly model: BluetoothModel,
    private readonly warn: WarnOnce,
  ) {
    const token = o.token_file ? readFileSync(o.token_file, 'utf8').trim() : (o.token as string);
    this.client = new HaClient({ url: o.url, token, pingIntervalMs: o.ping_interval, pingTimeoutMs: o.ping_timeout, log: ctx.log });
    this.client.on('ready', () => {
      if (this.everReady) this.model.reconnects += 1;
      this.everReady = true;
      void this.resync();
    });
    const down = (reason: 'unreachable' | 'timeout' | 'auth', message: string, hint: string) => {
      this.isSynced = false;
      this.failure = new ExporterError(reason, message, { hint });
      ctx.reportError(this.failure);
    };
    this.client.on('auth_invalid', (m?: string) =>
      down('auth', `Home Assistant refused the access token (auth_invalid${m ? `: ${m}` : ''})`, 'create a new long-lived access token (of an administrator) and restart HomeStation; not retrying meanwhile'),
    );
    this.client.on('connect_error', (m: string) => down('unreachable', `cannot reach ${o.url}: ${m}`, 'is Home Assistant running and reachable?'));
    this.client.on('hang', (m: string) => down('timeout', m, 'Home Assistant is overloaded or stuck; look at its host'));
    this.client.on('down', () => {
      if (this.failure?.reason !== 'timeout') down('unreachable', `the connection to ${o.url} closed; reconnecting`, 'is Home Assistant running and reachable?');
    });
  }

  /** Applies an event; what was skipped is counted and said once per kind of problem. */
  private take(type: Subscription, event: unknown, live: boolean): void {
    const { skipped, problems } = applyHaEvent(this.model, type, event, live, this.ctx.now());
    for (const what of skipped) this.model.countUnparsed(what);
    for (const p of problems) this.warn.warn(p, { problem: p }, 'Home Assistant sent a bluetooth message HomeStation could not read; skipped, the rest kept');
    this.ctx.reportSuccess();
  }

  private async resync(): Promise<void> {
    this.isSynced = false;
    this.model.beginSync();
    await this.deviceNames();
    await this.client.subscribe({ type: 'subscribe_events', event_type: 'device_registry_updated' }, () => void this.deviceNames());
    // The first advert event after the result is HA's history, replayed (HA sends it even when empty).
    let replayed = false;
    const handler = (type: Subscription) => (event: HaMessage['event']) => {
      const live = type !== 'bluetooth/subscribe_advertisements' || replayed;
      if (type === 'bluetooth/subscribe_advertisements') replayed = true;
      this.take(type, event, live);
    };
    for (const type of SUBSCRIPTIONS) {
      const res = await this.client.subscribe({ type }, handler(type));
      if (!res.success) return this.refused(type, res);
    }
    // HA answers in order: once the pong is in, every replayed event before it is too.
    const pong = await this.client.command({ type: 'ping' });
    if (pong.type !== 'pong') return;
    this.model.endSync(this.ctx.now());
    this.failure = undefined;
    this.isSynced = true;
    this.ctx.reportSuccess();
    this.ctx.log.info({ url: this.o.url }, 'Home Assistant bluetooth synced');
  }

  private refused(type: string, res: HaMessage): void {
    const code = res.error?.code ?? 'unknown';
    if (code === 'not_connected' || code === 'closed') return; // the reconnect says it
    const [reason, message, hint]: [ExporterError['reason'], string, string] =
      code === 'unauthorized'
        ? ['auth', `Home Assistant refused ${type}: ${res.error?.message ?? 'Unauthorized'}`, "HA's bluetooth commands require an administrator: make the token's user an administrator (or create the token as one), then restart HomeStation; it also asks again at each reconnect"]
        : code === 'unknown_command'
          ? ['other', `Home Assistant does not know ${type}`, 'the bluetooth integration is not loaded, or this Home Assistant is older than the command; update HA or load the Bluetooth integration']
          : ['other', `Home Assistant answered ${type} with ${code}: ${res.error?.message ?? ''}`, 'see the Home Assistant log'];
    this.failure = new ExporterError(reason, message, { hint });
    this.ctx.reportError(this.failure);
  }

  /** Bluetooth address -> the name a person gave the device in HA (name_by_user, else name). */
  private async deviceNames(): Promise<void> {
    const r = await this.client.command({ type: 'config/device_registry/list' });
    if (!r.success || !Array.isArray(r.result)) return;
    const names = new Map<string, string>();
    for (const d of r.result as { connections?: unknown; name?: string | null; name_by_user?: string | null }[]) {
      const name = d.name_by_user ?? d.name;
      if (!name || !Array.isArray(d.connections)) continue;
      for (const c of d.connections as unknown[]) {
        if (Array.isArray(c) && c[0] === 'bluetooth' && typeof c[1] === 'string') names.set(normalizeAddress(c[1]), name);
      }
    }
    this.model.setRegistryNames(names);
  }

  start(): Promise<void> {
    return this.client.start();
  }

  stop(): Promise<void> {
    return this.client.stop();
  }

  synced(): boolean {
    return this.isSynced && this.client.connected;
  }

  error(): ExporterError {
    if (this.failure) return this.failure;
    return this.client.connected
      ? new ExporterError('other', 'syncing with Home Assistant', { hint: 'wait a moment' })
      : new ExporterError('unreachable', `not connected to ${this.o.url}${this.client.lastError ? `: ${this.client.lastError}` : ''}`, { hint: 'is Home Assistant running and reachable?' });
  }
}
