/**
 * The Kubernetes driver against the fake API server with its simulated controllers:
 * workloads found from alert labels, rollout restart and redeploy followed to the end
 * (and to a rollout that never becomes ready), migrate off a node through cordon and
 * the Eviction API (a PodDisruptionBudget that blocks, a local-path volume that
 * cannot follow), and a NotReady node: Kubernetes' own plan said, action only where
 * it will not act.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { KubeClient } from '../../collector/kube/client.js';
import { FakeKubeApi, type FakeKubeOptions } from '../../test/fakes/kube-api.js';
import { simulateControllers } from '../../test/fakes/kube-controllers.js';
import { memoryLogger } from '../../test/helpers/runner.js';
import { KubernetesDriver, pinnedImage, Refused, RESTARTED_AT, rolloutState, type Workload } from './driver.js';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

const NS = 'home';
const DIGEST = `sha256:${'ab'.repeat(32)}`;
const ready = [{ type: 'Ready', status: 'True' }];

async function cluster(options: FakeKubeOptions = {}, neverReady: string[] = []) {
  const api = await new FakeKubeApi(options).start();
  cleanup.push(() => api.stop());
  simulateControllers(api, { rolloutMs: 50, neverReady: new Set(neverReady) });
  const client = new KubeClient({ server: api.url, source: 'test', ...(options.tokens ? { authorization: () => 'Bearer remediator' } : {}) });
  cleanup.push(() => client.close());
  const { log, lines } = memoryLogger();
  const driver = new KubernetesDriver(client, log);
  for (const n of ['k3s-server', 'jetson-1', 'jetson-2']) {
    api.put('nodes', '', { metadata: { name: n, labels: { 'kubernetes.io/hostname': n } }, spec: {}, status: { conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-11-26T08:00:00Z' }] } });
  }
  return { api, driver, lines };
}

/** A Deployment as kubectl would create it, with its ReplicaSet and running pods (containerd's imageID). */
function deployment(api: FakeKubeApi, name: string, nodes: string[], extra: { progressDeadlineSeconds?: number; claim?: string } = {}) {
  const labels = { app: name };
  api.put('deployments', 'apps', {
    metadata: { name, namespace: NS, labels },
    spec: {
      replicas: nodes.length,
      selector: { matchLabels: labels },
      ...(extra.progressDeadlineSeconds ? { progressDeadlineSeconds: extra.progressDeadlineSeconds } : {}),
      template: { metadata: { labels }, spec: { containers: [{ name, image: `ghcr.io/home/${name}:1.4` }] } },
    },
    status: { observedGeneration: 1, replicas: nodes.length, updatedReplicas: nodes.length, readyReplicas: nodes.length, availableReplicas: nodes.length },
  });
  api.put('replicasets', 'apps', { metadata: { name: `${name}-7d9f8`, namespace: NS, labels, ownerReferences: [{ kind: 'Deployment', name, controller: true }] }, spec: {} });
  nodes.forEach((node, i) =>
    api.put('pods', '', {
      metadata: { name: `${name}-7d9f8-${i}abcd`, namespace: NS, labels, ownerReferences: [{ kind: 'ReplicaSet', name: `${name}-7d9f8`, controller: true }] },
      spec: {
        nodeName: node,
        ...(extra.claim ? { volumes: [{ name: 'data', persistentVolumeClaim: { claimName: extra.claim } }] } : {}),
        tolerations: [
          { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
          { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
        ],
      },
      status: { phase: 'Running', conditions: ready, containerStatuses: [{ name, image: `ghcr.io/home/${name}:1.4`, imageID: `ghcr.io/home/${name}@${DIGEST}`, ready: true }] },
    }),
  );
}

function statefulSet(api: FakeKubeApi, name: string, node: string) {
  const labels = { app: name };
  api.put('statefulsets', 'apps', {
    metadata: { name, namespace: NS, labels },
    spec: { replicas: 1, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name, image: `${name}:2` }] } } },
    status: { observedGeneration: 1, replicas: 1, readyReplicas: 1, currentRevision: `${name}-1`, updateRevision: `${name}-1` },
  });
  api.put('pods', '', {
    metadata: { name: `${name}-0`, namespace: NS, labels, ownerReferences: [{ kind: 'StatefulSet', name, controller: true }] },
    spec: { nodeName: node },
    status: { phase: 'Running', conditions: ready },
  });
}

function nodeDown(api: FakeKubeApi, node: string, since: string) {
  api.put('nodes', '', {
    metadata: { name: node },
    spec: { taints: [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: since }] },
    status: { conditions: [{ type: 'Ready', status: 'Unknown', reason: 'NodeStatusUnknown', lastTransitionTime: since }] },
  });
}

