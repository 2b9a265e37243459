/**
 * Fault to verified recovery with the real parts at the SHIPPED timings: Prometheus,
 * Alertmanager and blackbox_exporter on the deploy/ configs (only addresses moved to
 * loopback, chat receivers dropped), `homestation remediator` with the shipped
 * remediator defaults (container events and the liveness watch on, 5 s x 3), busybox
 * services on podman, and fakes of Telegram and Discord for the people. Used by
 * test/e2e/mttr.test.ts and bench/mttr.ts.
 *
 * Each fault has its own service of the same name. Two more parts: `dependent`, whose
 * health goes through `dependency` (a CGI that asks it), for "a dependency down"; and
 * `interrupted`, which ignores SIGTERM so that its restart takes the whole grace period,
 * for "the remediator restarted mid-incident".
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fakeDiscord, fakeTelegram, type FakeChat } from '../fakes/chat-apis.js';
import { startDaemon, type Daemon } from './cli.js';
import { IMAGE, podman, removeContainers, reservePort, runWeb, startPodmanService, type PodmanService, type WebContainer } from './podman.js';
import { TOKEN } from './remediator.js';
import { stackPorts as allocatePorts, startTools, writeOverlay } from './stack.js';

export const FAULTS = ['killed', 'frozen', 'http_404', 'removed', 'unrecoverable', 'dependency', 'interrupted'] as const;
export type Fault = (typeof FAULTS)[number];

export interface ApiIncident {
  id: number;
  service: string;
  state: string;
  reason: string | null;
  since: string;
  startedAt: number;
  endedAt: number | null;
  recoverySeconds: number | null;
  alertname: string;
  steps: { kind: string; what: string; result: string; detail: string | null }[];
}

export interface Stack {
  readonly dir: string;
  readonly telegram: FakeChat;
  readonly discord: FakeChat;
  /** The remediator now (a new process after `restartRemediator`). */
  readonly remediator: Daemon;
  readonly services: Record<Fault, WebContainer | { name: string }>;
  /** The dependent's health: 200 only while `dependency` answers. */
  readonly dependentUrl: string;
  incidents(): Promise<ApiIncident[]>;
  alerts(): Promise<{ labels: Record<string, string>; state: string }[]>;
  /** Where each fault's service answers (the dependent's too, under `dependent`). */
  readonly urls: Record<Fault | 'dependent', string>;
  /** Injects a fault into the service of that name (its container); the time it was done. */
  inject(fault: Fault): number;
  /** SIGKILLs the remediator and starts it again on the same journal and port. */
  restartRemediator(): Promise<void>;
  stop(): Promise<void>;
}

const uid = process.pid;
const nameOf = (f: Fault | 'dependent', run: number) => `hs-mttr-${f.replace('_', '')}-${run}-${uid}`;
/** The remediator's (and the probe's `service` label's) name of a fault's service. */
export const serviceOf = (f: Fault) => f.replace('_', '-');

