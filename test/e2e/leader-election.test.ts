/**
 * Two remediator processes, one Lease on the fake Kubernetes API server, one shared
 * journal (a volume the leader mounts): only the leader listens and acts; the
 * leader SIGKILLed is replaced once its Lease expires, and the new leader has the
 * incidents the old one recorded; a leader that can no longer renew stops and exits
 * with an error (the kubelet restarts it as a candidate).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FakeKubeApi } from '../fakes/kube-api.js';
import { startDaemon, type Daemon } from '../helpers/cli.js';
import { podmanSuite, runWeb } from '../helpers/podman.js';
import { alertPayload, TOKEN } from '../helpers/remediator.js';

const name = `hs-t-leader-${process.pid}`;
const suite = podmanSuite('hs-leader', () => [name]);
const missing = suite.missing;
const daemons: Daemon[] = [];
afterAll(() => {
  for (const d of daemons) if (d.child.exitCode === null) d.child.kill('SIGKILL');
});

const SA = (who: string) => `system:serviceaccount:homestation:${who}`;
const LEASES = [{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'], namespaces: ['homestation'] }];

describe.runIf(!missing)('remediator leader election (two processes, one Lease)', () => {
  it('acts only as the leader, fails over to the standby with the journal, and exits when it loses the Lease', async () => {
    const api = await new FakeKubeApi({ tokens: { 'token-a': SA('a'), 'token-b': SA('b') }, rbac: { [SA('a')]: LEASES, [SA('b')]: LEASES } }).start();
    try {
      await runWeb(name);
      writeFileSync(join(suite.dir(), 'token'), TOKEN);
      const configFor = (who: string) => {
        const kubeconfig = join(suite.dir(), `kubeconfig-${who}`);
        writeFileSync(
          kubeconfig,
          `clusters: [{ name: k3s, cluster: { server: "${api.url}" } }]\nusers: [{ name: ${who}, user: { token: token-${who} } }]\ncontexts: [{ name: k3s, context: { cluster: k3s, user: ${who}, namespace: homestation } }]\ncurrent-context: k3s\n`,
        );
        const config = join(suite.dir(), `config-${who}.yaml`);
        writeFileSync(
          config,
          `remediator:
  host: 127.0.0.1
  port: 0
  auth: { bearer_token_file: ${join(suite.dir(), 'token')} }
  docker: { host: "${suite.engine().dockerHost}" }
  journal: ${join(suite.dir(), 'journal.db')}
  dry_run: true
  events: { enabled: false }
  watch: { enabled: false }
  leader_election: { enabled: true, kubeconfig: ${kubeconfig}, identity: remediator-${who}, lease_duration: 2s, renew_deadline: 1500ms, retry_period: 250ms }
  services:
    - { name: web, container: ${name} }
  policies:
    - { match: { alertname: ServiceDown }, ladder: [{ action: restart }] }
`,
        );
        return config;
      };
      const ready = /^remediator listening/;
      const a = await startDaemon(['--config', configFor('a')], {}, { command: 'remediator', ready });
      daemons.push(a);
      const lease = () => api.get('leases', 'coordination.k8s.io', 'homestation', 'homestation-remediator') as unknown as { spec: { holderIdentity: string; leaseTransitions: number } };
      expect(lease().spec.holderIdentity).toBe('remediator-a');

      // The standby campaigns, but neither listens nor opens the journal.
      let bListening = false;
      const bStarted = startDaemon(['--config', configFor('b')], {}, { command: 'remediator', ready }).then((d) => {
        bListening = true;
        daemons.push(d);
        return d;
      });
      const res = await fetch(`${a.url}/webhook/alertmanager`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify(alertPayload([{ labels: { alertname: 'ServiceDown', service: 'web' } }])),
      });
      expect(res.status).toBe(200);
      const incidents = async (d: Daemon) => ((await (await fetch(`${d.url}/api/v1/incidents`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { incidents: { id: number; service: string }[] }).incidents;
      await expect.poll(async () => (await incidents(a)).length, { timeout: 10_000 }).toBe(1);
      const recorded = (await incidents(a))[0]!;
      await new Promise((r) => setTimeout(r, 2500)); // longer than the Lease: a renews, b keeps waiting
      expect(bListening).toBe(false);
      expect(lease().spec.holderIdentity).toBe('remediator-a');

      // The leader killed: no release; b takes the Lease once it expired (2 s) and starts.
      const killedAt = Date.now();
      a.child.kill('SIGKILL');
      const b = await bStarted;
      const tookMs = Date.now() - killedAt;
      // Not before the Lease expired for b: 2 s after the last renewal b saw, at most one retry period (with jitter) before the kill.
      expect(tookMs).toBeGreaterThanOrEqual(2000 - 1.2 * 250 - 50);
      expect(tookMs).toBeLessThan(15_000);
      expect(lease().spec).toMatchObject({ holderIdentity: 'remediator-b', leaseTransitions: 1 });
      // The journal survived the failover: the incident a recorded is b's.
      expect((await incidents(b)).map((i) => i.id)).toContain(recorded.id);

      // b can no longer renew (its token revoked): it stops acting and exits non-zero.
      const exited = new Promise<number | null>((resolve) => b.child.once('exit', (code) => resolve(code)));
      api.revokeToken('token-b');
      expect(await exited).toBe(1);
      expect(b.logs.some((l) => String(l.msg).startsWith('leadership lost'))).toBe(true);
    } finally {
      await api.stop();
    }
  }, 90_000);
});
