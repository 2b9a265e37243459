/**
 * `homestation remediator` driving Kubernetes, as a user runs it in a pod with no
 * container engine: the fake API server and its simulated controllers stand for a K3s
 * cluster. Alertmanager webhooks from the kubernetes-mixin alerts (workload and pod
 * labels) go through the policy, guards and journal to a rollout restart; a rollout
 * that never becomes ready climbs the ladder and asks a human; a NotReady node: a
 * Deployment is left to Kubernetes (its plan said), a StatefulSet is moved.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeKubeApi } from '../fakes/kube-api.js';
import { simulateControllers } from '../fakes/kube-controllers.js';
import { startDaemon, type Daemon } from '../helpers/cli.js';
import { Journal } from '../../remediator/journal.js';
import { alertPayload, TOKEN } from '../helpers/remediator.js';

const NS = 'home';
let dir: string;
let api: FakeKubeApi;
let daemon: Daemon;
let configFile: string;

interface Step { kind: string; what: string; result: string; detail: string | null }
interface ApiIncident { id: number; service: string; state: string; reason: string | null; steps: Step[] }

function deployment(name: string, node: string, options: { optIn?: boolean; crashLooping?: boolean } = {}) {
  const labels = { app: name };
  api.put('deployments', 'apps', {
    metadata: { name, namespace: NS, labels: { ...labels, ...(options.optIn ? { 'homestation.remediate': 'true' } : {}) } },
    spec: { replicas: 1, progressDeadlineSeconds: 2, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name, image: `ghcr.io/home/${name}:1` }] } } },
    status: { observedGeneration: 1, replicas: 1, updatedReplicas: 1, readyReplicas: 0, availableReplicas: 0 },
  });
  api.put('replicasets', 'apps', { metadata: { name: `${name}-5c6d`, namespace: NS, labels, ownerReferences: [{ kind: 'Deployment', name, controller: true }] }, spec: {} });
  api.put('pods', '', {
    metadata: { name: `${name}-5c6d-x1y2z`, namespace: NS, labels, ownerReferences: [{ kind: 'ReplicaSet', name: `${name}-5c6d`, controller: true }] },
    spec: { nodeName: node, tolerations: [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }] },
    status: {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: 'False' }],
      containerStatuses: [{ name, image: `ghcr.io/home/${name}:1`, imageID: `ghcr.io/home/${name}@sha256:${'ef'.repeat(32)}`, ready: false, restartCount: 7, ...(options.crashLooping !== false ? { state: { waiting: { reason: 'CrashLoopBackOff' } } } : {}) }],
    },
  });
}

async function post(labels: Record<string, string>): Promise<number> {
  const res = await fetch(`${daemon.url}/webhook/alertmanager`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(alertPayload([{ labels }])),
  });
  return res.status;
}

async function incidentOf(service: string): Promise<ApiIncident> {
  let found: ApiIncident | undefined;
  await expect
    .poll(
      async () => {
        const list = ((await (await fetch(`${daemon.url}/api/v1/incidents`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { incidents: ApiIncident[] }).incidents;
        found = list.find((i) => i.service === service && i.state !== 'acting');
        return found !== undefined;
      },
      { timeout: 20_000, interval: 100 },
    )
    .toBe(true)
    .catch((err: unknown) => {
      throw new Error(`${(err as Error).message}\nlogs: ${JSON.stringify(daemon.logs.slice(-20))}`);
    });
  return found!;
}

const steps = (i: ApiIncident) => i.steps.map((s) => `${s.kind}:${s.what}:${s.result}`);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hs-k8s-remediator-'));
  const sa = 'system:serviceaccount:homestation:remediator';
  api = await new FakeKubeApi({
    tokens: { 'remediator-token': sa },
    // The Role shipped in deploy/kubernetes grants these verbs (checked there against what the driver uses).
    rbac: {
      [sa]: [
        { apiGroups: ['apps'], resources: ['deployments', 'statefulsets', 'daemonsets'], verbs: ['get', 'list', 'watch', 'patch'] },
        { apiGroups: ['apps'], resources: ['replicasets'], verbs: ['get'] },
        { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch', 'delete'] },
        { apiGroups: [''], resources: ['pods/eviction'], verbs: ['create'] },
        { apiGroups: [''], resources: ['nodes'], verbs: ['get', 'patch'] },
        { apiGroups: [''], resources: ['persistentvolumeclaims', 'persistentvolumes'], verbs: ['get'] },
      ],
    },
  }).start();
  simulateControllers(api, { rolloutMs: 100, neverReady: new Set([`${NS}/frigate`]) });
  for (const n of ['k3s-server', 'jetson-1', 'jetson-2']) api.put('nodes', '', { metadata: { name: n }, spec: {}, status: { conditions: [{ type: 'Ready', status: 'True' }] } });
  writeFileSync(join(dir, 'token'), TOKEN);
  writeFileSync(
    join(dir, 'kubeconfig'),
    `clusters: [{ name: k3s, cluster: { server: "${api.url}" } }]\nusers: [{ name: r, user: { token: remediator-token } }]\ncontexts: [{ name: k3s, context: { cluster: k3s, user: r } }]\ncurrent-context: k3s\n`,
  );
  const config = join(dir, 'config.yaml');
  configFile = config;
  writeFileSync(
    config,
    `remediator:
  host: 127.0.0.1
  port: 0
  auth: { bearer_token_file: ${join(dir, 'token')} }
  journal: ${join(dir, 'journal.db')}
  kubernetes: { enabled: true, kubeconfig: ${join(dir, 'kubeconfig')} }
  events: { enabled: false }
  watch: { enabled: false }
  cooldown: 1s
  services:
    - name: zigbee2mqtt
      kubernetes: { namespace: ${NS}, selector: app=zigbee2mqtt }
      recovery_deadline: 5s
    - name: frigate
      kubernetes: { namespace: ${NS}, name: frigate }
      recovery_deadline: 4s
  policies:
    - match: { alertname: KubePodCrashLooping }
      ladder: [{ action: restart }]
    - match: { alertname: KubeDeploymentReplicasMismatch, service: frigate }
      ladder: [{ action: restart }, { action: redeploy }]
    - match: { alertname: KubeDeploymentReplicasMismatch }
      ladder: [{ action: restart }]
    - match: { alertname: KubeStatefulSetReplicasMismatch }
      ladder: [{ action: migrate }]
    - match: { alertname: KubePodNotReady }
      ladder: [{ action: restart, scope: pod }]
    - match: { alertname: NodeGone }
      ladder: [{ action: migrate }]
`,
  );
  daemon = await startDaemon(['--config', config], {}, { command: 'remediator', ready: /^remediator listening/ });
  expect(daemon.logs.some((l) => l.msg === 'remediator listening on ' + daemon.url + ' (POST /webhook/alertmanager)' && l.engine === 'kubernetes')).toBe(true);
}, 30_000);

afterAll(async () => {
  await daemon?.stop();
  await api?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('the remediator on Kubernetes (fake K3s)', () => {
  it('restarts an opted-in workload named by a pod alert (KubePodCrashLooping), through its ReplicaSet', async () => {
    deployment('mosquitto-exporter', 'jetson-1', { optIn: true });
    expect(await post({ alertname: 'KubePodCrashLooping', namespace: NS, pod: 'mosquitto-exporter-5c6d-x1y2z', container: 'mosquitto-exporter' })).toBe(200);
    const i = await incidentOf(`${NS}/mosquitto-exporter`);
    expect(i.state).toBe('recovered');
    expect(steps(i)).toEqual(['decision:target:ok', 'check:before:failed', 'action:restart:started', 'check:after:ok', 'outcome:recovered:restart (attempt 1)']);
    expect(i.steps[1]!.detail).toContain('mosquitto-exporter-5c6d-x1y2z: CrashLoopBackOff');
    expect(i.steps[3]!.detail).toMatch(/successfully rolled out \(1 of 1 available\); 1\/1 pods ready$/);
    const w = api.get('deployments', 'apps', NS, 'mosquitto-exporter') as unknown as { spec: { template: { metadata: { annotations: Record<string, string> } } } };
    expect(w.spec.template.metadata.annotations['kubectl.kubernetes.io/restartedAt']).toBeDefined();
  });

  it('restarts only the failing pod with scope: pod (KubePodNotReady), the other replica untouched', async () => {
    deployment('esphome', 'jetson-1', { optIn: true });
    const labels = { app: 'esphome' };
    api.put('pods', '', {
      metadata: { name: 'esphome-5c6d-aaaaa', namespace: NS, labels, ownerReferences: [{ kind: 'ReplicaSet', name: 'esphome-5c6d', controller: true }] },
      spec: { nodeName: 'k3s-server' },
      status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
    });
    const dep = api.get('deployments', 'apps', NS, 'esphome')!;
    api.put('deployments', 'apps', { ...dep, spec: { ...(dep.spec as object), replicas: 2 }, status: { observedGeneration: 2, replicas: 2, updatedReplicas: 2, readyReplicas: 1, availableReplicas: 1 } });
    const generation = api.get('deployments', 'apps', NS, 'esphome')!.metadata.generation;
    expect(await post({ alertname: 'KubePodNotReady', namespace: NS, pod: 'esphome-5c6d-x1y2z' })).toBe(200);
    const i = await incidentOf(`${NS}/esphome`);
    expect(steps(i)).toEqual(['decision:target:ok', 'check:before:failed', 'action:restart:started', 'action:delete_pod:ok', 'check:after:ok', 'outcome:recovered:restart (attempt 1)']);
    expect(i.steps[3]!.detail).toBe('esphome-5c6d-x1y2z deleted: its controller creates it again');
    const names = api.list('pods', '', NS).filter((p) => p.metadata.labels?.app === 'esphome').map((p) => p.metadata.name);
    expect(names).toContain('esphome-5c6d-aaaaa');
    expect(names).not.toContain('esphome-5c6d-x1y2z');
    expect(names).toHaveLength(2);
    expect(api.get('deployments', 'apps', NS, 'esphome')!.metadata.generation).toBe(generation); // no rollout
  });

  it('leaves a workload that neither is listed nor carries the opt-in label alone', async () => {
    deployment('postgres', 'jetson-2');
    expect(await post({ alertname: 'KubeDeploymentReplicasMismatch', namespace: NS, deployment: 'postgres' })).toBe(200);
    const i = await incidentOf(`${NS}/postgres`);
    expect(i).toMatchObject({ state: 'refused', reason: 'not_opted_in' });
    expect(api.get('deployments', 'apps', NS, 'postgres')!.metadata.generation).toBe(1);
  });

  it('climbs the ladder when the rollout never becomes ready, then asks a human', async () => {
    deployment('frigate', 'jetson-1');
    expect(await post({ alertname: 'KubeDeploymentReplicasMismatch', namespace: NS, deployment: 'frigate', service: 'frigate' })).toBe(200);
    const i = await incidentOf('frigate');
    expect(i).toMatchObject({ state: 'failed', reason: 'ladder_exhausted' });
    expect(steps(i)).toEqual([
      'decision:target:ok',
      'check:before:failed',
      'action:restart:started',
      'check:after:failed',
      'action:redeploy:started',
      'action:pin:ok',
      'check:after:failed',
      'outcome:failed:ladder_exhausted',
    ]);
    expect(i.steps[3]!.detail).toBe('deployment "frigate" exceeded its progress deadline: ReplicaSet "frigate-new" has timed out progressing.');
    // Pinned to what the pods run now (those of the restart's rollout).
    expect(i.steps[5]!.detail).toMatch(/^frigate: ghcr\.io\/home\/frigate:1 -> ghcr\.io\/home\/frigate@sha256:[0-9a-f]{64}$/);
    const image = (api.get('deployments', 'apps', NS, 'frigate')!.spec as { template: { spec: { containers: { image: string }[] } } }).template.spec.containers[0]!.image;
    expect(i.steps[5]!.detail?.endsWith(image)).toBe(true);
  });

  it('on a NotReady node: leaves a Deployment to Kubernetes, saying when, and moves a StatefulSet itself', async () => {
    deployment('zigbee2mqtt', 'jetson-2', { crashLooping: false });
    api.put('nodes', '', {
      metadata: { name: 'jetson-2' },
      spec: { taints: [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: '2026-11-26T10:00:00Z' }] },
      status: { conditions: [{ type: 'Ready', status: 'Unknown', lastTransitionTime: '2026-11-26T10:00:00Z' }] },
    });
    expect(await post({ alertname: 'NodeGone', node: 'jetson-2', service: 'zigbee2mqtt' })).toBe(200);
    const d = await incidentOf('zigbee2mqtt');
    expect(d).toMatchObject({ state: 'refused', reason: 'kubernetes_acts' });
    expect(d.steps.find((s) => s.what === 'plan')?.detail).toContain('Kubernetes evicts zigbee2mqtt-5c6d-x1y2z after their 300 s toleration of node.kubernetes.io/unreachable, at 2026-11-26T10:05:00.000Z');

    const labels = { app: 'mqtt' };
    api.put('statefulsets', 'apps', {
      metadata: { name: 'mqtt', namespace: NS, labels: { ...labels, 'homestation.remediate': 'true' } },
      spec: { replicas: 1, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'mosquitto', image: 'eclipse-mosquitto:2' }] } } },
      status: { observedGeneration: 1, replicas: 1, readyReplicas: 0, currentRevision: 'mqtt-1', updateRevision: 'mqtt-1' },
    });
    api.put('pods', '', { metadata: { name: 'mqtt-0', namespace: NS, labels, ownerReferences: [{ kind: 'StatefulSet', name: 'mqtt', controller: true }] }, spec: { nodeName: 'jetson-2' }, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'False' }] } });
    expect(await post({ alertname: 'KubeStatefulSetReplicasMismatch', namespace: NS, statefulset: 'mqtt' })).toBe(200);
    const s = await incidentOf(`${NS}/mqtt`);
    expect(steps(s)).toEqual(['decision:target:ok', 'check:before:failed', 'action:migrate:started', 'action:plan:act', 'action:force_delete:ok', 'check:after:ok', 'outcome:recovered:migrate (attempt 1)']);
    expect((api.get('pods', '', NS, 'mqtt-0')!.spec as { nodeName: string }).nodeName).not.toBe('jetson-2');
  });

  it('resumes a Kubernetes incident a killed remediator left acting: its ladder again, to recovered', async () => {
    // mqtt-exporter fails; the remediator that had started on it is gone (stopped here, its incident left acting).
    deployment('mqtt-exporter', 'jetson-1', { optIn: true });
    daemon.child.kill('SIGKILL');
    await new Promise((r) => daemon.child.once('exit', r));
    const journal = await Journal.open(join(dir, 'journal.db'));
    const left = journal.openIncident('home/mqtt-exporter', 'test:left', 'KubePodCrashLooping', Date.now() - 5000, Date.now() - 4000, 'acting', null, 'alert_start');
    journal.setState(`ladder:${left.id}`, JSON.stringify([{ action: 'restart', attempts: 1 }]));
    journal.setState('kube_ref:home/mqtt-exporter', JSON.stringify({ namespace: NS, kind: 'Deployment', name: 'mqtt-exporter' }));
    journal.close();
    daemon = await startDaemon(['--config', configFile], {}, { command: 'remediator', ready: /^remediator listening/ });
    const i = await incidentOf('home/mqtt-exporter');
    expect(i.id).toBe(left.id);
    expect(i.state).toBe('recovered');
    expect(steps(i)).toEqual([
      'decision:resume:ok',
      'check:after restart of the remediator:failed',
      'decision:resume:ok',
      'decision:target:ok',
      'check:before:failed',
      'action:restart:started',
      'check:after:ok',
      'outcome:recovered:restart (attempt 1)',
    ]);
  });
});
