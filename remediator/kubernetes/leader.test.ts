/**
 * Leader election against the fake API server: one Lease, several candidates; the
 * leader killed (no release) is replaced once its Lease expires, a graceful stop
 * hands over at once, a leader that cannot renew stops acting before the others may
 * take over, and racing candidates never both lead.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { KubeClient } from '../../collector/kube/client.js';
import { FakeKubeApi } from '../../test/fakes/kube-api.js';
import { memoryLogger } from '../../test/helpers/runner.js';
import { LeaderElector, microTime, type LeaseSpec } from './leader.js';
import { until } from '../../test/helpers/until.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});


// Short enough for a test, long enough that a loaded CI machine's late timers do not decide it.
const TIMING = { leaseDurationMs: 2000, renewDeadlineMs: 1200, retryPeriodMs: 200 };

interface Candidate {
  elector: LeaderElector;
  /** Intervals of leading, as [start, end) in ms. */
  terms: [number, number | undefined][];
  lines: Record<string, unknown>[];
}

function candidate(api: FakeKubeApi, identity: string, token = identity): Candidate {
  const client = new KubeClient({ server: api.url, source: 'test', authorization: () => `Bearer ${token}` });
  const { log, lines } = memoryLogger();
  const c: Candidate = { terms: [], lines } as unknown as Candidate;
  c.elector = new LeaderElector({
    client,
    namespace: 'homestation',
    name: 'homestation-remediator',
    identity,
    ...TIMING,
    log,
    onStartedLeading: () => void c.terms.push([Date.now(), undefined]),
    onStoppedLeading: () => {
      const last = c.terms.at(-1);
      if (last) last[1] = Date.now();
    },
  });
  cleanup.push(() => client.close());
  cleanup.push(() => c.elector.stop({ release: false }));
  return c;
}

