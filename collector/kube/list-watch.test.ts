/**
 * The list-then-watch copy against the fake API server: live events, bookmarks that
 * spare a relist after compaction, 410 relists, an API server that goes away, hangs
 * or refuses (RBAC), with the last-known copy kept throughout.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { FakeKubeApi } from '../../test/fakes/kube-api.js';
import { memoryLogger } from '../../test/helpers/runner.js';
import { KubeApiError, KubeClient } from './client.js';
import { ListWatch, type KubeObject } from './list-watch.js';
import { until } from '../../test/helpers/until.js';

const BACKUPS = '/apis/velero.io/v1/namespaces/velero/backups';
const backup = (name: string, labels: Record<string, string> = {}) => ({ metadata: { name, namespace: 'velero', labels }, spec: {}, status: { phase: 'Completed' } });


const open: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  for (const x of open.splice(0).reverse()) await x.stop();
});

async function setup(fakeOptions: ConstructorParameters<typeof FakeKubeApi>[0] = {}, token?: string) {
  const api = await new FakeKubeApi({ bookmarkMs: 50, ...fakeOptions }).start();
  open.push(api);
  const client = new KubeClient({ server: api.url, source: 'test', ...(token ? { authorization: () => `Bearer ${token}` } : {}) });
  open.push({ stop: async () => client.close() });
  const { log, lines } = memoryLogger();
  const lw = new ListWatch<KubeObject>(client, BACKUPS, { log, minBackoffMs: 20, maxBackoffMs: 100 });
  open.push(lw);
  return { api, client, lw, lines };
}

const names = (lw: ListWatch<KubeObject>) => lw.items().map((o) => o.metadata.name).sort();

describe('ListWatch against the fake API server', () => {
  it('lists, then follows additions, changes and deletions live', async () => {
    const { api, lw } = await setup();
    api.put('backups', 'velero.io', backup('a'));
    api.put('backups', 'velero.io', { ...backup('other'), metadata: { name: 'other', namespace: 'default' } });
    lw.start();
    await until('synced', () => lw.synced && lw.connected);
    expect(names(lw)).toEqual(['a']); // the namespace's only
    api.put('backups', 'velero.io', backup('b'));
    await until('b', () => names(lw).includes('b'));
    api.put('backups', 'velero.io', { ...backup('a'), status: { phase: 'PartiallyFailed' } });
    await until('a modified', () => (lw.items().find((o) => o.metadata.name === 'a') as unknown as { status: { phase: string } }).status.phase === 'PartiallyFailed');
    api.remove('backups', 'velero.io', 'velero', 'b');
    await until('b gone', () => !names(lw).includes('b'));
    expect(lw.lists).toBe(1);
  });

  it('resumes from a bookmark after the history was compacted, without listing again', async () => {
    const { api, lw } = await setup();
    api.put('backups', 'velero.io', backup('a'));
    lw.start();
    await until('synced', () => lw.synced && api.openWatches() === 1);
    // Other resources move the store's version on; only a bookmark tells the watch.
    for (let i = 0; i < 5; i++) api.put('schedules', 'velero.io', { metadata: { name: `s${i}`, namespace: 'velero' }, spec: { schedule: '@daily' } });
    const now = Number(api.resourceVersion);
    await new Promise((r) => setTimeout(r, 150)); // a few bookmarks
    api.compact();
    api.breakWatches();
    await until('watch again', () => api.openWatches() === 1 && lw.connected);
    api.put('backups', 'velero.io', backup('c'));
    await until('c', () => names(lw).includes('c'));
    expect(lw.lists).toBe(1);
    expect(now).toBeGreaterThan(0);
  });

  it('lists again on 410 Gone, and the new list drops what was deleted meanwhile', async () => {
    const { api, lw, lines } = await setup({ bookmarkMs: 3_600_000 }); // no bookmark in time
    api.put('backups', 'velero.io', backup('a'));
    api.put('backups', 'velero.io', backup('b'));
    lw.start();
    await until('synced', () => lw.synced && api.openWatches() === 1);
    api.breakWatches();
    // While the watch is down: a deletion, another resource's writes, then compaction.
    api.remove('backups', 'velero.io', 'velero', 'b');
    api.put('schedules', 'velero.io', { metadata: { name: 's', namespace: 'velero' }, spec: { schedule: '@daily' } });
    api.compact();
    await until('relisted', () => lw.lists === 2 && lw.connected);
    expect(names(lw)).toEqual(['a']);
    expect(lines.some((l) => String(l.msg).includes('410'))).toBe(true);
  });

  it('keeps the last-known copy while the API server is gone, and catches up when it is back', async () => {
    const { api, lw } = await setup();
    api.put('backups', 'velero.io', backup('a'));
    lw.start();
    await until('synced', () => lw.synced && lw.connected);
    const port = api.port;
    await api.stop();
    await until('disconnected', () => !lw.connected);
    expect(names(lw)).toEqual(['a']);
    expect(lw.lastError?.message).toMatch(/ECONNREFUSED|broke|socket hang up|ECONNRESET|aborted/);
    // A new API server process with the same data (etcd kept it) and a new object.
    api.put('backups', 'velero.io', backup('d'));
    await api.start(port);
    await until('back', () => lw.connected && names(lw).includes('d'));
    expect(names(lw)).toEqual(['a', 'd']);
  });

  it('takes a watch that says nothing (not even a bookmark) as hung and opens another', async () => {
    const api = await new FakeKubeApi({ bookmarkMs: 3_600_000 }).start();
    open.push(api);
    const client = new KubeClient({ server: api.url, source: 'test' });
    open.push({ stop: async () => client.close() });
    const { log, lines } = memoryLogger();
    const lw = new ListWatch<KubeObject>(client, BACKUPS, { log, minBackoffMs: 20, idleMs: 200 });
    open.push(lw);
    lw.start();
    await until('synced', () => lw.synced && api.openWatches() === 1);
    const before = api.requests.filter((r) => r.startsWith('GET /apis/velero.io')).length;
    await until('rewatched', () => api.requests.filter((r) => r.startsWith('GET /apis/velero.io')).length > before, 2000);
    expect(lines.some((l) => /said nothing for 200 ms/.test(String(l.err)))).toBe(true);
  });

  it('reports RBAC refusals with the API server\'s message, and retries', async () => {
    const { api, lw } = await setup(
      {
        tokens: { 'sa-token': 'system:serviceaccount:homestation:collector' },
        rbac: { 'system:serviceaccount:homestation:collector': [{ apiGroups: ['velero.io'], resources: ['backups'], verbs: ['get'] }] },
      },
      'sa-token',
    );
    lw.start();
    await until('refused', () => lw.lastError !== undefined);
    expect(lw.synced).toBe(false);
    expect(lw.lastError).toBeInstanceOf(KubeApiError);
    expect((lw.lastError as KubeApiError).status).toBe(403);
    expect(lw.lastError?.message).toContain('backups.velero.io is forbidden: User "system:serviceaccount:homestation:collector" cannot list resource "backups" in API group "velero.io" in the namespace "velero"');
    await until('retried', () => api.requests.filter((r) => r === `GET ${BACKUPS}`).length >= 2);
  });
});

describe('KubeClient requests against the fake API server', () => {
  it('gives the API\'s Status reason and message on 404, 409 and 401', async () => {
    const api = await new FakeKubeApi({ tokens: { good: 'alice' } }).start();
    open.push(api);
    const client = new KubeClient({ server: api.url, source: 'test', authorization: () => 'Bearer good' });
    open.push({ stop: async () => client.close() });
    const leases = '/apis/coordination.k8s.io/v1/namespaces/homestation/leases';
    await expect(client.request('GET', `${leases}/remediator`)).rejects.toMatchObject({ status: 404, reason: 'NotFound', message: expect.stringContaining('leases.coordination.k8s.io "remediator" not found') });
    const made = await client.request<KubeObject>('POST', leases, { body: { metadata: { name: 'remediator' }, spec: { holderIdentity: 'a' } } });
    await expect(client.request('POST', leases, { body: { metadata: { name: 'remediator' }, spec: {} } })).rejects.toMatchObject({ status: 409, reason: 'AlreadyExists' });
    await client.request('PUT', `${leases}/remediator`, { body: { ...made, spec: { holderIdentity: 'b' } } });
    // The same update again carries a version that is no longer current.
    await expect(client.request('PUT', `${leases}/remediator`, { body: { ...made, spec: { holderIdentity: 'c' } } })).rejects.toMatchObject({
      status: 409,
      reason: 'Conflict',
      message: expect.stringContaining('the object has been modified; please apply your changes to the latest version and try again'),
    });
    const anonymous = new KubeClient({ server: api.url, source: 'test' });
    open.push({ stop: async () => anonymous.close() });
    await expect(anonymous.request('GET', leases)).rejects.toMatchObject({ status: 401, reason: 'Unauthorized' });
  });

  it('fails a request the API server never answers after its timeout', async () => {
    const api = await new FakeKubeApi().start();
    open.push(api);
    api.hang(true);
    const client = new KubeClient({ server: api.url, source: 'test' });
    open.push({ stop: async () => client.close() });
    await expect(client.request('GET', BACKUPS, { timeoutMs: 200 })).rejects.toThrow(/no answer in 200 ms/);
  });
});

describe('the fake against the official client (@kubernetes/client-node)', () => {
  it('serves list and watch as client-node\'s informer consumes them', async () => {
    const api = await new FakeKubeApi({ bookmarkMs: 50 }).start();
    open.push(api);
    api.put('backups', 'velero.io', backup('a'));
    const k8s = await import('@kubernetes/client-node');
    const kc = new k8s.KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'fake', server: api.url, skipTLSVerify: true }],
      users: [{ name: 'u', token: 'x' }],
      contexts: [{ name: 'c', cluster: 'fake', user: 'u' }],
      currentContext: 'c',
    });
    const objects = kc.makeApiClient(k8s.CustomObjectsApi);
    const informer = k8s.makeInformer(kc, BACKUPS, () => objects.listNamespacedCustomObject({ group: 'velero.io', version: 'v1', namespace: 'velero', plural: 'backups' }) as never);
    const added: string[] = [];
    informer.on('add', (o) => void added.push(o.metadata?.name ?? ''));
    await informer.start();
    open.push({ stop: async () => void (await informer.stop()) });
    api.put('backups', 'velero.io', backup('b'));
    await until('client-node saw b', () => added.includes('b'));
    expect(added.sort()).toEqual(['a', 'b']);
  });
});
