/**
 * The remediator's Kubernetes target: it acts through the API, never beside it
 * (restarting a container under the kubelet fights the kubelet). Workloads are
 * Deployments, StatefulSets and DaemonSets, found from an alert's labels as
 * kube-state-metrics and the kubernetes-mixin alerts carry them.
 *
 * - restart: a rollout restart (the pod template's kubectl.kubernetes.io/restartedAt
 *   annotation, as `kubectl rollout restart` writes it), or one pod deleted;
 * - redeploy: each container's image pinned to the digest its pods run now, then the
 *   rollout followed (a rollout restart when already pinned);
 * - migrate off a node: cordon, then the Eviction API (PodDisruptionBudgets honoured:
 *   a 429 is retried until the deadline, then said); refused when a volume cannot
 *   follow (a node-bound PersistentVolume such as local-path's). On a NotReady node it
 *   says what Kubernetes itself will do and when, and acts only where it will not (a
 *   StatefulSet's pod, which is never started twice while its node is unreachable);
 * - the recovery check: `kubectl rollout status`'s conditions, followed by a watch.
 */
import type { Logger } from 'pino';
import { KubeApiError, type KubeClient } from '../../collector/kube/client.js';

export const WORKLOAD_KINDS = ['Deployment', 'StatefulSet', 'DaemonSet'] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];
const PLURAL: Record<WorkloadKind, string> = { Deployment: 'deployments', StatefulSet: 'statefulsets', DaemonSet: 'daemonsets' };
export const RESTARTED_AT = 'kubectl.kubernetes.io/restartedAt';
/** Kubernetes' default toleration of an unreachable / not-ready node (DefaultTolerationSeconds). */
export const DEFAULT_TOLERATION_SECONDS = 300;

export interface WorkloadRef {
  readonly namespace: string;
  readonly kind: WorkloadKind;
  readonly name: string;
}

export const describeRef = (r: WorkloadRef) => `${r.kind.toLowerCase()}/${r.name} in ${r.namespace}`;

/** Something the driver will not do, with the reason a person reads. */
export class Refused extends Error {
  override readonly name = 'Refused';
  constructor(
    message: string,
    /** Kubernetes itself will do what is needed (a Deployment's pods on a NotReady node): nobody needs paging. */
    readonly kubernetesActs = false,
  ) {
    super(message);
  }
}

interface Meta {
  name: string;
  namespace?: string;
  resourceVersion?: string;
  generation?: number;
  labels?: Record<string, string>;
  ownerReferences?: { kind: string; name: string; controller?: boolean }[];
  deletionTimestamp?: string;
}
interface Container {
  name: string;
  image: string;
  [k: string]: unknown;
}
export interface Workload {
  metadata: Meta;
  spec: {
    replicas?: number;
    selector?: { matchLabels?: Record<string, string> };
    updateStrategy?: { type?: string };
    template: { metadata?: { annotations?: Record<string, string>; labels?: Record<string, string> }; spec: { containers: Container[]; [k: string]: unknown } };
    [k: string]: unknown;
  };
  status?: {
    observedGeneration?: number;
    replicas?: number;
    updatedReplicas?: number;
    readyReplicas?: number;
    availableReplicas?: number;
    currentRevision?: string;
    updateRevision?: string;
    desiredNumberScheduled?: number;
    updatedNumberScheduled?: number;
    numberAvailable?: number;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
  };
}
export interface Pod {
  metadata: Meta;
  spec: {
    nodeName?: string;
    volumes?: { name: string; persistentVolumeClaim?: { claimName: string } }[];
    tolerations?: { key?: string; operator?: string; effect?: string; tolerationSeconds?: number }[];
  };
  status?: {
    phase?: string;
    conditions?: { type: string; status: string }[];
    containerStatuses?: { name: string; image: string; imageID: string; ready: boolean; restartCount?: number; state?: { waiting?: { reason?: string } } }[];
  };
}
interface Node {
  metadata: Meta;
  spec?: { unschedulable?: boolean; taints?: { key: string; effect: string; timeAdded?: string }[] };
  status?: { conditions?: { type: string; status: string; lastTransitionTime?: string; reason?: string }[] };
}

