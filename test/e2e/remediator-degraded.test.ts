/**
 * `homestation run` with a remediator whose container engine is not there (yet):
 * it keeps serving, runs the remediator degraded (not ready, the reason on the
 * status page, webhooks answered 503 so Alertmanager retries) and connects once
 * the engine appears, with no restart. The engine is a real podman API socket.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type Daemon } from '../helpers/cli.js';
import { freePort, startPodmanService, type PodmanService } from '../helpers/podman.js';
import { TOKEN, alertPayload } from '../helpers/remediator.js';
import { missingToolsMessage } from '../helpers/tools.js';

const missing = missingToolsMessage(['podman', 'runc', 'busybox']);
let dir: string;
let daemon: Daemon | undefined;
let engine: PodmanService | undefined;

beforeAll(() => {
  if (missing && process.env.CI === 'true') throw new Error(missing);
  dir = mkdtempSync(join(tmpdir(), 'hs-degraded-'));
});
afterAll(async () => {
  await daemon?.stop();
  await engine?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 30_000);

describe.runIf(!missing)('remediator without its container engine', () => {
  it('runs degraded and not ready, says why, refuses webhooks with 503, and connects when the engine comes', async () => {
    const socket = join(dir, 'engine.sock');
    const token = join(dir, 'token');
    writeFileSync(token, `${TOKEN}\n`);
    const remPort = await freePort();
    const config = join(dir, 'homestation.yaml');
    writeFileSync(
      config,
      `server: { host: 127.0.0.1, port: ${await freePort()} }
exporters:
  filesystem:
    - name: local
remediator:
  host: 127.0.0.1
  port: ${remPort}
  auth: { bearer_token_file: ${token} }
  docker: { host: "unix://${socket}" }
  journal: ${join(dir, 'journal.db')}
  policies:
    - { match: { alertname: ServiceDown }, ladder: [{ action: restart }] }
`,
    );
    daemon = await startDaemon(['--config', config]);
    const rem = `http://127.0.0.1:${remPort}`;
    const pending = async () => ((await (await fetch(`${daemon!.url}/readyz`)).json()) as { pending?: string[] }).pending?.join() ?? '';
    await expect.poll(pending, { timeout: 10_000 }).toMatch(/remediator \(container engine unreachable: connect ENOENT/);
    expect((await fetch(`${daemon!.url}/readyz`)).status).toBe(503);
    const page = await (await fetch(`${daemon!.url}/`)).text();
    expect(page).toContain('<b>remediator</b> cannot reach the container engine');
    expect((await fetch(`${rem}/readyz`)).status).toBe(503);
    const hook = await fetch(`${rem}/webhook/alertmanager`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify(alertPayload([{ labels: { alertname: 'ServiceDown', service: 'web' } }])),
    });
    expect(hook.status).toBe(503);
    expect(((await hook.json()) as { error: string }).error).toBe('engine_unavailable');
    expect(await (await fetch(`${daemon!.url}/metrics`)).text()).toContain('homestation_remediator_engine_up 0');
    // Said once, not at every retry.
    await new Promise((r) => setTimeout(r, 3000));
    expect(daemon!.logs.filter((l) => String(l.msg).startsWith('cannot reach the container engine'))).toHaveLength(1);

    engine = await startPodmanService({ socket });
    await expect.poll(async () => (await fetch(`${daemon!.url}/readyz`)).status, { timeout: 40_000, interval: 500 }).toBe(200);
    expect((await fetch(`${rem}/readyz`)).status).toBe(200);
    expect(await (await fetch(`${daemon!.url}/metrics`)).text()).toContain('homestation_remediator_engine_up 1');
    expect(daemon!.logs.some((l) => l.msg === 'container engine connected')).toBe(true);
  }, 90_000);
});