describe('finding the workload of an alert', () => {
  it('reads kube-state-metrics\' labels and a pod\'s controller, and refuses what nothing would recreate', async () => {
    const { api, driver } = await cluster();
    deployment(api, 'zigbee2mqtt', ['jetson-1']);
    statefulSet(api, 'mosquitto', 'k3s-server');
    api.put('pods', '', { metadata: { name: 'debug', namespace: NS }, spec: { nodeName: 'jetson-1' }, status: { phase: 'Running' } });
    expect(await driver.resolve({ alertname: 'KubeDeploymentReplicasMismatch', namespace: NS, deployment: 'zigbee2mqtt' })).toEqual({ namespace: NS, kind: 'Deployment', name: 'zigbee2mqtt' });
    expect(await driver.resolve({ alertname: 'KubePodCrashLooping', namespace: NS, pod: 'zigbee2mqtt-7d9f8-0abcd' })).toEqual({ namespace: NS, kind: 'Deployment', name: 'zigbee2mqtt' });
    expect(await driver.resolve({ namespace: NS, pod: 'mosquitto-0' })).toEqual({ namespace: NS, kind: 'StatefulSet', name: 'mosquitto' });
    await expect(driver.resolve({ namespace: NS, pod: 'debug' })).rejects.toThrow(new Refused('pod debug has no controller: nothing would create it again, so it is not touched'));
    await expect(driver.resolve({ deployment: 'x' })).rejects.toThrow('the alert has no namespace label');
    await expect(driver.resolve({ namespace: NS, pod: 'gone' })).rejects.toMatchObject({ status: 404 });
    expect(await driver.byLabels(NS, 'Deployment', 'app=zigbee2mqtt')).toEqual({ namespace: NS, kind: 'Deployment', name: 'zigbee2mqtt' });
    await expect(driver.byLabels(NS, 'Deployment', 'app=none')).rejects.toThrow('no deployments in home match app=none; exactly one is needed');
  });
});