export interface RolloutState {
  readonly done: boolean;
  /** The rollout cannot finish (progress deadline exceeded, not a rolling update). */
  readonly failed?: boolean;
  readonly detail: string;
}

/** `kubectl rollout status`, per kind (kubectl's polymorphichelpers/rollout_status.go). */
export function rolloutState(kind: WorkloadKind, w: Workload): RolloutState {
  const s = w.status ?? {};
  const gen = w.metadata.generation ?? 0;
  if (kind === 'Deployment') {
    if (gen > (s.observedGeneration ?? 0)) return { done: false, detail: 'waiting for the deployment spec update to be observed' };
    const progressing = s.conditions?.find((c) => c.type === 'Progressing');
    if (progressing?.reason === 'ProgressDeadlineExceeded') return { done: false, failed: true, detail: `deployment "${w.metadata.name}" exceeded its progress deadline${progressing.message ? `: ${progressing.message}` : ''}` };
    const want = w.spec.replicas ?? 1;
    if ((s.updatedReplicas ?? 0) < want) return { done: false, detail: `${s.updatedReplicas ?? 0} out of ${want} new replicas have been updated` };
    if ((s.replicas ?? 0) > (s.updatedReplicas ?? 0)) return { done: false, detail: `${(s.replicas ?? 0) - (s.updatedReplicas ?? 0)} old replicas are pending termination` };
    if ((s.availableReplicas ?? 0) < (s.updatedReplicas ?? 0)) return { done: false, detail: `${s.availableReplicas ?? 0} of ${s.updatedReplicas ?? 0} updated replicas are available` };
    return { done: true, detail: `deployment "${w.metadata.name}" successfully rolled out (${want} of ${want} available)` };
  }
  if (kind === 'StatefulSet') {
    if (w.spec.updateStrategy?.type === 'OnDelete') return { done: false, failed: true, detail: 'rollout status is only available for the RollingUpdate strategy (this StatefulSet uses OnDelete)' };
    if (!s.observedGeneration || gen > s.observedGeneration) return { done: false, detail: 'waiting for the statefulset spec update to be observed' };
    const want = w.spec.replicas ?? 1;
    if ((s.readyReplicas ?? 0) < want) return { done: false, detail: `waiting for ${want - (s.readyReplicas ?? 0)} pods to be ready` };
    if (s.updateRevision !== s.currentRevision) return { done: false, detail: `waiting for the rolling update to complete: ${s.updatedReplicas ?? 0} pods at revision ${s.updateRevision}` };
    return { done: true, detail: `statefulset rolling update complete: ${want} pods at revision ${s.currentRevision}` };
  }
  if (gen > (s.observedGeneration ?? 0)) return { done: false, detail: 'waiting for the daemon set spec update to be observed' };
  const desired = s.desiredNumberScheduled ?? 0;
  if ((s.updatedNumberScheduled ?? 0) < desired) return { done: false, detail: `${s.updatedNumberScheduled ?? 0} out of ${desired} new pods have been updated` };
  if ((s.numberAvailable ?? 0) < desired) return { done: false, detail: `${s.numberAvailable ?? 0} of ${desired} updated pods are available` };
  return { done: true, detail: `daemon set "${w.metadata.name}" successfully rolled out (${desired} pods)` };
}

/** A container's running digest from its status imageID (docker-pullable://repo@sha256:…, or containerd's repo@sha256:…). */
export function pinnedImage(image: string, imageID: string): string | undefined {
  const m = /^(?:docker-pullable:\/\/)?(.+?)@(sha256:[0-9a-f]{64})$/.exec(imageID);
  if (!m) return undefined;
  const repo = image.replace(/@sha256:[0-9a-f]{64}$/, '').replace(/:[^:/]+$/, '');
  return `${repo}@${m[2]}`;
}