export async function startStack(run = 0, options: { fastPaths?: boolean } = {}): Promise<Stack> {
  const fastPaths = options.fastPaths ?? true;
  const dir = mkdtempSync(join(tmpdir(), 'hs-mttr-'));
  const engine: PodmanService = await startPodmanService();
  const ports: Record<Fault, { port: number; release(): Promise<void> }> = {} as never;
  for (const f of FAULTS) ports[f] = await reservePort();
  const dependentPort = await reservePort();
  const stackPorts = await allocatePorts(ports.killed.port);
  const token = join(dir, 'token');
  writeFileSync(token, `${TOKEN}\n`);
  // The shipped timings: no for: shortened (the overlay's ServiceDown 2 s put back to 30 s).
  const files = writeOverlay(dir, stackPorts, token, 'killed', { forOverrides: { ServiceDown: '30s' } }, [
    ...FAULTS.map((f) => ({ url: `http://127.0.0.1:${ports[f].port}/`, service: serviceOf(f) })),
    { url: `http://127.0.0.1:${dependentPort.port}/cgi-bin/health`, service: 'dependent' },
  ]);
  const telegram = await fakeTelegram('123:mttr');
  const discord = await fakeDiscord('42', 'mttr');
  writeFileSync(join(dir, 'telegram'), '123:mttr\n');
  writeFileSync(join(dir, 'discord'), `${discord.url}/api/webhooks/42/mttr\n`);

  const services = {} as Record<Fault, WebContainer | { name: string }>;
  for (const f of FAULTS) {
    if (f === 'unrecoverable') continue;
    services[f] = await runWeb(nameOf(f, run), { port: ports[f], ignoreTerm: f === 'interrupted' });
  }
  // Healthy only while `dependency` answers (host network, so that it reaches its published port).
  const health = join(dir, 'health');
  writeFileSync(
    health,
    `#!/bin/sh\nif printf 'GET / HTTP/1.0\\r\\n\\r\\n' | timeout 1 nc -w 1 127.0.0.1 ${ports.dependency.port} | grep -q '^HTTP/1.[01] 200'; then printf 'Content-Type: text/plain\\r\\n\\r\\nok\\n'; else printf 'HTTP/1.0 503 Service Unavailable\\r\\nContent-Type: text/plain\\r\\n\\r\\ndependency down\\n'; fi\n`,
  );
  chmodSync(health, 0o755);
  await dependentPort.release();
  podman(['run', '-d', '--name', nameOf('dependent', run), '--network', 'host', '-v', `${health}:/www/cgi-bin/health:ro`, IMAGE, 'sh', '-c', `exec httpd -f -p 127.0.0.1:${dependentPort.port} -h /www`]);
  const dependentUrl = `http://127.0.0.1:${dependentPort.port}/cgi-bin/health`;
  for (const t0 = Date.now(); (await fetch(dependentUrl).catch(() => undefined))?.status !== 200; ) {
    if (Date.now() - t0 > 15_000) throw new Error(`${nameOf('dependent', run)} did not serve ${dependentUrl} in 15 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
  // A service that starts and dies at once, every time: no action can bring it back.
  await ports.unrecoverable.release();
  podman(['run', '-d', '--name', nameOf('unrecoverable', run), '-p', `127.0.0.1:${ports.unrecoverable.port}:80`, IMAGE, 'sh', '-c', 'sleep 3; exit 3']);
  services.unrecoverable = { name: nameOf('unrecoverable', run) };

  const config = join(dir, 'remediator.yaml');
  const svc = (f: Fault) =>
    `    - { name: ${serviceOf(f)}, container: ${nameOf(f, run)}, probe: { http: { url: "http://127.0.0.1:${ports[f].port}/" }, timeout: 2s }, recovery_deadline: 20s, stop_timeout: 10s }`;
  writeFileSync(
    config,
    `log: { level: info }
remediator:
  host: 127.0.0.1
  port: ${stackPorts.remediator}
  auth: { bearer_token_file: ${token} }
  docker: { host: "${engine.dockerHost}" }
  journal: ${join(dir, 'journal.db')}
  cooldown: 5m
  rate_limit: { max_actions: 3, window: 1h }
  # Every fault at once, each on its own service: more than the shipped 2 at a time.
  max_concurrent_actions: 8
${fastPaths ? '' : '  events: { enabled: false }\n  watch: { enabled: false }\n'}  notify:
    events: [needs_human, recovered]
    # Six faults at once: not a storm for this test (the storm summary is tested in remediator/chat).
    storm: { threshold: 20 }
    telegram: { bot_token_file: ${join(dir, 'telegram')}, chat_id: "-100", api_url: "${telegram.url}" }
    discord: { webhook_url_file: ${join(dir, 'discord')} }
  services:
${FAULTS.map(svc).join('\n')}
    - { name: dependent, container: ${nameOf('dependent', run)}, depends_on: [dependency], probe: { http: { url: "${dependentUrl}" }, timeout: 2s }, recovery_deadline: 20s, stop_timeout: 10s }
  policies:
    - { match: { alertname: ServiceDown, remediate: "true" }, ladder: [{ action: restart, attempts: 2 }, { action: redeploy }] }
`,
  );
  const parts = startTools(files, stackPorts, dir);
  const launch = () => startDaemon(['--config', config], {}, { command: 'remediator', ready: /^remediator listening/ });
  let remediator = await launch();
  const api = (path: string) => fetch(`${remediator.url}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return {
    dir,
    telegram,
    discord,
    dependentUrl,
    urls: { ...(Object.fromEntries(FAULTS.map((f) => [f, `http://127.0.0.1:${ports[f].port}/`])) as Record<Fault, string>), dependent: dependentUrl },
    get remediator() {
      return remediator;
    },
    services,
    incidents: async () => ((await (await api('/api/v1/incidents?limit=200')).json()) as { incidents: ApiIncident[] }).incidents,
    alerts: async () => ((await (await fetch(`http://127.0.0.1:${stackPorts.prometheus}/api/v1/alerts`)).json()) as { data: { alerts: { labels: Record<string, string>; state: string }[] } }).data.alerts,
    inject(fault) {
      const name = nameOf(fault, run);
      const t = Date.now();
      // A crash, as the OOM killer makes one: the process killed from outside (`podman kill`
      // would be a stop by the user, which podman's own restart policy honours).
      if (fault === 'killed') process.kill(Number(podman(['inspect', '--format', '{{.State.Pid}}', name])), 'SIGKILL');
      else if (fault === 'frozen') podman(['pause', name]);
      else if (fault === 'http_404' || fault === 'interrupted') podman(['exec', name, 'rm', '/www/index.html']);
      else if (fault === 'dependency') podman(['pause', name]);
      else if (fault === 'removed') podman(['rm', '-f', '-t', '0', name]);
      return t;
    },
    async restartRemediator() {
      remediator.child.kill('SIGKILL');
      await new Promise((r) => remediator.child.once('exit', r));
      remediator = await launch();
    },
    async stop() {
      await remediator.stop();
      await parts.stop();
      await telegram.close();
      await discord.close();
      removeContainers([...FAULTS.map((f) => nameOf(f, run)), nameOf('dependent', run)]);
      await engine.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
