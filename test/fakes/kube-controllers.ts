/**
 * The cluster's controllers as far as HomeStation's tests need them, on the fake API
 * server (kube-api.ts): the Deployment, StatefulSet and DaemonSet controllers report a
 * rollout in their status as kubectl rollout status reads it (observedGeneration,
 * updated/ready/available replicas, revisions, the ProgressDeadlineExceeded
 * condition), and a pod owned by a ReplicaSet or StatefulSet that is deleted (or
 * evicted) is created again on a schedulable Ready node, as the ReplicaSet and
 * StatefulSet controllers and the scheduler do. A workload named in `neverReady`
 * rolls out pods that never become ready.
 */
import type { FakeKubeApi } from './kube-api.js';

export interface ControllerOptions {
  /** How long a rollout or a replacement pod takes (ms). */
  readonly rolloutMs?: number;
  /** "namespace/name" of workloads whose new pods never become ready. */
  readonly neverReady?: Set<string>;
}

type Obj = Parameters<FakeKubeApi['put']>[2];
const APPS = new Set(['Deployment', 'StatefulSet', 'DaemonSet']);

export function simulateControllers(api: FakeKubeApi, o: ControllerOptions = {}): void {
  const wait = o.rolloutMs ?? 100;
  const later = (f: () => void, ms = wait) => setTimeout(f, ms).unref();
  const readyNodes = () =>
    api
      .list('nodes', '')
      .filter((n) => !(n.spec as { unschedulable?: boolean } | undefined)?.unschedulable && api.nodeReady(n.metadata.name))
      .map((n) => n.metadata.name);

  api.onChange.push((t, type, object) => {
    if (APPS.has(t.kind) && type !== 'DELETED') {
      const gen = object.metadata.generation as number;
      const st = (object.status ?? {}) as Record<string, unknown>;
      if (st.observedGeneration === gen) return; // our own status write, or nothing new
      const key = `${object.metadata.namespace}/${object.metadata.name}`;
      const never = o.neverReady?.has(key) ?? false;
      const spec = (object.spec ?? {}) as { replicas?: number; progressDeadlineSeconds?: number };
      const r = spec.replicas ?? 1;
      const status = (): Record<string, unknown> => {
        if (t.kind === 'Deployment') {
          return never
            ? { observedGeneration: gen, replicas: r + 1, updatedReplicas: r, readyReplicas: 1, availableReplicas: 1, unavailableReplicas: r, conditions: [{ type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated' }] }
            : { observedGeneration: gen, replicas: r, updatedReplicas: r, readyReplicas: r, availableReplicas: r, conditions: [{ type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' }, { type: 'Progressing', status: 'True', reason: 'NewReplicaSetAvailable' }] };
        }
        if (t.kind === 'StatefulSet') {
          return { observedGeneration: gen, replicas: r, readyReplicas: never ? r - 1 : r, currentRevision: never ? `${object.metadata.name}-${gen - 1}` : `${object.metadata.name}-${gen}`, updateRevision: `${object.metadata.name}-${gen}`, updatedReplicas: never ? 0 : r };
        }
        const desired = readyNodes().length;
        return { observedGeneration: gen, desiredNumberScheduled: desired, currentNumberScheduled: desired, updatedNumberScheduled: desired, numberReady: never ? 0 : desired, numberAvailable: never ? 0 : desired };
      };
      later(() => {
        const now = api.get(t.plural, t.group, object.metadata.namespace, object.metadata.name);
        if (!now || now.metadata.generation !== gen) return;
        api.put(t.plural, t.group, { ...now, status: status() });
        if (never && t.kind === 'Deployment') {
          // The rollout stalls; past its progress deadline the controller says so.
          later(() => {
            const cur = api.get(t.plural, t.group, object.metadata.namespace, object.metadata.name);
            if (!cur || cur.metadata.generation !== gen) return;
            const s = cur.status as Record<string, unknown>;
            api.put(t.plural, t.group, { ...cur, status: { ...s, conditions: [{ type: 'Progressing', status: 'False', reason: 'ProgressDeadlineExceeded', message: `ReplicaSet "${object.metadata.name}-new" has timed out progressing.` }] } });
          }, (spec.progressDeadlineSeconds ?? 600) * 1000);
        }
      });
      return;
    }
    if (t.kind === 'Pod' && type === 'DELETED') {
      const owner = (object.metadata.ownerReferences as { kind: string; name: string }[] | undefined)?.[0];
      if (!owner || (owner.kind !== 'ReplicaSet' && owner.kind !== 'StatefulSet')) return;
      later(() => {
        const node = readyNodes()[0];
        const name = owner.kind === 'StatefulSet' ? object.metadata.name : `${owner.name}-${Math.random().toString(36).slice(2, 7)}`;
        const { deletionTimestamp: _d, uid: _u, resourceVersion: _r, creationTimestamp: _c, ...meta } = object.metadata as Record<string, unknown>;
        api.put('pods', '', {
          ...object,
          metadata: { ...meta, name } as Obj['metadata'],
          spec: { ...(object.spec as object), ...(node ? { nodeName: node } : { nodeName: undefined }) },
          status: node ? { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } : { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable' }] },
        });
      });
    }
  });
}
