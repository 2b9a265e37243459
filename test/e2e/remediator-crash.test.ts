/**
 * A remediator killed with SIGKILL in the middle of an action, then started again
 * on the same journal: it carries on with the unfinished incident (the same one),
 * finds the service still down and runs its ladder again until it is back, and no
 * entry written before the kill is lost.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startDaemon } from '../helpers/cli.js';
import { containerState, podman, podmanSuite, runWeb } from '../helpers/podman.js';
import { alertPayload, TOKEN } from '../helpers/remediator.js';

const name = `hs-t-crash-${process.pid}`;
interface Step { kind: string; what: string; result: string }
interface ApiIncident { id: number; state: string; reason: string | null; steps: Step[] }
const suite = podmanSuite('hs-crash', () => [name]);
const missing = suite.missing;


describe.runIf(!missing)('remediator killed mid-action', () => {
  it('carries on with the unfinished incident after a restart until the service is back', async () => {
    writeFileSync(join(suite.dir(), 'token'), TOKEN);
    const config = join(suite.dir(), 'config.yaml');
    writeFileSync(
      config,
      `remediator:
  host: 127.0.0.1
  port: 0
  auth: { bearer_token_file: ${join(suite.dir(), 'token')} }
  docker: { host: "${suite.engine().dockerHost}" }
  journal: ${join(suite.dir(), 'journal.db')}
  # The alert path under test: the fast paths (container events, liveness watch) would act first.
  events: { enabled: false }
  watch: { enabled: false }
  services:
    # A service that ignores SIGTERM: its stop takes the whole 8 s grace period.
    - { name: slow, container: ${name}, stop_timeout: 8s, recovery_deadline: 15s }
  policies:
    - { match: { alertname: ServiceDown }, ladder: [{ action: restart }] }
`,
    );
    const web = await runWeb(name, { ignoreTerm: true });
    // Hung: frozen, so the alert is true; the restart's stop will wait 8 s.
    podman(['kill', '--signal', 'STOP', web.name]);
    const first = await startDaemon(['--config', config], {}, { command: 'remediator', ready: /^remediator listening/ });
    const api = async (d: { url: string }) =>
      ((await (await fetch(`${d.url}/api/v1/incidents`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { incidents: ApiIncident[] }).incidents;
    const res = await fetch(`${first.url}/webhook/alertmanager`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify(alertPayload([{ labels: { alertname: 'ServiceDown', service: 'slow' } }])),
    });
    expect(res.status).toBe(200);
    await expect
      .poll(async () => (await api(first))[0]?.steps.some((s) => s.kind === 'action' && s.result === 'started'), { timeout: 10_000 })
      .toBe(true)
      .catch(async (err: unknown) => {
        throw new Error(`${(err as Error).message}\nincidents: ${JSON.stringify(await api(first))}\nlogs: ${JSON.stringify(first.logs)}`);
      });
    const beforeKill = (await api(first))[0]!;
    expect(beforeKill.state).toBe('acting');
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));

    const second = await startDaemon(['--config', config], {}, { command: 'remediator', ready: /^remediator listening/ });
    try {
      await expect.poll(async () => (await api(second))[0]?.state, { timeout: 60_000, interval: 250 }).not.toBe('acting');
      const after = (await api(second))[0]!;
      expect(after.id).toBe(beforeKill.id);
      // Every entry written before the kill is still there, in order, then the new ones.
      expect(after.steps.slice(0, beforeKill.steps.length)).toEqual(beforeKill.steps);
      const tail = after.steps.slice(beforeKill.steps.length).map((s) => `${s.kind}:${s.what}:${s.result}`);
      expect(tail[0]).toBe('decision:resume:ok');
      // The interrupted stop had not started it again: "running" without a probe proves nothing then.
      expect(tail[1]).toMatch(/^check:after restart of the remediator:(ok|failed)$/);
      expect(tail[2]).toBe('decision:resume:ok');
      expect(tail).toContain('action:restart:started');
      expect(tail.at(-1), JSON.stringify(after.steps, null, 1)).toMatch(/^outcome:recovered:/);
      expect(after.state).toBe('recovered');
      expect(containerState(name).running).toBe(true);
      // Carried on, not handed to a person.
      expect(second.logs.some((l) => l.notify === 'needs_human')).toBe(false);
    } finally {
      await second.stop();
    }
  }, 120_000);
});
