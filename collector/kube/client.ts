/**
 * The Kubernetes REST calls HomeStation makes, over node's https: JSON requests
 * (errors as the API's Status objects) and watches (one JSON event per line, as the
 * API server streams them). Kept alive on one agent.
 */
import http from 'node:http';
import https from 'node:https';
import type { KubeConnection } from './connection.js';

/** The API's metav1.Status, as it comes with an error. */
export interface KubeStatus {
  readonly kind?: string;
  readonly status?: string;
  readonly message?: string;
  readonly reason?: string;
  readonly code?: number;
  readonly details?: { readonly name?: string; readonly kind?: string; readonly causes?: readonly { reason?: string; message?: string; field?: string }[]; readonly retryAfterSeconds?: number };
}

/** A non-2xx answer: `status` the HTTP code, `reason` the Status reason (NotFound, Conflict, Forbidden, TooManyRequests, Expired...). */
export class KubeApiError extends Error {
  override readonly name = 'KubeApiError';
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly body?: KubeStatus,
  ) {
    super(message);
  }
}

/** A transport failure (refused, reset, TLS): no answer from the API server. */
export class KubeTransportError extends Error {
  override readonly name = 'KubeTransportError';
}

export interface WatchEvent<T> {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  readonly object: T;
}

export interface RequestOptions {
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>;
  readonly body?: unknown;
  /** The body's content type: application/json, or a patch type (merge-patch+json, ...). */
  readonly contentType?: string;
  readonly signal?: AbortSignal;
  /** No answer in this long: the request fails (ms; default 30 s). */
  readonly timeoutMs?: number;
}

function withQuery(path: string, query: RequestOptions['query']): string {
  if (!query) return path;
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) q.set(k, String(v));
  const s = q.toString();
  return s ? `${path}${path.includes('?') ? '&' : '?'}${s}` : path;
}

function errorFrom(status: number, text: string, method: string, path: string): KubeApiError {
  let body: KubeStatus | undefined;
  try {
    body = JSON.parse(text) as KubeStatus;
  } catch {
    body = undefined;
  }
  const reason = body?.reason || http.STATUS_CODES[status]?.replace(/\s+/g, '') || 'Unknown';
  const message = body?.message || text.slice(0, 200) || `${status} ${http.STATUS_CODES[status] ?? ''}`.trim();
  return new KubeApiError(status, reason, `${method} ${path.split('?')[0]}: ${status} ${reason}: ${message}`, body);
}

export class KubeClient {
  private readonly agent: http.Agent;
  private readonly url: URL;

  constructor(readonly connection: KubeConnection) {
    this.url = new URL(connection.server);
    const tls = this.url.protocol === 'https:';
    this.agent = tls
      ? new https.Agent({
          keepAlive: true,
          ...(connection.ca !== undefined ? { ca: connection.ca } : {}),
          ...(connection.clientCert !== undefined ? { cert: connection.clientCert, key: connection.clientKey } : {}),
          ...(connection.tlsServerName ? { servername: connection.tlsServerName } : {}),
          rejectUnauthorized: connection.insecureSkipTlsVerify !== true,
        })
      : new http.Agent({ keepAlive: true });
  }