const podReady = (p: Pod) => (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

/** A workload's health now: rolled out (kubectl's conditions) and every pod Ready; what is not, named. */
export function workloadHealth(ref: WorkloadRef, w: Workload, pods: readonly Pod[]): { ok: boolean; detail: string; failingNodes: string[] } {
  const r = rolloutState(ref.kind, w);
  const live = pods.filter((p) => !p.metadata.deletionTimestamp);
  const notReady = live.filter((p) => !podReady(p));
  const waiting = notReady.flatMap((p) => (p.status?.containerStatuses ?? []).filter((c) => c.state?.waiting?.reason).map((c) => `${p.metadata.name}: ${c.state?.waiting?.reason}`));
  const failingNodes = [...new Set(notReady.map((p) => p.spec.nodeName).filter((n): n is string => Boolean(n)))];
  const ok = r.done && live.length > 0 && notReady.length === 0;
  const podsText = `${live.length - notReady.length}/${live.length} pods ready${notReady.length ? ` (not ready: ${notReady.map((p) => `${p.metadata.name}${p.spec.nodeName ? ` on ${p.spec.nodeName}` : ''}`).join(', ')})` : ''}${waiting.length ? `; ${waiting.join(', ')}` : ''}`;
  return { ok, detail: `${r.detail}; ${podsText}`, failingNodes };
}

const selectorText = (labels: Record<string, string>) =>
  Object.entries(labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');

export interface NodePlan {
  readonly node: string;
  readonly ready: boolean;
  /** What Kubernetes does about the workload's pods there, in words, and when (ms) where it will. */
  readonly kubernetes: string;
  readonly kubernetesAt?: number;
  /** Whether HomeStation should act (Kubernetes will not). */
  readonly act: boolean;
  readonly pods: string[];
}

export class KubernetesDriver {
  constructor(
    private readonly client: KubeClient,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  private path(ref: WorkloadRef, name = ref.name): string {
    return `/apis/apps/v1/namespaces/${encodeURIComponent(ref.namespace)}/${PLURAL[ref.kind]}/${encodeURIComponent(name)}`;
  }

  /**
   * The workload an alert is about: its `deployment`, `statefulset` or `daemonset`
   * label, else its `pod` label's controller (a ReplicaSet's Deployment), in the
   * alert's `namespace`.
   */
  async resolve(labels: Readonly<Record<string, string>>, defaultNamespace?: string): Promise<WorkloadRef> {
    const namespace = labels.namespace ?? defaultNamespace;
    if (!namespace) throw new Refused('the alert has no namespace label, and the service names none');
    if (labels.deployment) return { namespace, kind: 'Deployment', name: labels.deployment };
    if (labels.statefulset) return { namespace, kind: 'StatefulSet', name: labels.statefulset };
    if (labels.daemonset) return { namespace, kind: 'DaemonSet', name: labels.daemonset };
    if (!labels.pod) throw new Refused('the alert names no deployment, statefulset, daemonset or pod');
    const pod = await this.client.request<Pod>('GET', `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(labels.pod)}`);
    const owner = pod.metadata.ownerReferences?.find((o) => o.controller) ?? pod.metadata.ownerReferences?.[0];
    if (!owner) throw new Refused(`pod ${labels.pod} has no controller: nothing would create it again, so it is not touched`);
    if (owner.kind === 'StatefulSet' || owner.kind === 'DaemonSet') return { namespace, kind: owner.kind, name: owner.name };
    if (owner.kind === 'ReplicaSet') {
      const rs = await this.client.request<{ metadata: Meta }>('GET', `/apis/apps/v1/namespaces/${encodeURIComponent(namespace)}/replicasets/${encodeURIComponent(owner.name)}`);
      const dep = rs.metadata.ownerReferences?.find((o) => o.kind === 'Deployment');
      if (dep) return { namespace, kind: 'Deployment', name: dep.name };
      throw new Refused(`pod ${labels.pod} belongs to ReplicaSet ${owner.name}, which no Deployment owns`);
    }
    throw new Refused(`pod ${labels.pod} is owned by a ${owner.kind}, which HomeStation does not drive`);
  }

  /** The one workload of `kind` in `namespace` matching a label selector. */
  async byLabels(namespace: string, kind: WorkloadKind, selector: string): Promise<WorkloadRef> {
    const list = await this.client.request<{ items: Workload[] }>('GET', `/apis/apps/v1/namespaces/${encodeURIComponent(namespace)}/${PLURAL[kind]}`, { query: { labelSelector: selector } });
    if (list.items.length !== 1) throw new Refused(`${list.items.length === 0 ? 'no' : `${list.items.length}`} ${PLURAL[kind]} in ${namespace} match ${selector}; exactly one is needed`);
    return { namespace, kind, name: list.items[0]!.metadata.name };
  }

  get(ref: WorkloadRef): Promise<Workload> {
    return this.client.request<Workload>('GET', this.path(ref));
  }

  async pods(ref: WorkloadRef, w?: Workload): Promise<Pod[]> {
    const workload = w ?? (await this.get(ref));
    const match = workload.spec.selector?.matchLabels;
    if (!match || Object.keys(match).length === 0) throw new Refused(`${describeRef(ref)} has no matchLabels selector`);
    const list = await this.client.request<{ items: Pod[] }>('GET', `/api/v1/namespaces/${encodeURIComponent(ref.namespace)}/pods`, { query: { labelSelector: selectorText(match) } });
    return list.items;
  }

  /** A rollout restart, as `kubectl rollout restart` (the same annotation, RFC 3339 to the second). Returns the generation to wait for. */
  async restart(ref: WorkloadRef): Promise<number> {
    const at = new Date(this.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const w = await this.client.request<Workload>('PATCH', this.path(ref), {
      body: { spec: { template: { metadata: { annotations: { [RESTARTED_AT]: at } } } } },
      contentType: 'application/strategic-merge-patch+json',
    });
    this.log.warn({ workload: describeRef(ref), at }, 'rollout restart');
    return w.metadata.generation ?? 0;
  }

  /** One pod deleted (its controller creates it again); `force` skips the grace period, for a pod on an unreachable node. */
  async deletePod(namespace: string, name: string, force = false): Promise<void> {
    await this.client.request('DELETE', `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}`, {
      body: { apiVersion: 'v1', kind: 'DeleteOptions', ...(force ? { gracePeriodSeconds: 0 } : {}) },
    });
  }

  /**
   * Deletes one failing pod of the workload (the first not Ready, by name): its
   * controller creates it again and the other replicas keep serving. Returns it;
   * refused when every pod is Ready (nothing to single out).
   */
  async restartOnePod(ref: WorkloadRef): Promise<string> {
    const pods = (await this.pods(ref)).filter((p) => !p.metadata.deletionTimestamp).sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
    const failing = pods.find((p) => !podReady(p));
    if (!failing) throw new Refused(`every pod of ${describeRef(ref)} is Ready: no single pod to restart (a rollout restart is the step for it)`);
    await this.deletePod(ref.namespace, failing.metadata.name);
    this.log.warn({ workload: describeRef(ref), pod: failing.metadata.name }, 'pod deleted: its controller creates it again');
    return failing.metadata.name;
  }

  /**
   * Each container's image pinned to the digest its running pods report, so the
   * redeploy brings back exactly what ran (not whatever the tag points to now); a
   * workload already pinned gets a rollout restart. The write carries the version
   * read: a change in between is a 409, not lost.
   */
  async redeploy(ref: WorkloadRef): Promise<{ generation: number; pinned: string[] }> {
    const w = await this.get(ref);
    const pods = await this.pods(ref, w);
    const digests = new Map<string, string>();
    for (const p of pods) for (const c of p.status?.containerStatuses ?? []) if (!digests.has(c.name)) {
      const spec = w.spec.template.spec.containers.find((x) => x.name === c.name);
      const pin = spec ? pinnedImage(spec.image, c.imageID) : undefined;
      if (pin) digests.set(c.name, pin);
    }
    const pinned: string[] = [];
    const containers = w.spec.template.spec.containers.map((c) => {
      const pin = digests.get(c.name);
      if (!pin || pin === c.image) return c;
      pinned.push(`${c.name}: ${c.image} -> ${pin}`);
      return { ...c, image: pin };
    });
    if (pinned.length === 0) {
      if (digests.size === 0) throw new Refused(`no running pod of ${describeRef(ref)} reports its image digest: nothing to pin (a restart is the step for it)`);
      return { generation: await this.restart(ref), pinned };
    }
    const updated = await this.client.request<Workload>('PATCH', this.path(ref), {
      body: { metadata: { resourceVersion: w.metadata.resourceVersion }, spec: { template: { spec: { containers } } } },
      contentType: 'application/merge-patch+json',
    });
    this.log.warn({ workload: describeRef(ref), pinned }, 'redeploy: images pinned to their running digests');
    return { generation: updated.metadata.generation ?? 0, pinned };
  }

  /**
   * Waits for the rollout (kubectl rollout status) until `deadlineMs`, following the
   * workload by watch from the version read; gives up early on a rollout that cannot
   * finish (ProgressDeadlineExceeded).
   */
  async waitForRollout(ref: WorkloadRef, deadlineMs: number, minGeneration = 0): Promise<RolloutState> {
    const end = this.now() + deadlineMs;
    let last: RolloutState = { done: false, detail: 'not read yet' };
    const judge = (w: Workload): RolloutState => ((w.metadata.generation ?? 0) < minGeneration ? { done: false, detail: `waiting for generation ${minGeneration}` } : rolloutState(ref.kind, w));
    while (this.now() < end) {
      const w = await this.get(ref);
      last = judge(w);
      if (last.done || last.failed) return last;
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(), Math.max(0, end - this.now()));
      try {
        await this.client.watch<Workload>(
          `/apis/apps/v1/namespaces/${encodeURIComponent(ref.namespace)}/${PLURAL[ref.kind]}`,
          { fieldSelector: `metadata.name=${ref.name}`, resourceVersion: w.metadata.resourceVersion, timeoutSeconds: Math.ceil(deadlineMs / 1000) + 1 },
          (e) => {
            if (e.type !== 'ADDED' && e.type !== 'MODIFIED') return;
            last = judge(e.object);
            if (last.done || last.failed) abort.abort();
          },
          abort.signal,
        );
      } catch (err) {
        if (!abort.signal.aborted) this.log.debug({ err: (err as Error).message }, 'rollout watch ended; reading again');
      } finally {
        clearTimeout(timer);
      }
      if (last.done || last.failed) return last;
    }
    return { done: false, failed: true, detail: `not rolled out within ${Math.round(deadlineMs / 1000)} s: ${last.detail}` };
  }

  /** What Kubernetes will do about the workload's pods on `nodeName`, and whether HomeStation should act. */
  async planForNode(ref: WorkloadRef, nodeName: string): Promise<NodePlan> {
    const node = await this.client.request<Node>('GET', `/api/v1/nodes/${encodeURIComponent(nodeName)}`);
    const pods = (await this.pods(ref)).filter((p) => p.spec.nodeName === nodeName);
    const names = pods.map((p) => p.metadata.name);
    const readyCond = node.status?.conditions?.find((c) => c.type === 'Ready');
    const ready = readyCond?.status === 'True';
    if (ref.kind === 'DaemonSet') return { node: nodeName, ready, kubernetes: 'a DaemonSet pod belongs to its node: nothing to move', act: false, pods: names };
    if (names.length === 0) return { node: nodeName, ready, kubernetes: `no pod of ${describeRef(ref)} runs on ${nodeName}`, act: false, pods: names };
    if (ready) return { node: nodeName, ready, kubernetes: `${nodeName} is Ready: Kubernetes moves nothing off it by itself`, act: true, pods: names };
    const taintKey = readyCond?.status === 'False' ? 'node.kubernetes.io/not-ready' : 'node.kubernetes.io/unreachable';
    const since = Date.parse(node.spec?.taints?.find((t) => t.key === taintKey && t.effect === 'NoExecute')?.timeAdded ?? readyCond?.lastTransitionTime ?? '') || this.now();
    if (ref.kind === 'StatefulSet') {
      return {
        node: nodeName,
        ready,
        kubernetes: `${nodeName} is NotReady since ${new Date(since).toISOString()}; Kubernetes marks ${names.join(', ')} for deletion but never starts a StatefulSet pod again while its node may still run it: it waits for the node, so HomeStation acts`,
        act: true,
        pods: names,
      };
    }
    const seconds = Math.min(
      ...pods.map((p) => p.spec.tolerations?.find((t) => (t.key === taintKey || (t.operator === 'Exists' && !t.key)) && (t.effect === 'NoExecute' || !t.effect))?.tolerationSeconds ?? DEFAULT_TOLERATION_SECONDS),
    );
    const at = since + seconds * 1000;
    return {
      node: nodeName,
      ready,
      kubernetes: `${nodeName} is NotReady since ${new Date(since).toISOString()}; Kubernetes evicts ${names.join(', ')} after their ${seconds} s toleration of ${taintKey}, at ${new Date(at).toISOString()}, and the ReplicaSet starts them on another node: HomeStation does not act`,
      kubernetesAt: at,
      act: false,
      pods: names,
    };
  }

  /** Refuses when a pod's PersistentVolume is bound to one node (local-path, hostPath, local): its data cannot follow. */
  async volumesCanFollow(namespace: string, pods: readonly Pod[]): Promise<void> {
    for (const p of pods) {
      for (const v of p.spec.volumes ?? []) {
        const claim = v.persistentVolumeClaim?.claimName;
        if (!claim) continue;
        const pvc = await this.client.request<{ spec: { volumeName?: string; accessModes?: string[]; storageClassName?: string } }>('GET', `/api/v1/namespaces/${encodeURIComponent(namespace)}/persistentvolumeclaims/${encodeURIComponent(claim)}`);
        if (!pvc.spec.volumeName) continue;
        const pv = await this.client.request<{ spec: { local?: unknown; hostPath?: unknown; nodeAffinity?: { required?: { nodeSelectorTerms?: { matchExpressions?: { key: string; values?: string[] }[] }[] } } } }>('GET', `/api/v1/persistentvolumes/${encodeURIComponent(pvc.spec.volumeName)}`);
        const nodes = (pv.spec.nodeAffinity?.required?.nodeSelectorTerms ?? []).flatMap((t) => t.matchExpressions ?? []).filter((e) => e.key === 'kubernetes.io/hostname').flatMap((e) => e.values ?? []);
        const modes = (pvc.spec.accessModes ?? []).join(', ');
        if (nodes.length > 0 || pv.spec.local !== undefined || pv.spec.hostPath !== undefined) {
          throw new Refused(
            `volume ${v.name} of ${p.metadata.name} (claim ${claim}, ${modes || 'no access mode'}${pvc.spec.storageClassName ? `, ${pvc.spec.storageClassName}` : ''}) lives on ${nodes.length ? `node ${nodes.join(', ')}` : 'one node'}'s disk: its data cannot follow to another node (restore it from a backup, or use network storage such as Longhorn or NFS)`,
          );
        }
      }
    }
  }

  /**
   * Moves the workload's pods off `nodeName`: on a Ready node, cordon and evict (a PDB
   * that blocks is retried until the deadline, then said); on a NotReady node, only a
   * StatefulSet's pods are deleted by force (Kubernetes moves the others itself, and
   * a graceful delete would wait for a kubelet that is gone). Then the rollout check.
   */
  async migrateOff(ref: WorkloadRef, nodeName: string, deadlineMs: number, record: (what: string, result: string, detail: string) => void = () => {}): Promise<RolloutState> {
    const plan = await this.planForNode(ref, nodeName);
    record('plan', plan.act ? 'act' : 'wait', plan.kubernetes);
    if (!plan.act) throw new Refused(plan.kubernetes, plan.kubernetesAt !== undefined);
    const pods = (await this.pods(ref)).filter((p) => p.spec.nodeName === nodeName);
    await this.volumesCanFollow(ref.namespace, pods);
    const end = this.now() + deadlineMs;
    if (plan.ready) {
      await this.client.request('PATCH', `/api/v1/nodes/${encodeURIComponent(nodeName)}`, { body: { spec: { unschedulable: true } }, contentType: 'application/strategic-merge-patch+json' });
      record('cordon', 'ok', `${nodeName} cordoned: nothing new is scheduled there`);
      for (const p of pods) {
        for (;;) {
          try {
            await this.client.request('POST', `/api/v1/namespaces/${encodeURIComponent(ref.namespace)}/pods/${encodeURIComponent(p.metadata.name)}/eviction`, {
              body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: p.metadata.name, namespace: ref.namespace } },
            });
            record('evict', 'ok', `${p.metadata.name} evicted`);
            break;
          } catch (err) {
            if (err instanceof KubeApiError && err.status === 404) {
              record('evict', 'ok', `${p.metadata.name} already gone`);
              break;
            }
            if (!(err instanceof KubeApiError && err.status === 429)) throw err;
            const why = err.body?.details?.causes?.map((c) => c.message).join('; ') || err.body?.message || err.message;
            if (this.now() + 2000 > end) throw new Refused(`evicting ${p.metadata.name} is blocked by its PodDisruptionBudget until the deadline: ${why}`);
            this.log.info({ pod: p.metadata.name, why }, 'eviction blocked by a PodDisruptionBudget; retrying');
            await new Promise((r) => setTimeout(r, 1000));
          }
        }
      }
    } else {
      for (const p of pods) {
        await this.deletePod(ref.namespace, p.metadata.name, true);
        record('force_delete', 'ok', `${p.metadata.name} deleted by force: ${nodeName} is NotReady, its kubelet cannot confirm a graceful deletion`);
      }
    }
    return this.waitForPodsElsewhere(ref, nodeName, Math.max(1000, end - this.now()));
  }

  /** Ready again: the workload's pods Ready on other nodes and none left on (or bound for) the node. */
  private waitForPodsElsewhere(ref: WorkloadRef, nodeName: string, deadlineMs: number): Promise<RolloutState> {
    return this.untilPods(ref, deadlineMs, (w, pods) => {
      const want = w.spec.replicas ?? 1;
      const readyElsewhere = pods.filter((p) => p.spec.nodeName && p.spec.nodeName !== nodeName && !p.metadata.deletionTimestamp && podReady(p));
      const left = pods.filter((p) => p.spec.nodeName === nodeName && !p.metadata.deletionTimestamp);
      const pending = pods.filter((p) => !p.spec.nodeName);
      const detail = `${readyElsewhere.length} of ${want} pods ready on other nodes${left.length ? `, ${left.length} still on ${nodeName}` : ''}${pending.length ? `, ${pending.length} not scheduled (no node fits)` : ''}`;
      return readyElsewhere.length >= want && left.length === 0 ? { done: true, detail: `moved off ${nodeName}: ${detail}` } : { done: false, detail };
    }).then((r) => (r.done ? r : { ...r, detail: `not moved off ${nodeName} within ${Math.round(deadlineMs / 1000)} s: ${r.detail}` }));
  }

  /**
   * Until `judge` says done (or the deadline): the workload and its pods read, then
   * read again at each change of its pods, followed by a watch from the list's version
   * (not polled).
   */
  async untilPods(ref: WorkloadRef, deadlineMs: number, judge: (w: Workload, pods: readonly Pod[]) => RolloutState): Promise<RolloutState> {
    const end = this.now() + deadlineMs;
    let last: RolloutState = { done: false, detail: 'not read yet' };
    while (this.now() < end) {
      const w = await this.get(ref);
      const match = w.spec.selector?.matchLabels ?? {};
      const list = await this.client.request<{ metadata?: { resourceVersion?: string }; items: Pod[] }>('GET', `/api/v1/namespaces/${encodeURIComponent(ref.namespace)}/pods`, { query: { labelSelector: selectorText(match) } });
      last = judge(w, list.items);
      if (last.done || last.failed) return last;
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(), Math.max(0, end - this.now()));
      try {
        await this.client.watch<Pod>(
          `/api/v1/namespaces/${encodeURIComponent(ref.namespace)}/pods`,
          { labelSelector: selectorText(match), resourceVersion: list.metadata?.resourceVersion, timeoutSeconds: Math.ceil(deadlineMs / 1000) + 1 },
          (e) => {
            if (e.type !== 'BOOKMARK') abort.abort(); // a pod changed: read again
          },
          abort.signal,
        );
      } catch (err) {
        if (!abort.signal.aborted) {
          // A watch refused or broken: read again after a pause, not in a loop.
          this.log.warn({ err: (err as Error).message }, 'pod watch failed; reading again in 1 s');
          await new Promise((r) => setTimeout(r, Math.min(1000, Math.max(0, end - this.now()))));
        }
      } finally {
        clearTimeout(timer);
      }
    }
    return { done: false, failed: true, detail: last.detail };
  }
}
