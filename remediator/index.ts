/**
 * Starting and stopping the remediator: the journal, the engine connection, the
 * engine, the HTTP API. Its heavy parts (dockerode, better-sqlite3) are loaded
 * only here, so a collector without a `remediator:` section never loads them.
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { buildRemediatorApp } from './app.js';
import { authenticator } from './auth.js';
import { DockerDriver, engineAddress } from './docker/driver.js';
import { Engine } from './engine.js';
import { EngineLink, type EngineLinkStatus } from './engine-link.js';
import { ContainerEvents } from './container-events.js';
import { LivenessWatch } from './liveness-watch.js';
import { Journal } from './journal.js';
import { RemediatorMetrics } from './metrics.js';
import { Approvals } from './chat/approvals.js';
import { buildNotifier, type Notifier } from './notify.js';
import { Hosts } from './hosts.js';
import { LOCAL_HOST, type RemediatorConfig } from './schema.js';

export interface Remediator {
  readonly engine: Engine;
  readonly journal: Journal;
  readonly app: FastifyInstance;
  readonly url: string;
  /** The link to the container engine: while it is down the remediator is not ready. */
  engineStatus(): EngineLinkStatus;
  stop(): Promise<void>;
}

/**
 * Container IDs this process runs in, so that it never acts on itself: from its
 * own cgroup (cgroup v1: .../docker/<id>), from what is mounted on its own
 * /etc/hostname (cgroup v2: .../containers/<id>/hostname), and from a hostname
 * that is a container's short ID (Docker's default). On a plain host none match.
 */
export function ownContainerIds(): string[] {
  const ids = new Set<string>();
  try {
    for (const m of readFileSync('/proc/self/cgroup', 'utf8').matchAll(/([0-9a-f]{64})/g)) ids.add(m[1] as string);
  } catch {
    // Not Linux, or no cgroup file.
  }
  try {
    for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
      const fields = line.split(' ');
      if (fields[4] !== '/etc/hostname') continue;
      const m = /containers\/([0-9a-f]{64})/.exec(fields[3] ?? '');
      if (m) ids.add(m[1] as string);
    }
  } catch {
    // Same.
  }
  const host = hostname();
  if (/^[0-9a-f]{12}$/.test(host)) ids.add(host);
  return [...ids];
}

async function kubeClientFor(config: RemediatorConfig) {
  const { KubeClient } = await import('../collector/kube/client.js');
  const { resolveConnection } = await import('../collector/kube/connection.js');
  return new KubeClient(resolveConnection(config.kubernetes));
}

