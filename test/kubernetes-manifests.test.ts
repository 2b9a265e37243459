/**
 * deploy/kubernetes: every file kustomize lists exists and parses, the configs it
 * generates pass check-config, and the RBAC is exactly what HomeStation uses: every
 * Kubernetes code path (the velero source, leader election, the driver's restart,
 * redeploy, rollout status, migrate by eviction and by force) runs against the fake
 * API server under the shipped rules: a 403 fails it, and so does a verb granted that
 * no path used.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { KubeClient } from '../collector/kube/client.js';
import { backup } from '../exporters/backup/index.js';
import { M } from '../exporters/backup/metrics.js';
import { KubernetesDriver, WORKLOAD_KINDS, type WorkloadKind } from '../remediator/kubernetes/driver.js';
import { LeaderElector } from '../remediator/kubernetes/leader.js';
import { FakeKubeApi, type Rule } from './fakes/kube-api.js';
import { simulateControllers } from './fakes/kube-controllers.js';
import { runCli } from './helpers/cli.js';
import { memoryLogger, runnerFor } from './helpers/runner.js';

const dir = fileURLToPath(new URL('../deploy/kubernetes/', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'hs-k8s-manifests-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

type Doc = { kind: string; metadata: { name: string; namespace?: string }; rules?: { apiGroups: string[]; resources: string[]; verbs: string[] }[]; roleRef?: { kind: string; name: string }; subjects?: { name: string; namespace?: string }[] };
const kustomization = readDocs('kustomization.yaml')[0] as unknown as { namespace: string; resources: string[]; configMapGenerator: { name: string; files: string[] }[] };

function readDocs(file: string): Doc[] {
  const docs = parseAllDocuments(readFileSync(join(dir, file), 'utf8'));
  for (const d of docs) if (d.errors.length) throw new Error(`${file}: ${d.errors[0]!.message}`);
  return docs.map((d) => d.toJS() as Doc).filter(Boolean);
}

describe('deploy/kubernetes', () => {
  it('lists files that exist and parse, each object named', () => {
    for (const f of kustomization.resources) for (const d of readDocs(f)) expect(d.kind && d.metadata?.name, `${f}: ${JSON.stringify(d).slice(0, 80)}`).toBeTruthy();
    const kinds = kustomization.resources.flatMap((f) => readDocs(f).map((d) => `${d.kind}/${d.metadata.name}`));
    expect(kinds).toEqual(expect.arrayContaining(['Deployment/homestation-collector', 'DaemonSet/homestation-node', 'Deployment/homestation-remediator', 'ClusterRole/homestation-remediator', 'Role/homestation-velero-reader', 'Role/homestation-remediator-lease']));
  });

  it.each(kustomization.configMapGenerator.map((g) => [g.name, g.files[0]!.split('=')[1]!] as const))('%s (%s) passes check-config', (_name, file) => {
    const token = join(tmp, 'token');
    writeFileSync(token, 'x');
    const copy = join(tmp, file);
    writeFileSync(copy, readFileSync(join(dir, file), 'utf8').replace('/run/secrets/homestation/token', token));
    const res = runCli(['check-config', copy]);
    expect(res.stderr + res.stdout).not.toContain('invalid');
    expect(res.code).toBe(0);
  });

  it('grants exactly the verbs HomeStation uses', async () => {
    // The shipped rules, per service account, as the API server would apply them.
    const docs = kustomization.resources.flatMap((f) => readDocs(f));
    const rbac: Record<string, Rule[]> = {};
    const granted = new Set<string>();
    for (const b of docs.filter((d) => d.kind === 'RoleBinding' || d.kind === 'ClusterRoleBinding')) {
      const role = docs.find((d) => d.kind === b.roleRef!.kind && d.metadata.name === b.roleRef!.name)!;
      const ns = b.kind === 'RoleBinding' ? (b.metadata.namespace ?? kustomization.namespace) : undefined;
      for (const s of b.subjects!) {
        const user = `system:serviceaccount:${s.namespace ?? kustomization.namespace}:${s.name}`;
        for (const r of role.rules!) {
          (rbac[user] ??= []).push({ apiGroups: r.apiGroups, resources: r.resources, verbs: r.verbs, ...(ns ? { namespaces: [ns] } : {}) });
          for (const g of r.apiGroups) for (const res of r.resources) for (const v of r.verbs) granted.add(`${v} ${g}/${res}`);
        }
      }
    }
    const collector = 'system:serviceaccount:homestation:homestation-collector';
    const remediator = 'system:serviceaccount:homestation:homestation-remediator';
    expect(Object.keys(rbac).sort()).toEqual([collector, remediator]);
    const api = await new FakeKubeApi({ tokens: { collector, remediator }, rbac, bookmarkMs: 100 }).start();
    simulateControllers(api, { rolloutMs: 30 });
    const { log } = memoryLogger();
    const client = new KubeClient({ server: api.url, source: 'test', authorization: () => 'Bearer remediator' });
    try {
      // The collector: Velero's Backups and Schedules by list-then-watch.
      const kubeconfig = join(tmp, 'kubeconfig');
      writeFileSync(kubeconfig, `clusters: [{name: c, cluster: {server: "${api.url}"}}]\nusers: [{name: u, user: {token: collector}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\ncurrent-context: c\n`);
      api.put('schedules', 'velero.io', { metadata: { name: 'nightly', namespace: 'velero' }, spec: { schedule: '0 3 * * *' } });
      const runner = runnerFor(backup, { name: 'velero', velero: { kubeconfig, namespace: 'velero' } }, { log });
      runner.start();
      await expect.poll(() => runner.status().samples.some((s) => s.metric === M.count), { timeout: 5000 }).toBe(true);
      expect(runner.status().lastError).toBeUndefined();
      await runner.stop();

      // Leader election: create, then renew.
      const elector = new LeaderElector({ client, namespace: 'homestation', name: 'homestation-remediator', identity: 'r-1', leaseDurationMs: 1000, renewDeadlineMs: 600, retryPeriodMs: 100, log, onStartedLeading: () => {}, onStoppedLeading: () => {} });
      elector.start();
      await expect.poll(() => elector.isLeader, { timeout: 3000 }).toBe(true);
      await new Promise((r) => setTimeout(r, 250));
      await elector.stop();

      // The driver, on each workload kind, in a namespace of its own.
      const driver = new KubernetesDriver(client, log);
      for (const n of ['a', 'b']) api.put('nodes', '', { metadata: { name: n }, spec: {}, status: { conditions: [{ type: 'Ready', status: 'True' }] } });
      const ready = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] };
      for (const kind of WORKLOAD_KINDS) {
        const name = kind.toLowerCase();
        const plural = `${name}s`;
        const labels = { app: name };
        api.put(plural, 'apps', { metadata: { name, namespace: 'apps', labels }, spec: { replicas: 1, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name, image: `${name}:1` }] } } } });
        const owner = kind === 'Deployment' ? { kind: 'ReplicaSet', name: `${name}-rs` } : { kind, name };
        if (kind === 'Deployment') api.put('replicasets', 'apps', { metadata: { name: `${name}-rs`, namespace: 'apps', ownerReferences: [{ kind: 'Deployment', name, controller: true }] }, spec: {} });
        api.put('pods', '', {
          metadata: { name: `${name}-0`, namespace: 'apps', labels, ownerReferences: [{ ...owner, controller: true }] },
          spec: { nodeName: 'a', volumes: [{ name: 'data', persistentVolumeClaim: { claimName: `${name}-data` } }] },
          status: { ...ready, containerStatuses: [{ name, image: `${name}:1`, imageID: `${name}@sha256:${'12'.repeat(32)}`, ready: true }] },
        });
        api.put('persistentvolumeclaims', '', { metadata: { name: `${name}-data`, namespace: 'apps' }, spec: { accessModes: ['ReadWriteMany'], volumeName: `pv-${name}` } });
        api.put('persistentvolumes', '', { metadata: { name: `pv-${name}` }, spec: { nfs: { server: 'nas', path: `/k8s/${name}` } } });
        const ref = await driver.byLabels('apps', kind as WorkloadKind, `app=${name}`);
        expect(await driver.resolve({ namespace: 'apps', pod: `${name}-0` })).toEqual(ref);
        const generation = await driver.restart(ref);
        expect((await driver.waitForRollout(ref, 3000, generation)).done).toBe(true);
        await driver.redeploy(ref);
      }
      // Migrate off a Ready node (cordon, evict, volumes checked), and off a NotReady one (by force).
      const dep = { namespace: 'apps', kind: 'Deployment' as const, name: 'deployment' };
      api.put('pods', '', { metadata: { name: 'deployment-1', namespace: 'apps', labels: { app: 'deployment' }, ownerReferences: [{ kind: 'ReplicaSet', name: 'deployment-rs', controller: true }] }, spec: { nodeName: 'a' }, status: ready });
      api.put('deployments', 'apps', { ...api.get('deployments', 'apps', 'apps', 'deployment')!, spec: { ...(api.get('deployments', 'apps', 'apps', 'deployment')!.spec as object), replicas: 2 } });
      expect((await driver.migrateOff(dep, 'a', 5000)).done).toBe(true);
      api.put('nodes', '', { metadata: { name: 'b' }, spec: {}, status: { conditions: [{ type: 'Ready', status: 'Unknown' }] } });
      api.put('nodes', '', { metadata: { name: 'a' }, spec: {}, status: { conditions: [{ type: 'Ready', status: 'True' }] } });
      const sts = { namespace: 'apps', kind: 'StatefulSet' as const, name: 'statefulset' };
      const stsPod = api.list('pods', '', 'apps').find((p) => p.metadata.name === 'statefulset-0')!;
      api.put('pods', '', { ...stsPod, spec: { ...(stsPod.spec as object), nodeName: 'b' } });
      expect((await driver.migrateOff(sts, 'b', 5000)).done).toBe(true);

      const unused = [...granted].filter((g) => !api.authorized.has(g));
      expect(unused, 'granted in deploy/kubernetes/rbac.yaml but never used').toEqual([]);
      expect(api.requests.length).toBeGreaterThan(20);
    } finally {
      client.close();
      await api.stop();
    }
  }, 60_000);
});