  private open(method: string, path: string, options: RequestOptions): { req: http.ClientRequest; response: Promise<http.IncomingMessage> } {
    const headers: Record<string, string> = { accept: 'application/json' };
    const auth = this.connection.authorization?.();
    if (auth) headers.authorization = auth;
    let payload: Buffer | undefined;
    if (options.body !== undefined) {
      payload = Buffer.from(JSON.stringify(options.body));
      headers['content-type'] = options.contentType ?? 'application/json';
      headers['content-length'] = String(payload.length);
    }
    const mod = this.url.protocol === 'https:' ? https : http;
    const req = mod.request({
      protocol: this.url.protocol,
      hostname: this.url.hostname.replace(/^\[|\]$/g, ''),
      port: this.url.port || (this.url.protocol === 'https:' ? 443 : 80),
      method,
      path: `${this.url.pathname.replace(/\/$/, '')}${path}`,
      headers,
      agent: this.agent,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const response = new Promise<http.IncomingMessage>((resolve, reject) => {
      req.once('response', resolve);
      req.once('error', (err) => reject(options.signal?.aborted ? err : new KubeTransportError(`${method} ${path.split('?')[0]}: ${err.message}`, { cause: err })));
    });
    req.end(payload);
    return { req, response };
  }

  /** One JSON request; resolves with the decoded body, rejects with KubeApiError or KubeTransportError. */
  async request<T>(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, options: RequestOptions = {}): Promise<T> {
    const full = withQuery(path, options.query);
    const { req, response } = this.open(method, full, options);
    const timer = setTimeout(() => req.destroy(new Error(`no answer in ${options.timeoutMs ?? 30_000} ms`)), options.timeoutMs ?? 30_000);
    try {
      const res = await response;
      const chunks: Buffer[] = [];
      for await (const c of res) chunks.push(c as Buffer);
      const text = Buffer.concat(chunks).toString('utf8');
      const status = res.statusCode ?? 0;
      if (status < 200 || status >= 300) throw errorFrom(status, text, method, full);
      try {
        return JSON.parse(text) as T;
      } catch {
        throw new KubeApiError(status, 'BadResponse', `${method} ${full.split('?')[0]}: the answer is not JSON: ${text.slice(0, 120)}`);
      }
    } catch (err) {
      if (err instanceof KubeApiError || err instanceof KubeTransportError) throw err;
      throw new KubeTransportError(`${method} ${full.split('?')[0]}: ${(err as Error).message}`, { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * A watch: each event to `onEvent` as it arrives. Resolves when the server ends the
   * stream (its timeoutSeconds), rejects on an error answer or a broken connection;
   * `signal` ends it from our side. `idleMs`: nothing at all (not even a bookmark)
   * for this long is a hung connection.
   */
  async watch<T>(
    path: string,
    query: RequestOptions['query'],
    onEvent: (e: WatchEvent<T>) => void,
    signal: AbortSignal,
    options: { readonly idleMs?: number; readonly onOpen?: () => void } = {},
  ): Promise<void> {
    const idleMs = options.idleMs ?? 0;
    const full = withQuery(path, { ...query, watch: true });
    const { req, response } = this.open('GET', full, { signal });
    const waited = idleMs > 0 ? idleMs : 30_000;
    const headers = setTimeout(() => req.destroy(new Error(`no answer in ${waited} ms`)), waited);
    const res = await response.finally(() => clearTimeout(headers));
    const status = res.statusCode ?? 0;
    if (status !== 200) {
      const chunks: Buffer[] = [];
      for await (const c of res) chunks.push(c as Buffer);
      throw errorFrom(status, Buffer.concat(chunks).toString('utf8'), 'GET', full);
    }
    options.onOpen?.();
    let idle: NodeJS.Timeout | undefined;
    const arm = () => {
      if (idleMs <= 0) return;
      clearTimeout(idle);
      idle = setTimeout(() => res.destroy(new Error(`the watch said nothing for ${idleMs} ms`)), idleMs);
    };
    arm();
    // Lines by hand, not readline: a stream's own iterator rejects when it is destroyed.
    let rest = '';
    const decoder = new TextDecoder();
    try {
      for await (const chunk of res) {
        arm();
        rest += decoder.decode(chunk as Buffer, { stream: true });
        let nl: number;
        while ((nl = rest.indexOf('\n')) >= 0) {
          const line = rest.slice(0, nl).trim();
          rest = rest.slice(nl + 1);
          if (line === '') continue;
          let event: WatchEvent<T>;
          try {
            event = JSON.parse(line) as WatchEvent<T>;
          } catch {
            throw new KubeApiError(200, 'BadResponse', `watch ${path}: not a JSON event: ${line.slice(0, 120)}`);
          }
          onEvent(event);
        }
      }
      if (!res.complete && !signal.aborted) throw new KubeTransportError(`watch ${path}: the connection broke`);
    } catch (err) {
      if (err instanceof KubeApiError || err instanceof KubeTransportError || signal.aborted) throw err;
      throw new KubeTransportError(`watch ${path}: ${(err as Error).message}`, { cause: err });
    } finally {
      clearTimeout(idle);
      if (!res.destroyed) res.destroy();
    }
  }

  close(): void {
    this.agent.destroy();
  }
}
