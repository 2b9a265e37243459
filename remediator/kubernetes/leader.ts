/**
 * Leader election on a coordination.k8s.io/v1 Lease, with client-go's semantics
 * (tools/leaderelection): a candidate takes the Lease when it is free or its holder
 * has not renewed it for leaseDuration, measured on this process's clock from when
 * the holder's record was last seen to change (never from the remote timestamps, so
 * clock skew between nodes does not matter); writes carry the resourceVersion read,
 * so of two candidates racing only one wins (409 for the other). The leader renews
 * every retryPeriod and gives up when it could not for renewDeadline: before the
 * Lease can expire for the others (renewDeadline < leaseDuration), it stops acting.
 * A graceful stop releases the Lease so that a standby takes over at once.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { KubeApiError, type KubeClient } from '../../collector/kube/client.js';

export interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; [k: string]: unknown };
  spec?: LeaseSpec;
}

export interface LeaderElectorOptions {
  readonly client: KubeClient;
  readonly namespace: string;
  readonly name: string;
  /** This candidate; unset: $POD_NAME, else hostname + a random suffix (client-go's default shape). */
  readonly identity?: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  readonly log: Logger;
  /** Became the leader: start acting. */
  readonly onStartedLeading: () => void | Promise<void>;
  /** No longer the leader (renewal failed, or stop): stop acting at once. */
  readonly onStoppedLeading: () => void | Promise<void>;
}

/** A Lease's MicroTime: RFC 3339 with microseconds. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export function defaultIdentity(env: NodeJS.ProcessEnv = process.env): string {
  return env.POD_NAME || `${hostname()}_${randomUUID()}`;
}

export class LeaderElector {
  readonly identity: string;
  private leader = false;
  private stopped = true;
  private observed: { spec: string; at: number } | undefined;
  private wake: (() => void) | undefined;
  private loop: Promise<void> | undefined;
  /** Times this candidate became the leader. */
  terms = 0;

  constructor(private readonly o: LeaderElectorOptions) {
    if (o.renewDeadlineMs >= o.leaseDurationMs) throw new Error('leader election: renew_deadline must be shorter than lease_duration');
    if (o.retryPeriodMs >= o.renewDeadlineMs) throw new Error('leader election: retry_period must be shorter than renew_deadline');
    this.identity = o.identity ?? defaultIdentity();
  }

  get isLeader(): boolean {
    return this.leader;
  }

  private get path(): string {
    return `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(this.o.namespace)}/leases`;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.loop = this.run();
  }

  /** Stops campaigning; a leader stops leading and releases the Lease. */
  async stop(options: { release?: boolean } = {}): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    if (this.leader) {
      this.leader = false;
      await this.o.onStoppedLeading();
      if (options.release !== false) await this.release();
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      // Campaign: try every retryPeriod (with jitter, as client-go) until the Lease is ours.
      if (!(await this.tryAcquireOrRenew())) {
        await this.sleep(this.o.retryPeriodMs * (1 + Math.random() * 0.2));
        continue;
      }
      this.leader = true;
      this.terms += 1;
      this.o.log.info({ lease: `${this.o.namespace}/${this.o.name}`, identity: this.identity }, 'became the leader');
      await this.o.onStartedLeading();
      // Renew every retryPeriod; give up when no renewal succeeded for renewDeadline.
      let lastRenew = Date.now();
      while (!this.stopped) {
        await this.sleep(this.o.retryPeriodMs);
        if (this.stopped) break;
        if (await this.tryAcquireOrRenew()) {
          lastRenew = Date.now();
          continue;
        }
        if (Date.now() - lastRenew >= this.o.renewDeadlineMs) break;
      }
      if (this.stopped) return; // stop() ends the term and releases
      this.leader = false;
      this.o.log.error({ lease: `${this.o.namespace}/${this.o.name}`, identity: this.identity }, `leadership lost: the Lease could not be renewed for ${this.o.renewDeadlineMs / 1000} s; stopped acting`);
      await this.o.onStoppedLeading();
    }
  }

  /** One round of client-go's tryAcquireOrRenew: true when this candidate holds the Lease after it. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = Date.now();
    const mine: LeaseSpec = {
      holderIdentity: this.identity,
      leaseDurationSeconds: Math.ceil(this.o.leaseDurationMs / 1000),
      acquireTime: microTime(now),
      renewTime: microTime(now),
      leaseTransitions: 0,
    };
    try {
      let lease: Lease;
      try {
        lease = await this.o.client.request<Lease>('GET', `${this.path}/${encodeURIComponent(this.o.name)}`, { timeoutMs: this.o.retryPeriodMs * 2 });
      } catch (err) {
        if (!(err instanceof KubeApiError && err.status === 404)) throw err;
        await this.o.client.request('POST', this.path, { body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: this.o.name, namespace: this.o.namespace }, spec: mine } });
        this.observed = { spec: JSON.stringify(mine), at: now };
        return true;
      }
      const spec = lease.spec ?? {};
      const seen = JSON.stringify(spec);
      if (this.observed?.spec !== seen) this.observed = { spec: seen, at: now };
      const heldByOther = Boolean(spec.holderIdentity) && spec.holderIdentity !== this.identity;
      const expiresAt = (this.observed?.at ?? now) + (spec.leaseDurationSeconds ?? 0) * 1000;
      if (heldByOther && expiresAt > now) return false;
      const next: LeaseSpec =
        spec.holderIdentity === this.identity
          ? { ...mine, acquireTime: spec.acquireTime ?? mine.acquireTime, leaseTransitions: spec.leaseTransitions ?? 0 }
          : { ...mine, leaseTransitions: (spec.leaseTransitions ?? 0) + (spec.holderIdentity ? 1 : 0) };
      const updated = await this.o.client.request<Lease>('PUT', `${this.path}/${encodeURIComponent(this.o.name)}`, { body: { ...lease, spec: next }, timeoutMs: this.o.retryPeriodMs * 2 });
      this.observed = { spec: JSON.stringify(updated.spec ?? next), at: now };
      return true;
    } catch (err) {
      const e = err as Error;
      if (e instanceof KubeApiError && e.status === 409) this.o.log.debug({ identity: this.identity }, 'another candidate wrote the Lease first');
      else this.o.log.warn({ lease: `${this.o.namespace}/${this.o.name}`, err: e.message }, 'the Lease could not be read or written');
      return false;
    }
  }

  /** Gives the Lease up (holder cleared, 1 s), as client-go's ReleaseOnCancel. */
  private async release(): Promise<void> {
    try {
      const lease = await this.o.client.request<Lease>('GET', `${this.path}/${encodeURIComponent(this.o.name)}`, { timeoutMs: 2000 });
      if (lease.spec?.holderIdentity !== this.identity) return;
      const now = microTime(Date.now());
      await this.o.client.request('PUT', `${this.path}/${encodeURIComponent(this.o.name)}`, {
        body: { ...lease, spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: now, acquireTime: now } },
        timeoutMs: 2000,
      });
      this.o.log.info({ lease: `${this.o.namespace}/${this.o.name}` }, 'released the Lease');
    } catch (err) {
      this.o.log.warn({ err: (err as Error).message }, 'the Lease could not be released; a standby takes it when it expires');
    }
  }
}