const LEASE_RULES = [{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'], namespaces: ['homestation'] }];

async function fake(users: string[]): Promise<FakeKubeApi> {
  const api = await new FakeKubeApi({ tokens: Object.fromEntries(users.map((u) => [u, `system:serviceaccount:homestation:${u}`])), rbac: Object.fromEntries(users.map((u) => [`system:serviceaccount:homestation:${u}`, LEASE_RULES])) }).start();
  cleanup.push(() => api.stop());
  return api;
}

const lease = (api: FakeKubeApi) => api.get('leases', 'coordination.k8s.io', 'homestation', 'homestation-remediator') as unknown as { spec: LeaseSpec } | undefined;
const leading = (cs: Candidate[]) => cs.filter((c) => c.elector.isLeader);

/** No two candidates ever led at the same moment. */
function expectNoOverlap(cs: Candidate[]): void {
  const all = cs.flatMap((c) => c.terms.map(([a, b]) => [a, b ?? Infinity] as const)).sort((x, y) => x[0] - y[0]);
  for (let i = 1; i < all.length; i++) expect(all[i]![0]).toBeGreaterThanOrEqual(all[i - 1]![1]);
}

describe('leader election on a Lease', () => {
  it('makes exactly one of three racing candidates the leader, and writes a Lease the API accepts', async () => {
    const api = await fake(['a', 'b', 'c']);
    const cs = ['a', 'b', 'c'].map((id) => candidate(api, id));
    for (const c of cs) c.elector.start();
    await until('a leader', () => leading(cs).length === 1);
    await new Promise((r) => setTimeout(r, 500)); // several renewals and campaigns
    expect(leading(cs)).toHaveLength(1);
    const spec = lease(api)!.spec;
    expect(spec.holderIdentity).toBe(leading(cs)[0]!.elector.identity);
    expect(spec.leaseDurationSeconds).toBe(TIMING.leaseDurationMs / 1000);
    expect(spec.renewTime).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/); // MicroTime
    expect(Date.parse(spec.renewTime!)).toBeGreaterThan(Date.now() - 1000);
    expect(spec.leaseTransitions).toBe(0);
    expectNoOverlap(cs);
  });

  it('replaces a killed leader once its Lease expires, and counts the transition', async () => {
    const api = await fake(['a', 'b']);
    const a = candidate(api, 'a');
    a.elector.start();
    await until('a leads', () => a.elector.isLeader);
    const b = candidate(api, 'b');
    b.elector.start();
    await new Promise((r) => setTimeout(r, 300));
    expect(b.elector.isLeader).toBe(false);
    // Killed: it neither renews nor releases (SIGKILL, a node gone).
    const killedAt = Date.now();
    await a.elector.stop({ release: false });
    await until('b leads', () => b.elector.isLeader, 8000);
    const took = Date.now() - killedAt;
    // Not before the Lease expired for b: lease_duration after the last renewal b saw, which came
    // at most one retry period (with client-go's jitter) before the kill.
    expect(took).toBeGreaterThanOrEqual(TIMING.leaseDurationMs - 1.2 * TIMING.retryPeriodMs - 20);
    expect(took).toBeLessThan(TIMING.leaseDurationMs + 2000);
    expect(lease(api)!.spec).toMatchObject({ holderIdentity: 'b', leaseTransitions: 1 });
    expectNoOverlap([a, b]);
  });

  it('hands over at once on a graceful stop (the Lease released)', async () => {
    const api = await fake(['a', 'b']);
    const a = candidate(api, 'a');
    a.elector.start();
    await until('a leads', () => a.elector.isLeader);
    const b = candidate(api, 'b');
    b.elector.start();
    await new Promise((r) => setTimeout(r, 200));
    const stoppedAt = Date.now();
    await a.elector.stop();
    expect(a.terms[0]![1]).toBeDefined(); // stopped leading before releasing
    await until('b leads', () => b.elector.isLeader, 3000);
    expect(Date.now() - stoppedAt).toBeLessThan(TIMING.leaseDurationMs); // no wait for expiry
    expect(a.lines.some((l) => l.msg === 'released the Lease')).toBe(true);
  });

  it('stops acting when it cannot renew (RBAC revoked, API gone) before another may take over', async () => {
    const api = await new FakeKubeApi({
      tokens: { a: 'system:serviceaccount:homestation:a', b: 'system:serviceaccount:homestation:b' },
      rbac: { 'system:serviceaccount:homestation:a': LEASE_RULES, 'system:serviceaccount:homestation:b': LEASE_RULES },
    }).start();
    cleanup.push(() => api.stop());
    const a = candidate(api, 'a');
    a.elector.start();
    await until('a leads', () => a.elector.isLeader);
    const b = candidate(api, 'b');
    b.elector.start();
    // a's renewals fail from now on: its token no longer works (as the API server gone, for a).
    api.revokeToken('a');
    const cutAt = Date.now();
    await until('a stops', () => !a.elector.isLeader, 3000);
    const stoppedAfter = Date.now() - cutAt;
    await until('b leads', () => b.elector.isLeader, 8000);
    const bAfter = Date.now() - cutAt;
    // The safety property: it stopped before its Lease could expire for anyone else.
    expect(stoppedAfter).toBeLessThan(TIMING.leaseDurationMs);
    expect(bAfter).toBeGreaterThan(stoppedAfter);
    expectNoOverlap([a, b]);
    expect(a.lines.some((l) => String(l.msg).startsWith('leadership lost: the Lease could not be renewed'))).toBe(true);
  });

  it('is refused with RBAC\'s message when it may not touch Leases, and never leads', async () => {
    const api = await new FakeKubeApi({ tokens: { a: 'system:serviceaccount:homestation:a' }, rbac: { 'system:serviceaccount:homestation:a': [] } }).start();
    cleanup.push(() => api.stop());
    const a = candidate(api, 'a');
    a.elector.start();
    await until('refused', () => a.lines.some((l) => String(l.err).includes('forbidden')));
    expect(a.elector.isLeader).toBe(false);
    expect(a.lines.find((l) => String(l.err).includes('forbidden'))?.err).toContain('leases.coordination.k8s.io "homestation-remediator" is forbidden: User "system:serviceaccount:homestation:a" cannot get resource "leases" in API group "coordination.k8s.io" in the namespace "homestation"');
  });

  it('refuses timings where a leader could still act after its Lease expired', () => {
    const client = new KubeClient({ server: 'http://127.0.0.1:1', source: 'test' });
    cleanup.push(() => client.close());
    const base = { client, namespace: 'n', name: 'l', log: memoryLogger().log, onStartedLeading: () => {}, onStoppedLeading: () => {} };
    expect(() => new LeaderElector({ ...base, leaseDurationMs: 10_000, renewDeadlineMs: 15_000, retryPeriodMs: 2000 })).toThrow('renew_deadline must be shorter than lease_duration');
    expect(microTime(Date.UTC(2026, 10, 26, 14, 40, 1, 234))).toBe('2026-11-26T14:40:01.234000Z');
  });

  it('gets a 400 from the fake for a Lease the real API server could not decode', async () => {
    const api = await fake(['a']);
    const client = new KubeClient({ server: api.url, source: 'test', authorization: () => 'Bearer a' });
    cleanup.push(() => client.close());
    await expect(
      client.request('POST', '/apis/coordination.k8s.io/v1/namespaces/homestation/leases', { body: { metadata: { name: 'x' }, spec: { holderIdentity: 'a', leaseDurationSeconds: '15' } } }),
    ).rejects.toMatchObject({ status: 400, message: expect.stringContaining('Lease in version "v1" cannot be handled as a Lease: strict decoding error: spec.leaseDurationSeconds: must be integer') });
    await expect(client.request('POST', '/apis/coordination.k8s.io/v1/namespaces/homestation/leases', { body: { metadata: { name: 'x' }, spec: { holder: 'a' } } })).rejects.toMatchObject({
      status: 400,
      message: expect.stringContaining('unknown field "spec.holder"'),
    });
  });
});
