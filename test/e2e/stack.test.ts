/**
 * The whole detection-to-recovery path with real parts: blackbox_exporter probes a
 * podman container, Prometheus (deploy/ config and rules/, through the test overlay
 * of test/helpers/stack.ts) evaluates ServiceDown, Alertmanager routes it to the
 * remediator inside `homestation run`, and the container comes back. Each stage's
 * time is measured and printed.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type Daemon } from '../helpers/cli.js';
import { containerState, podman, removeContainers, runWeb, startPodmanService, type PodmanService } from '../helpers/podman.js';
import { TOKEN } from '../helpers/remediator.js';
import { stackPorts, startTools, writeOverlay } from '../helpers/stack.js';
import { missingToolsMessage } from '../helpers/tools.js';

const tools = ['podman', 'runc', 'busybox', 'prometheus', 'prometheus-alertmanager', 'prometheus-blackbox-exporter'];
const missing = missingToolsMessage(tools);
const name = `hs-t-stack-${process.pid}`;
let engine: PodmanService;
let dir: string;
let parts: ReturnType<typeof startTools> | undefined;
let homestation: Daemon | undefined;

async function until<T>(what: string, f: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const t0 = Date.now();
  for (;;) {
    try {
      const v = await f();
      if (v !== undefined) return v;
    } catch {
      // not yet
    }
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  if (missing) {
    if (process.env.CI === 'true') throw new Error(missing);
    return;
  }
  engine = await startPodmanService();
  dir = mkdtempSync(join(tmpdir(), 'hs-stack-'));
}, 60_000);

afterAll(async () => {
  if (missing) return;
  await homestation?.stop();
  await parts?.stop();
  removeContainers([name]);
  await engine?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe.runIf(!missing)('detection to recovery with Prometheus, Alertmanager and blackbox_exporter', () => {
  it('a stopped service is probed down, alerted, routed to the remediator, and comes back', async () => {
    const ports = await stackPorts();
    const token = join(dir, 'token');
    writeFileSync(token, `${TOKEN}\n`);
    const files = writeOverlay(dir, ports, token, 'web');
    const config = join(dir, 'homestation.yaml');
    writeFileSync(
      config,
      `server: { host: 127.0.0.1, port: ${ports.homestation} }
remediator:
  host: 127.0.0.1
  port: ${ports.remediator}
  auth: { bearer_token_file: ${token} }
  docker: { host: "${engine.dockerHost}" }
  journal: ${join(dir, 'journal.db')}
  # The alert path under test: the fast paths (container events, liveness watch) would act first.
  events: { enabled: false }
  watch: { enabled: false }
  services:
    - { name: web, container: ${name}, probe: { http: { url: "http://127.0.0.1:${ports.service}/" } }, stop_timeout: 1s }
  policies:
    - { match: { alertname: ServiceDown, remediate: "true" }, ladder: [{ action: restart, attempts: 2 }] }
`,
    );
    await runWeb(name, { port: ports.service });
    parts = startTools(files, ports, dir);
    homestation = await startDaemon(['--config', config]);
    const prom = `http://127.0.0.1:${ports.prometheus}`;
    const query = async (q: string) =>
      ((await (await fetch(`${prom}/api/v1/query?query=${encodeURIComponent(q)}`)).json()) as { data: { result: { value: [number, string] }[] } }).data.result;

    // Healthy first: the probe succeeds and the remediator is scraped.
    await until('a successful probe', async () => ((await query('probe_success{job="blackbox"}'))[0]?.value[1] === '1' ? true : undefined));
    await until('the remediator scraped', async () => ((await query('up{job="homestation-remediator"}'))[0]?.value[1] === '1' ? true : undefined));

    const t0 = Date.now();
    podman(['stop', '-t', '0', name]);
    const probedDown = await until('probe_success 0', async () => ((await query('probe_success{job="blackbox"}'))[0]?.value[1] === '0' ? Date.now() : undefined));
    const firing = await until('ServiceDown firing', async () => {
      const alerts = ((await (await fetch(`${prom}/api/v1/alerts`)).json()) as { data: { alerts: { labels: Record<string, string>; state: string }[] } }).data.alerts;
      return alerts.some((a) => a.labels.alertname === 'ServiceDown' && a.state === 'firing') ? Date.now() : undefined;
    });
    const incidents = async () =>
      ((await (await fetch(`http://127.0.0.1:${ports.remediator}/api/v1/incidents`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as {
        incidents: { state: string; startedAt: number; endedAt: number | null; recoverySeconds: number | null; service: string }[];
      }).incidents;
    const received = await until('the webhook', async () => (await incidents())[0]?.startedAt);
    const recovered = await until('the recovery', async () => {
      const i = (await incidents())[0];
      return i?.state === 'recovered' ? i : undefined;
    });
    expect(recovered.service).toBe('web');
    expect(containerState(name).running).toBe(true);
    expect((await fetch(`http://127.0.0.1:${ports.service}/`)).status).toBe(200);

    const s = (t: number) => ((t - t0) / 1000).toFixed(1);
    process.stdout.write(
      `stack timings (overlay: 1 s scrape/eval, for 2 s, group_wait 1 s): probe down ${s(probedDown)} s, ` +
        `alert firing ${s(firing)} s, webhook ${s(received)} s, recovered ${s(recovered.endedAt!)} s after the fault\n`,
    );
    expect(recovered.endedAt! - t0).toBeLessThan(120_000);
    // The collector's /metrics has the remediator's series as Prometheus scraped them.
    await until('recovery histogram in Prometheus', async () => ((await query('homestation_recovery_seconds_count{service="web"}'))[0] ? true : undefined), 20_000);
  }, 180_000);
});
