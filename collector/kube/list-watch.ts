/**
 * A local copy of one collection of Kubernetes objects, kept current by the API's
 * list-then-watch protocol (client-go's reflector): list, then watch from the list's
 * resourceVersion with bookmarks; a watch the server ends is resumed from the last
 * version seen; "410 Gone" (the version left etcd's window) lists again. The copy is
 * kept while the API is unreachable: last-known state survives a reconnect.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from 'pino';
import { KubeApiError, type KubeClient, type WatchEvent } from './client.js';

export interface KubeObject {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly metadata: {
    readonly name: string;
    readonly namespace?: string;
    readonly resourceVersion?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
    readonly creationTimestamp?: string;
    readonly uid?: string;
    readonly generation?: number;
  };
}

interface List<T> {
  readonly metadata?: { readonly resourceVersion?: string };
  readonly items: T[];
}

export interface ListWatchOptions {
  readonly log: Logger;
  readonly labelSelector?: string;
  /** The server ends each watch after about this long (it is resumed at once). */
  readonly watchTimeoutSeconds?: number;
  /** Backoff after a failure: from min, doubling to max. */
  readonly minBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** A watch with no event and no bookmark for this long is taken as hung. */
  readonly idleMs?: number;
}

const keyOf = (o: KubeObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

/** Events: 'change' (the copy changed), 'state' (synced/connected/lastError changed). */
export class ListWatch<T extends KubeObject> extends EventEmitter {
  private readonly store = new Map<string, T>();
  private version: string | undefined;
  private abort: AbortController | undefined;
  private stopped = true;
  private backoff: number;
  private loop: Promise<void> | undefined;
  /** A full list has been read at least once. */
  synced = false;
  /** The last list or watch succeeded and the watch is open. */
  connected = false;
  lastError: Error | undefined;
  /** Lists made (a relist after 410 counts too), for tests and logs. */
  lists = 0;

  constructor(
    private readonly client: KubeClient,
    /** The collection's path, e.g. /apis/velero.io/v1/namespaces/velero/backups. */
    readonly path: string,
    private readonly o: ListWatchOptions,
  ) {
    super();
    this.backoff = o.minBackoffMs ?? 1000;
  }

  items(): T[] {
    return [...this.store.values()];
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.abort?.abort();
    await this.loop;
  }

  private setState(connected: boolean, err?: Error): void {
    const changed = connected !== this.connected || err?.message !== this.lastError?.message;
    this.connected = connected;
    this.lastError = err;
    if (changed) this.emit('state');
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      this.abort = new AbortController();
      try {
        if (this.version === undefined) await this.list(this.abort.signal);
        await this.watchOnce(this.abort.signal);
        this.backoff = this.o.minBackoffMs ?? 1000; // a watch that ran and ended is no failure
      } catch (err) {
        if (this.stopped) break;
        const e = err as Error;
        if (e instanceof KubeApiError && (e.status === 410 || e.reason === 'Expired' || e.reason === 'Gone')) {
          this.o.log.info({ path: this.path }, 'the watch version is too old (410): listing again');
          this.version = undefined;
          continue;
        }
        this.setState(false, e);
        this.o.log.warn({ path: this.path, err: e.message, retryInMs: this.backoff }, 'kubernetes list/watch failed');
        await this.sleep(this.backoff);
        this.backoff = Math.min(this.backoff * 2, this.o.maxBackoffMs ?? 30_000);
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.abort?.signal.addEventListener('abort', () => {
        clearTimeout(t);
        resolve();
      }, { once: true });
    });
  }

  private async list(signal: AbortSignal): Promise<void> {
    this.lists += 1;
    const list = await this.client.request<List<T>>('GET', this.path, { query: { labelSelector: this.o.labelSelector }, signal });
    this.store.clear();
    for (const item of list.items) this.store.set(keyOf(item), item);
    this.version = list.metadata?.resourceVersion;
    this.synced = true;
    this.setState(true);
    this.emit('change');
  }

  private async watchOnce(signal: AbortSignal): Promise<void> {
    const onEvent = (e: WatchEvent<T>) => {
      if (e.type === 'ERROR') {
        const s = e.object as unknown as { code?: number; reason?: string; message?: string };
        throw new KubeApiError(s.code ?? 500, s.reason ?? 'Unknown', `watch ${this.path}: ${s.message ?? 'error event'}`);
      }
      const rv = e.object?.metadata?.resourceVersion;
      if (rv) this.version = rv;
      if (e.type === 'BOOKMARK') return;
      if (e.type === 'DELETED') this.store.delete(keyOf(e.object));
      else this.store.set(keyOf(e.object), e.object);
      this.emit('change');
    };
    await this.client.watch<T>(
      this.path,
      {
        labelSelector: this.o.labelSelector,
        resourceVersion: this.version,
        allowWatchBookmarks: true,
        timeoutSeconds: this.o.watchTimeoutSeconds ?? 300,
      },
      onEvent,
      signal,
      { idleMs: this.o.idleMs ?? 0, onOpen: () => this.setState(true) },
    );
  }
}
