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

  /** Pods a rollout replaced itself: their deletion is not a pod to create again. */
  const replaced = new Set<string>();
  /** A rollout: the workload's pods replaced by new ones of the new template (ready, or crash-looping). */
  const replacePods = (w: Obj, never: boolean) => {
    const ns = w.metadata.namespace as string;
    const match = ((w.spec as { selector?: { matchLabels?: Record<string, string> } }).selector?.matchLabels ?? {}) as Record<string, string>;
    const template = (w.spec as { template?: { spec?: { containers?: { name: string; image: string }[] } } }).template;
    for (const pod of api.list('pods', '', ns)) {
      if (!Object.entries(match).every(([k, v]) => pod.metadata.labels?.[k] === v)) continue;
      const owner = (pod.metadata.ownerReferences as { kind: string; name: string }[] | undefined)?.[0];
      replaced.add(`${ns}/${pod.metadata.name}`);
      api.remove('pods', '', ns, pod.metadata.name);
      const node = api.nodeReady((pod.spec as { nodeName?: string }).nodeName) ? (pod.spec as { nodeName?: string }).nodeName : readyNodes()[0];
      const name = owner?.kind === 'StatefulSet' ? pod.metadata.name : `${pod.metadata.name.replace(/-[a-z0-9]{5}$/, '')}-${Math.random().toString(36).slice(2, 7)}`;
      const { deletionTimestamp: _d, uid: _u, resourceVersion: _r, creationTimestamp: _c, ...meta } = pod.metadata as Record<string, unknown>;
      api.put('pods', '', {
        ...pod,
        metadata: { ...meta, name } as Obj['metadata'],
        spec: { ...(pod.spec as object), nodeName: node },
        status: {
          phase: 'Running',
          conditions: [{ type: 'Ready', status: never ? 'False' : 'True' }],
          containerStatuses: (template?.spec?.containers ?? []).map((c) => ({
            name: c.name,
            image: c.image,
            imageID: c.image.includes('@') ? c.image : `${c.image.replace(/:[^:/]+$/, '')}@sha256:${'cd'.repeat(32)}`,
            ready: !never,
            restartCount: never ? 4 : 0,
            ...(never ? { state: { waiting: { reason: 'CrashLoopBackOff' } } } : {}),
          })),
        },
      });
    }
  };

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
        if (gen > 1 && t.kind !== 'DaemonSet') replacePods(now, never);
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
      if (replaced.delete(`${object.metadata.namespace}/${object.metadata.name}`)) return;
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
        // The owner's status counts the new pod, as its controller does.
        const workload =
          owner.kind === 'StatefulSet'
            ? { plural: 'statefulsets', name: owner.name }
            : { plural: 'deployments', name: (api.get('replicasets', 'apps', object.metadata.namespace, owner.name)?.metadata.ownerReferences as { name: string }[] | undefined)?.[0]?.name };
        const w = workload.name ? api.get(workload.plural, 'apps', object.metadata.namespace, workload.name) : undefined;
        if (!w) return;
        const match = ((w.spec as { selector?: { matchLabels?: Record<string, string> } }).selector?.matchLabels ?? {}) as Record<string, string>;
        const readyCount = api
          .list('pods', '', object.metadata.namespace)
          .filter((p) => Object.entries(match).every(([k, v]) => p.metadata.labels?.[k] === v) && !p.metadata.deletionTimestamp)
          .filter((p) => ((p.status as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')).length;
        const st = (w.status ?? {}) as Record<string, unknown>;
        api.put(workload.plural, 'apps', { ...w, status: { ...st, readyReplicas: readyCount, ...(workload.plural === 'deployments' ? { availableReplicas: readyCount } : {}) } });
      });
    }
  });
}