describe('restart and redeploy', () => {
  it('restarts as kubectl rollout restart does, and follows the rollout to its end', async () => {
    const { api, driver } = await cluster();
    deployment(api, 'zigbee2mqtt', ['jetson-1', 'jetson-2']);
    const ref = { namespace: NS, kind: 'Deployment' as const, name: 'zigbee2mqtt' };
    const generation = await driver.restart(ref);
    expect(generation).toBe(2);
    const w = api.get('deployments', 'apps', NS, 'zigbee2mqtt') as unknown as Workload;
    expect(w.spec.template.metadata?.annotations?.[RESTARTED_AT]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(w.spec.template.spec.containers).toHaveLength(1); // the patch touched the annotation only
    const state = await driver.waitForRollout(ref, 5000, generation);
    expect(state).toEqual({ done: true, detail: 'deployment "zigbee2mqtt" successfully rolled out (2 of 2 available)' });
  });

  it('gives up on a rollout that never becomes ready, with the controller\'s reason', async () => {
    const { api, driver } = await cluster({}, [`${NS}/frigate`]);
    deployment(api, 'frigate', ['jetson-1'], { progressDeadlineSeconds: 1 });
    const ref = { namespace: NS, kind: 'Deployment' as const, name: 'frigate' };
    const generation = await driver.restart(ref);
    const state = await driver.waitForRollout(ref, 10_000, generation);
    expect(state.done).toBe(false);
    expect(state.failed).toBe(true);
    expect(state.detail).toBe('deployment "frigate" exceeded its progress deadline: ReplicaSet "frigate-new" has timed out progressing.');
    // Without a progress deadline in time: the check's own deadline ends it.
    const short = await driver.waitForRollout({ ...ref }, 300, generation + 1);
    expect(short).toMatchObject({ done: false, failed: true, detail: expect.stringMatching(/^not rolled out within 0 s: waiting for generation 3/) });
  });

  it('redeploys with each image pinned to the digest its pods run', async () => {
    const { api, driver } = await cluster();
    deployment(api, 'zigbee2mqtt', ['jetson-1']);
    const ref = { namespace: NS, kind: 'Deployment' as const, name: 'zigbee2mqtt' };
    const res = await driver.redeploy(ref);
    expect(res.pinned).toEqual([`zigbee2mqtt: ghcr.io/home/zigbee2mqtt:1.4 -> ghcr.io/home/zigbee2mqtt@${DIGEST}`]);
    const w = api.get('deployments', 'apps', NS, 'zigbee2mqtt') as unknown as Workload;
    expect(w.spec.template.spec.containers[0]!.image).toBe(`ghcr.io/home/zigbee2mqtt@${DIGEST}`);
    expect((await driver.waitForRollout(ref, 5000, res.generation)).done).toBe(true);
    // Already pinned: a redeploy is a rollout restart.
    const again = await driver.redeploy(ref);
    expect(again.pinned).toEqual([]);
    expect((api.get('deployments', 'apps', NS, 'zigbee2mqtt') as unknown as Workload).spec.template.metadata?.annotations?.[RESTARTED_AT]).toBeDefined();
  });

  it('reads rollout status as kubectl does for StatefulSets and DaemonSets', () => {
    const sts = (status: Workload['status'], extra: Partial<Workload['spec']> = {}): Workload => ({ metadata: { name: 'mosquitto', generation: 2 }, spec: { replicas: 1, template: { spec: { containers: [] } }, ...extra }, status });
    expect(rolloutState('StatefulSet', sts({ observedGeneration: 1 }))).toMatchObject({ done: false, detail: 'waiting for the statefulset spec update to be observed' });
    expect(rolloutState('StatefulSet', sts({ observedGeneration: 2, readyReplicas: 1, currentRevision: 'a', updateRevision: 'b', updatedReplicas: 0 }))).toMatchObject({ done: false, detail: 'waiting for the rolling update to complete: 0 pods at revision b' });
    expect(rolloutState('StatefulSet', sts({ observedGeneration: 2, readyReplicas: 1, currentRevision: 'b', updateRevision: 'b' }))).toMatchObject({ done: true });
    expect(rolloutState('StatefulSet', sts({}, { updateStrategy: { type: 'OnDelete' } }))).toMatchObject({ failed: true });
    const ds = (status: Workload['status']): Workload => ({ metadata: { name: 'gpu-exporter', generation: 3 }, spec: { template: { spec: { containers: [] } } }, status });
    expect(rolloutState('DaemonSet', ds({ observedGeneration: 3, desiredNumberScheduled: 2, updatedNumberScheduled: 2, numberAvailable: 1 }))).toMatchObject({ done: false, detail: '1 of 2 updated pods are available' });
    expect(rolloutState('DaemonSet', ds({ observedGeneration: 3, desiredNumberScheduled: 2, updatedNumberScheduled: 2, numberAvailable: 2 }))).toMatchObject({ done: true });
  });

  it('pins what docker and containerd report as imageID', () => {
    expect(pinnedImage('nginx:1.27', `docker-pullable://nginx@${DIGEST}`)).toBe(`nginx@${DIGEST}`);
    expect(pinnedImage('registry.lan:5000/app:v2', `registry.lan:5000/app@${DIGEST}`)).toBe(`registry.lan:5000/app@${DIGEST}`);
    expect(pinnedImage('nginx', 'sha256:abc')).toBeUndefined();
  });
});

describe('migrate off a node', () => {
  it('cordons and evicts through the Eviction API, and the pod comes back on another node', async () => {
    const { api, driver } = await cluster();
    deployment(api, 'zigbee2mqtt', ['jetson-1']);
    const steps: string[] = [];
    const state = await driver.migrateOff({ namespace: NS, kind: 'Deployment', name: 'zigbee2mqtt' }, 'jetson-1', 5000, (what, result) => steps.push(`${what}:${result}`));
    expect(state.done).toBe(true);
    expect(state.detail).toBe('moved off jetson-1: 1 of 1 pods ready on other nodes');
    expect(steps).toEqual(['plan:act', 'cordon:ok', 'evict:ok']);
    expect((api.get('nodes', '', undefined, 'jetson-1')!.spec as { unschedulable?: boolean }).unschedulable).toBe(true);
    expect(api.requests).toContain(`POST /api/v1/namespaces/${NS}/pods/zigbee2mqtt-7d9f8-0abcd/eviction`);
  });

  it('respects a PodDisruptionBudget: retries the 429, then says which budget blocked it', async () => {
    const { api, driver } = await cluster();
    deployment(api, 'homeassistant', ['jetson-1']);
    api.put('poddisruptionbudgets', 'policy', { metadata: { name: 'homeassistant', namespace: NS }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'homeassistant' } } } });
    const t0 = Date.now();
    await expect(driver.migrateOff({ namespace: NS, kind: 'Deployment', name: 'homeassistant' }, 'jetson-1', 3500)).rejects.toThrow(
      new Refused('evicting homeassistant-7d9f8-0abcd is blocked by its PodDisruptionBudget until the deadline: The disruption budget homeassistant needs 1 healthy pods and has 1 currently'),
    );
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000); // retried, not refused at the first 429
    expect(api.requests.filter((r) => r.endsWith('/eviction')).length).toBeGreaterThanOrEqual(2);
    expect(api.get('pods', '', NS, 'homeassistant-7d9f8-0abcd')).toBeDefined(); // still there
  });

  it('refuses when a volume cannot follow (ReadWriteOnce on local-path), saying why, and touches nothing', async () => {
    const { api, driver } = await cluster();
    deployment(api, 'nextcloud', ['jetson-1'], { claim: 'nextcloud-data' });
    api.put('persistentvolumeclaims', '', { metadata: { name: 'nextcloud-data', namespace: NS }, spec: { accessModes: ['ReadWriteOnce'], storageClassName: 'local-path', volumeName: 'pvc-1234' } });
    api.put('persistentvolumes', '', {
      metadata: { name: 'pvc-1234' },
      spec: { hostPath: { path: '/var/lib/rancher/k3s/storage/pvc-1234_home_nextcloud-data', type: 'DirectoryOrCreate' }, nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: ['jetson-1'] }] }] } } },
    });
    await expect(driver.migrateOff({ namespace: NS, kind: 'Deployment', name: 'nextcloud' }, 'jetson-1', 3000)).rejects.toThrow(
      new Refused("volume data of nextcloud-7d9f8-0abcd (claim nextcloud-data, ReadWriteOnce, local-path) lives on node jetson-1's disk: its data cannot follow to another node (restore it from a backup, or use network storage such as Longhorn or NFS)"),
    );
    expect((api.get('nodes', '', undefined, 'jetson-1')!.spec as { unschedulable?: boolean }).unschedulable).toBeUndefined();
    expect(api.requests.some((r) => r.endsWith('/eviction'))).toBe(false);
  });

  it('on a NotReady node: says when Kubernetes moves a Deployment\'s pods, and does not act', async () => {
    const { api, driver } = await cluster();
    deployment(api, 'zigbee2mqtt', ['jetson-1']);
    nodeDown(api, 'jetson-1', '2026-11-26T10:00:00Z');
    const plan = await driver.planForNode({ namespace: NS, kind: 'Deployment', name: 'zigbee2mqtt' }, 'jetson-1');
    expect(plan).toMatchObject({ ready: false, act: false, kubernetesAt: Date.parse('2026-11-26T10:05:00Z') });
    expect(plan.kubernetes).toBe(
      'jetson-1 is NotReady since 2026-11-26T10:00:00.000Z; Kubernetes evicts zigbee2mqtt-7d9f8-0abcd after their 300 s toleration of node.kubernetes.io/unreachable, at 2026-11-26T10:05:00.000Z, and the ReplicaSet starts them on another node: HomeStation does not act',
    );
    await expect(driver.migrateOff({ namespace: NS, kind: 'Deployment', name: 'zigbee2mqtt' }, 'jetson-1', 2000)).rejects.toThrow(Refused);
    expect(api.requests.some((r) => r.startsWith('DELETE') || r.endsWith('/eviction'))).toBe(false);
  });

  it('on a NotReady node: moves a StatefulSet\'s pod, which Kubernetes would leave there, by force', async () => {
    const { api, driver } = await cluster();
    statefulSet(api, 'mosquitto', 'jetson-1');
    nodeDown(api, 'jetson-1', '2026-11-26T10:00:00Z');
    // A graceful delete is what Kubernetes does: the pod stays Terminating for a kubelet that is gone.
    await driver.deletePod(NS, 'mosquitto-0');
    expect(api.get('pods', '', NS, 'mosquitto-0')!.metadata.deletionTimestamp).toBeDefined();
    const steps: string[] = [];
    const state = await driver.migrateOff({ namespace: NS, kind: 'StatefulSet', name: 'mosquitto' }, 'jetson-1', 5000, (what, result, detail) => steps.push(`${what}:${result}:${detail}`));
    expect(state).toMatchObject({ done: true, detail: 'moved off jetson-1: 1 of 1 pods ready on other nodes' });
    expect(steps[0]).toMatch(/^plan:act:jetson-1 is NotReady since .*never starts a StatefulSet pod again while its node may still run it/);
    expect(steps[1]).toBe('force_delete:ok:mosquitto-0 deleted by force: jetson-1 is NotReady, its kubelet cannot confirm a graceful deletion');
    expect((api.get('pods', '', NS, 'mosquitto-0')!.spec as { nodeName: string }).nodeName).not.toBe('jetson-1');
  });

  it('says what RBAC refused when the Role lacks a verb it needs', async () => {
    const sa = 'system:serviceaccount:homestation:remediator';
    const { api, driver } = await cluster({
      tokens: { remediator: sa },
      rbac: {
        [sa]: [
          { apiGroups: [''], resources: ['pods', 'nodes', 'persistentvolumeclaims', 'persistentvolumes'], verbs: ['get', 'list'] },
          { apiGroups: ['apps'], resources: ['deployments'], verbs: ['get', 'list', 'watch'] },
        ],
      },
    });
    deployment(api, 'zigbee2mqtt', ['jetson-1']);
    await expect(driver.restart({ namespace: NS, kind: 'Deployment', name: 'zigbee2mqtt' })).rejects.toMatchObject({
      status: 403,
      message: expect.stringContaining(`deployments.apps "zigbee2mqtt" is forbidden: User "${sa}" cannot patch resource "deployments" in API group "apps" in the namespace "home"`),
    });
  });
});
