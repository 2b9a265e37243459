/**
 * Home Assistant's WebSocket API, as its own frontend speaks it: auth_required ->
 * auth -> auth_ok | auth_invalid, then commands with strictly increasing ids,
 * results and events (one message or a coalesced JSON array per frame), and
 * ping/pong. Reconnects with backoff and a full resync; never retries a refused
 * token (HA bans an IP after repeated login failures).
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import type WebSocket from 'ws';

export interface HaMessage {
  id?: number;
  type: string;
  success?: boolean;
  result?: unknown;
  error?: { code: string; message: string };
  event?: { event_type?: string; data?: unknown } & Record<string, unknown>;
  ha_version?: string;
  message?: string;
}

export interface ClientOptions {
  readonly url: string;
  readonly token: string;
  /** A ping goes out when HA has said nothing for this long. */
  readonly pingIntervalMs: number;
  /** No answer to it (and no other message) in this long: HA hangs; reconnect. */
  readonly pingTimeoutMs: number;
  readonly log: Logger;
}

type Pending = (m: HaMessage) => void;

/** Events: 'ready' (authenticated), 'down' (closed), 'hang', 'connect_error', 'auth_invalid', 'rtt'. */
export class HaClient extends EventEmitter {
  private ws: WebSocket | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly subscriptions = new Map<number, (event: HaMessage['event']) => void>();
  private pingTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private backoff = 1000;
  private stopped = false;
  authRefused = false;
  connected = false;
  lastError: string | undefined;
  /** When HA last sent anything: every message is a sign of life. */
  private lastMessageAt = 0;
  /** HA coalesces messages into arrays once asked (supported_features). */
  coalescing = false;

  constructor(private readonly o: ClientOptions) {
    super();
  }

  private wsUrl(): string {
    const u = new URL('/api/websocket', this.o.url);
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    return u.toString();
  }

  async start(): Promise<void> {
    const { default: WS } = await import('ws');
    const open = () => {
      if (this.stopped || this.authRefused) return;
      this.nextId = 1; // ids restart with each connection
      const ws = new WS(this.wsUrl(), { handshakeTimeout: 10_000 });
      this.ws = ws;
      ws.on('message', (data) => this.onFrame(String(data)));
      ws.on('error', (err) => {
        this.lastError = err.message;
        this.emit('connect_error', err.message);
      });
      ws.on('close', () => {
        const was = this.connected;
        this.connected = false;
        this.coalescing = false;
        clearInterval(this.pingTimer);
        for (const p of this.pending.values()) p({ type: 'result', success: false, error: { code: 'closed', message: 'connection closed' } });
        this.pending.clear();
        this.subscriptions.clear();
        if (was) this.emit('down');
        if (this.stopped || this.authRefused) return;
        this.reconnectTimer = setTimeout(open, this.backoff);
        this.backoff = Math.min(this.backoff * 2, 60_000);
      });
    };
    open();
  }

  private onFrame(text: string): void {
    this.lastMessageAt = performance.now();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      this.o.log.warn('Home Assistant sent a frame that is not JSON; ignored');
      return;
    }
    // HA coalesces several messages into one JSON array under load.
    for (const m of (Array.isArray(parsed) ? parsed : [parsed]) as HaMessage[]) this.onMessage(m);
  }

  private onMessage(m: HaMessage): void {
    switch (m.type) {
      case 'auth_required':
        this.ws?.send(JSON.stringify({ type: 'auth', access_token: this.o.token }));
        return;
      case 'auth_ok':
        this.connected = true;
        this.backoff = 1000;
        this.lastError = undefined;
        // Checked twice per interval, so a hang is pinged at most 1.5 intervals after HA's last word.
        this.pingTimer = setInterval(() => void this.ping(), this.o.pingIntervalMs / 2);
        this.pingTimer.unref();
        // Coalesced frames cost HA and us less under load (HA 2022.11+; older ones answer unknown_command).
        void this.command({ type: 'supported_features', features: { coalesce_messages: 1 } }).then((r) => {
          this.coalescing = r.success === true;
        });
        this.emit('ready', m.ha_version);
        return;
      case 'auth_invalid':
        this.authRefused = true;
        this.lastError = m.message ?? 'auth_invalid';
        this.emit('auth_invalid', m.message);
        this.ws?.close();
        return;
      case 'result':
      case 'pong': {
        const p = m.id === undefined ? undefined : this.pending.get(m.id);
        if (p && m.id !== undefined) {
          this.pending.delete(m.id);
          p(m);
        }
        return;
      }
      case 'event': {
        const sub = m.id === undefined ? undefined : this.subscriptions.get(m.id);
        sub?.(m.event);
        return;
      }
      default:
        return;
    }
  }

  /** Sends a command; resolves with its result message (success or not). */
  command(payload: Record<string, unknown>, timeoutMs = 30_000): Promise<HaMessage> {
    return new Promise((resolve) => {
      const ws = this.ws;
      if (!ws || !this.connected) {
        resolve({ type: 'result', success: false, error: { code: 'not_connected', message: 'not connected' } });
        return;
      }
      const id = this.nextId++;
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve({ type: 'result', success: false, error: { code: 'timeout', message: `no answer to ${String(payload.type)} in ${timeoutMs} ms` } });
      }, timeoutMs);
      timer.unref();
      this.pending.set(id, (m) => {
        clearTimeout(timer);
        resolve(m);
      });
      ws.send(JSON.stringify({ id, ...payload }));
    });
  }

  /** Subscribes (subscribe_events or any subscribe_* command); events go to `onEvent`. */
  async subscribe(payload: Record<string, unknown>, onEvent: (event: HaMessage['event']) => void): Promise<HaMessage> {
    const id = this.nextId; // the id command() will use
    this.subscriptions.set(id, onEvent);
    const res = await this.command(payload);
    if (!res.success) this.subscriptions.delete(id);
    return res;
  }

  /**
   * A ping only when HA has been quiet for a ping interval (any message is a sign of
   * life); no answer and no other message within the timeout: HA hangs, reconnect.
   * Worst case from a hang to the reconnect: 1.5 intervals plus the timeout (12.5 s
   * with the defaults).
   */
  private async ping(): Promise<void> {
    if (this.pinging || performance.now() - this.lastMessageAt < this.o.pingIntervalMs) return;
    this.pinging = true;
    const t0 = performance.now();
    const res = await this.command({ type: 'ping' }, this.o.pingTimeoutMs);
    this.pinging = false;
    if (res.type === 'pong') this.emit('rtt', (performance.now() - t0) / 1000);
    else if (this.connected && this.lastMessageAt < t0) {
      this.lastError = `no answer to a ping in ${this.o.pingTimeoutMs} ms: Home Assistant hangs`;
      this.o.log.warn({ timeoutMs: this.o.pingTimeoutMs }, 'Home Assistant did not answer a ping; reconnecting');
      this.emit('hang', this.lastError);
      this.ws?.terminate();
    }
  }
  private pinging = false;

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    clearInterval(this.pingTimer);
    this.ws?.close();
  }
}