export async function startRemediator(
  config: RemediatorConfig,
  deps: { log: Logger; registry: Registry; notifier?: Notifier },
): Promise<Remediator> {
  const log = deps.log.child({ component: 'remediator' });
  const authenticate = authenticator(config);
  const journal = await Journal.open(config.journal);
  const driver = await DockerDriver.create(config.docker);
  const hosts = await Hosts.open(config, journal, driver);
  const metrics = new RemediatorMetrics(deps.registry);
  const built = deps.notifier ? undefined : buildNotifier(config.notify, log, journal);
  // Approvals from the first Telegram channel with approvers (buttons), and always from the API.
  const approverChannel = built?.hub.channels.find((c) => c.telegram?.approvers);
  const approvals = new Approvals(
    journal,
    log.child({ component: 'approvals' }),
    approverChannel?.telegram?.approvers
      ? { api: approverChannel.telegram.api, chatIds: approverChannel.telegram.approvers.chat_ids ?? [approverChannel.telegram.chatId], userIds: approverChannel.telegram.approvers.user_ids }
      : undefined,
  );
  // The Kubernetes target, loaded only when enabled.
  const kubeClient = config.kubernetes.enabled ? await kubeClientFor(config) : undefined;
  const kube = kubeClient ? new (await import('./kubernetes/driver.js')).KubernetesDriver(kubeClient, log.child({ component: 'kubernetes' })) : undefined;
  // Kubernetes workloads only (in a pod, with no container engine): readiness follows the API server.
  const dockerless = Boolean(kube) && config.docker.host === undefined && config.hosts.length === 0 && config.services.every((s) => s.kubernetes);
  const engine = new Engine({
    config,
    ...(kube ? { kube } : {}),
    journal,
    driver,
    hosts,
    metrics,
    notifier: deps.notifier ?? (built as NonNullable<typeof built>),
    approvals,
    log,
    selfContainerIds: ownContainerIds(),
  });
  let recovered = false;
  let recordTimer: NodeJS.Timeout | undefined;
  let fenceTimer: NodeJS.Timeout | undefined;
  // The fast paths start once the engine answers; the alerts stay the backstop.
  // One event stream per engine a service may run on; each acts only for the services running there now.
  const eventHosts = hosts.names.filter((h) => h === LOCAL_HOST || config.services.some((s) => s.hosts?.includes(h)));
  const events = config.events.enabled
    ? eventHosts.map((h) => new ContainerEvents(hosts.driver(h), engine, config.services, h === LOCAL_HOST ? log : log.child({ host: h }), (svc) => hosts.hostOf(engine.service(svc)) === h))
    : [];
  const watch = new LivenessWatch(config, (svc) => hosts.driverOf(svc), engine, log);
  const link: Pick<EngineLink, 'start' | 'stop' | 'status'> = dockerless
    ? new (await import('./kubernetes/api-link.js')).KubeApiLink(kubeClient!, log, () => {
        metrics.engineUp.set(1);
        watch.start();
        // Finish what a killed predecessor left open (the leader before a failover, say).
        void engine.recoverUnfinished({ containers: false }).then((found) => {
          if (found.length) log.warn({ incidents: found.map((i) => i.id) }, 'checked incidents left unfinished by a previous run');
        });
      })
    : new EngineLink(driver, engineAddress(config.docker), log, (status) => {
    metrics.engineUp.set(status.connected ? 1 : 0);
    if (!status.connected || recovered) return;
    recovered = true;
    // How to create each healthy service's container again, should it be removed: now and every 10 min.
    const record = () => void engine.recordHealthy().catch((err: Error) => log.warn({ err: err.message }, 'recording the services\' configurations failed'));
    record();
    recordTimer = setInterval(record, 10 * 60_000);
    recordTimer.unref();
    // A source host that was down during a migration may come back with the old container running.
    const fence = () => void engine.fence().catch((err: Error) => log.warn({ err: err.message }, 'fencing old copies of migrated services failed'));
    fence();
    fenceTimer = setInterval(fence, 30_000);
    fenceTimer.unref();
    for (const e of events) e.start();
    watch.start();
    // Finish what a killed predecessor left open, in the background, once the engine answers.
    void engine.recoverUnfinished().then((found) => {
      if (found.length) log.warn({ incidents: found.map((i) => i.id) }, 'checked incidents left unfinished by a previous run');
    });
      });
  built?.hub.start();
  approvals.start();
  const app = buildRemediatorApp({ engine, journal, authenticate, registry: deps.registry, log, engineStatus: () => link.status() });
  await app.listen({ host: config.host, port: config.port });
  const addr = app.server.address();
  const url = typeof addr === 'object' && addr ? `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}` : String(addr);
  await link.start();
  const engineName = dockerless ? 'kubernetes' : driver.isPodman ? 'podman' : 'docker';
  log.info({ url, dryRun: config.dry_run, engine: link.status().connected ? engineName : 'unreachable' }, `remediator listening on ${url} (POST /webhook/alertmanager)`);
  return {
    engine,
    journal,
    app,
    url,
    engineStatus: () => link.status(),
    async stop() {
      link.stop();
      clearInterval(recordTimer);
      clearInterval(fenceTimer);
      for (const e of events) e.stop();
      watch.stop();
      await app.close();
      // An action still running is not awaited past a few seconds: the journal has it
      // as 'acting', and the next start re-checks the service and records the outcome.
      await approvals.stop();
      await Promise.race([engine.idle(), new Promise((r) => setTimeout(r, 5000).unref())]);
      await built?.hub.stop();
      kubeClient?.close();
      journal.close();
    },
  };
}
