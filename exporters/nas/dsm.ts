/**
 * Synology DSM through its Web API, with a dedicated account: the API paths from
 * SYNO.API.Info (once), a session from SYNO.API.Auth (login by POST, so the password
 * is in no URL), then SYNO.Storage.CGI.Storage load_info each collection. A session
 * that DSM ended (codes 105, 106, 107, 119) is logged in again once. A refused login
 * (400 wrong account or password, 401 disabled, 403/404 two-factor) is not retried
 * for 10 minutes: DSM blocks an address after repeated failed logins.
 */
import { readFileSync } from 'node:fs';
import type { InstanceContext, Sample } from '../../collector/contract.js';
import { ExporterError } from '../../collector/contract.js';
import { M } from './metrics.js';
import { dsmStorageSamples } from './parse/dsm.js';

export interface DsmConfig {
  readonly url: string;
  readonly username: string;
  readonly password_file: string;
  readonly timeout: number;
}

const SESSION_GONE = new Set([105, 106, 107, 119]);
const AUTH_MESSAGES: Record<number, string> = {
  400: 'no such account or wrong password',
  401: 'the account is disabled',
  402: 'permission denied',
  403: 'two-step verification is required: use an account without it for HomeStation',
  404: 'two-step verification failed',
  407: 'this address is blocked by DSM (too many failed logins)',
};
const AUTH_BACKOFF_MS = 10 * 60_000;

/* eslint-disable @typescript-eslint/no-explicit-any */
type Answer = { success: boolean; data?: any; error?: { code: number } };

export class DsmSource {
  private paths?: { auth: string; storage: string; authVersion: number };
  private sid?: string;
  private refusedUntil = 0;
  private ok = false;
  private last: Sample[] = [];
  private readonly base: string;

  constructor(
    private readonly ctx: InstanceContext,
    private readonly config: DsmConfig,
  ) {
    this.base = config.url.replace(/\/+$/, '');
  }

  private async call(path: string, params: Record<string, string>, post = false): Promise<Answer> {
    const body = new URLSearchParams(params);
    const url = `${this.base}/webapi/${path}${post ? '' : `?${body}`}`;
    let res: Response;
    try {
      res = await fetch(url, {
        method: post ? 'POST' : 'GET',
        ...(post ? { body, headers: { 'content-type': 'application/x-www-form-urlencoded' } } : {}),
        signal: AbortSignal.timeout(this.config.timeout),
      });
    } catch (err) {
      const e = err as Error;
      throw new ExporterError(e.name === 'TimeoutError' ? 'timeout' : 'unreachable', `DSM at ${this.base}: ${e.name === 'TimeoutError' ? 'no answer in time' : e.message}`);
    }
    if (!res.ok) throw new ExporterError('unreachable', `DSM at ${this.base} answered HTTP ${res.status} to ${path}`);
    try {
      return (await res.json()) as Answer;
    } catch {
      throw new ExporterError('parse', `DSM at ${this.base}: ${path} did not answer JSON`);
    }
  }

  private async discover(): Promise<NonNullable<DsmSource['paths']>> {
    const a = await this.call('query.cgi', { api: 'SYNO.API.Info', version: '1', method: 'query', query: 'SYNO.API.Auth,SYNO.Storage.CGI.Storage' });
    const auth = a.data?.['SYNO.API.Auth'];
    const storage = a.data?.['SYNO.Storage.CGI.Storage'];
    if (!a.success || !auth?.path || !storage?.path) throw new ExporterError('parse', `DSM at ${this.base}: SYNO.API.Info lists no SYNO.API.Auth or SYNO.Storage.CGI.Storage (DSM 6 or later is needed)`);
    return { auth: auth.path as string, storage: storage.path as string, authVersion: Math.min(6, Number(auth.maxVersion) || 3) };
  }

  private async login(paths: NonNullable<DsmSource['paths']>): Promise<string> {
    if (Date.now() < this.refusedUntil) {
      throw new ExporterError('auth', `DSM refused the login of ${this.config.username}; not trying again before ${new Date(this.refusedUntil).toISOString()}`);
    }
    const password = readFileSync(this.config.password_file, 'utf8').replace(/\r?\n$/, '');
    const a = await this.call(paths.auth, { api: 'SYNO.API.Auth', version: String(paths.authVersion), method: 'login', account: this.config.username, passwd: password, session: 'HomeStation', format: 'sid' }, true);
    if (!a.success || typeof a.data?.sid !== 'string') {
      const code = a.error?.code ?? 0;
      this.refusedUntil = Date.now() + AUTH_BACKOFF_MS;
      throw new ExporterError('auth', `DSM refused the login of ${this.config.username}: ${AUTH_MESSAGES[code] ?? `error ${code}`}`, {
        hint: 'a dedicated DSM account in the administrators group (the storage report needs it), without two-step verification',
      });
    }
    this.ctx.log.info({ url: this.base, account: this.config.username }, 'logged in to DSM');
    return a.data.sid as string;
  }

  private async storage(): Promise<Sample[]> {
    this.paths ??= await this.discover();
    for (let attempt = 0; attempt < 2; attempt++) {
      this.sid ??= await this.login(this.paths);
      const a = await this.call(this.paths.storage, { api: 'SYNO.Storage.CGI.Storage', version: '1', method: 'load_info', _sid: this.sid });
      if (a.success) {
        try {
          return dsmStorageSamples(a.data);
        } catch (err) {
          throw new ExporterError('parse', `DSM at ${this.base}: ${(err as Error).message}`);
        }
      }
      const code = a.error?.code ?? 0;
      if (SESSION_GONE.has(code) && attempt === 0) {
        // DSM ended the session (timeout, another login, a restart): log in again, once.
        this.sid = undefined;
        continue;
      }
      throw new ExporterError(code === 105 ? 'auth' : 'other', `DSM at ${this.base}: load_info failed with error ${code}`);
    }
    throw new ExporterError('auth', `DSM at ${this.base}: the new session was refused too`);
  }

  /** The storage report, or the last one with dsm_up 0 (the error counted and logged by the runner). */
  async samples(): Promise<Sample[]> {
    try {
      this.last = await this.storage();
      if (!this.ok) this.ctx.log.info({ url: this.base }, 'DSM storage report read');
      this.ok = true;
    } catch (err) {
      this.ok = false;
      this.ctx.reportError(err instanceof ExporterError ? err : new ExporterError('other', (err as Error).message));
    }
    return [...this.last, { metric: M.dsmUp, value: this.ok ? 1 : 0 }];
  }
}
