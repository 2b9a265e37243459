/**
 * `homestation`'s commands: run the collector, check a config, collect once, print
 * the metric catalogue or the config schema. Started by cli.ts (the executable), which
 * sets what must be set before any of this loads.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import type { Logger } from 'pino';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { catalogue, catalogueMarkdown, catalogueText } from './catalogue.js';
import { ConfigError, editDistance, formatProblem, loadConfigFile, loadDefaultConfig, type Config } from './config/load.js';
import { rootSchema } from './config/schema.js';
import { openIncidents, type RemediatorView } from './health.js';
import { Host } from './host.js';
import { buildApp } from './http/app.js';
import { createLogger } from './logging.js';
import { EXPORTERS } from './registry.js';
import { startTracing } from './tracing.js';
import { VERSION } from './version.js';
import type { Remediator } from '../remediator/index.js';

function loadConfig(file: string | undefined): Config {
  return file ? loadConfigFile(file, EXPORTERS) : loadDefaultConfig(EXPORTERS);
}

/** The config, or the exit code after printing every problem of it. */
function configOrExitCode(file: string | undefined): Config | number {
  try {
    return loadConfig(file);
  } catch (err) {
    return reportConfigError(err);
  }
}

function reportConfigError(err: unknown): number {
  if (err instanceof ConfigError) {
    process.stderr.write(`homestation: the configuration is invalid (${err.problems.length} problem${err.problems.length === 1 ? '' : 's'}):\n`);
    for (const p of err.problems) process.stderr.write(`  ${formatProblem(p)}\n`);
    return 1;
  }
  throw err;
}

/**
 * Waits for SIGTERM or SIGINT, then runs the stop steps in order (each one's failure
 * logged, none skipped) within the shutdown timeout; exits hard past it.
 */
function untilSignal(log: Logger, timeoutMs: number, steps: [string, () => Promise<unknown> | undefined][], failWhen?: Promise<string>): Promise<number> {
  return new Promise<number>((resolve) => {
    let stopping = false;
    let code = 0;
    const shutdown = (signal: NodeJS.Signals | string) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'shutting down');
      const deadline = setTimeout(() => {
        log.error({ timeoutMs }, 'shutdown took too long; exiting anyway');
        process.exit(1);
      }, timeoutMs);
      deadline.unref();
      void (async () => {
        for (const [what, step] of steps) {
          await Promise.resolve(step()).catch((err: Error) => log.error({ err: err.message }, `${what} did not stop cleanly`));
        }
        log.info('stopped');
        log.flush();
        clearTimeout(deadline);
        resolve(code);
      })();
    };
    process.once('SIGTERM', shutdown);
    process.once('SIGINT', shutdown);
    // Leadership lost: stop like on a signal, and exit non-zero so that the kubelet restarts us.
    void failWhen?.then((why) => {
      code = 1;
      shutdown(why);
    });
  });
}

async function run(configFile: string | undefined): Promise<number> {
  const config = configOrExitCode(configFile);
  if (typeof config === 'number') return config;
  const log = await createLogger(config.log);
  const tracing = await startTracing(log);
  const host = new Host(config, EXPORTERS, { log });
  let remediator: RemediatorHandle | undefined;
  const remediatorView: RemediatorView | undefined = config.remediator
    ? {
        engine: () => remediator?.current()?.engineStatus(),
        openIncidents: () => {
          const r = remediator?.current();
          return r ? openIncidents(r.journal.incidents(200), Date.now()) : [];
        },
      }
    : undefined;
  const app = buildApp({ host, log, configSource: config.source, remediator: remediatorView });
  await app.listen({ host: config.server.host, port: config.server.port });
  const addr = app.server.address();
  const where = typeof addr === 'object' && addr ? `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}` : String(addr);
  log.info({ config: config.source, url: where, version: VERSION }, `HomeStation listening on ${where} (/metrics, /healthz, /readyz, /)`);
  host.start();
  if (config.remediator) remediator = await startRemediatorModule(config, log, host.registry);

  return untilSignal(
    log,
    config.shutdownTimeout,
    [
      ['HTTP server', () => app.close()],
      ['remediator', () => remediator?.stop()],
      ['exporters', () => host.stop()],
      ['tracing', () => tracing?.shutdown()],
    ],
    remediator?.lost,
  );
}

/** The remediator, or the one this replica runs while it holds the Lease (leader election). */
interface RemediatorHandle {
  current(): Remediator | undefined;
  /** Leader election only: resolves when leadership was lost. */
  readonly lost?: Promise<string>;
  stop(): Promise<void>;
}

/** Loaded only when the config has a remediator section: dockerode and SQLite stay out otherwise. */
async function startRemediatorModule(config: Config, log: Logger, registry: Registry): Promise<RemediatorHandle> {
  const { startRemediator } = await import('../remediator/index.js');
  const r = config.remediator!;
  const start = () => startRemediator(r, { log, registry });
  if (!r.leader_election.enabled) {
    const running = await start();
    return { current: () => running, stop: () => running.stop() };
  }
  const { startElected } = await import('../remediator/kubernetes/elected.js');
  return startElected(r, start, log.child({ component: 'leader-election' }));
}

async function remediatorOnly(configFile: string | undefined): Promise<number> {
  const config = configOrExitCode(configFile);
  if (typeof config === 'number') return config;
  if (!config.remediator) {
    process.stderr.write(`homestation remediator: ${config.source} has no remediator section\n`);
    return 2;
  }
  const log = await createLogger(config.log);
  const tracing = await startTracing(log);
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const remediator = await startRemediatorModule(config, log, registry);
  return untilSignal(
    log,
    config.shutdownTimeout,
    [
      ['remediator', () => remediator.stop()],
      ['tracing', () => tracing?.shutdown()],
    ],
    remediator.lost,
  );
}

/** Calls the running remediator's API with the config's credentials. */
/** A call to the running remediator's API (address and credentials from the config); an exit code when it cannot be made. */
async function callRemediator(configFile: string | undefined, method: 'GET' | 'POST', path: string, body?: unknown): Promise<number | { ok: boolean; text: string }> {
  const config = configOrExitCode(configFile);
  if (typeof config === 'number') return config;
  const r = config.remediator;
  if (!r) {
    process.stderr.write(`homestation: ${config.source} has no remediator section\n`);
    return 2;
  }
  const headers: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json' };
  if (r.auth?.bearer_token_file) headers.authorization = `Bearer ${readFileSync(r.auth.bearer_token_file, 'utf8').trim()}`;
  else if (r.auth?.basic) {
    const pw = readFileSync(r.auth.basic.password_file, 'utf8').replace(/\r?\n$/, '');
    headers.authorization = `Basic ${Buffer.from(`${r.auth.basic.username}:${pw}`).toString('base64')}`;
  }
  const host = r.host === '0.0.0.0' ? '127.0.0.1' : r.host.includes(':') ? `[${r.host}]` : r.host;
  try {
    const res = await fetch(`http://${host}:${r.port}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    return { ok: res.ok, text: await res.text() };
  } catch (err) {
    process.stderr.write(`homestation: cannot reach the remediator at ${host}:${r.port}: ${(err as Error).message}\n`);
    return 1;
  }
}

async function remediatorApi(configFile: string | undefined, method: 'GET' | 'POST', path: string, body?: unknown): Promise<number> {
  const res = await callRemediator(configFile, method, path, body);
  if (typeof res === 'number') return res;
  process.stdout.write(`${res.text}\n`);
  return res.ok ? 0 : 1;
}

async function services(v: Values): Promise<number> {
  const config = configOrExitCode(str(v.config));
  if (typeof config === 'number') return config;
  const r = config.remediator;
  if (!r) {
    process.stderr.write(`homestation services: ${config.source} has no remediator section\n`);
    return 2;
  }
  const { DockerDriver } = await import('../remediator/docker/driver.js');
  const { servicesView, formatServices } = await import('../remediator/services-view.js');
  const drivers = new Map([['local', await DockerDriver.create(r.docker)]]);
  for (const h of r.hosts) drivers.set(h.name, await DockerDriver.create(h));
  const view = await servicesView(r, (h) => drivers.get(h) as Awaited<ReturnType<typeof DockerDriver.create>>);
  process.stdout.write(v.json ? `${JSON.stringify(view, null, 2)}\n` : formatServices(view));
  return view.hosts.every((h) => h.reachable) ? 0 : 1;
}

/**
 * `homestation migrate`: asks the running remediator (the same guarded path as an
 * alert, so its fast paths do not fight the move), then follows the incident: each
 * step as it is journaled, and the bytes copied while a copy runs.
 */
async function migrate(service: string, v: Values): Promise<number> {
  const to = str(v.to);
  const started = await callRemediator(str(v.config), 'POST', '/api/v1/remediate', { service, action: 'migrate', ...(to ? { to } : {}), dry_run: v['dry-run'] === true });
  if (typeof started === 'number') return started;
  if (!started.ok) {
    process.stderr.write(`homestation migrate: ${started.text}\n`);
    return 1;
  }
  const { incident } = JSON.parse(started.text) as { incident: { id: number; state: string; reason: string | null } | null };
  if (!incident) {
    process.stderr.write('homestation migrate: not started (see `homestation incidents --steps`)\n');
    return 1;
  }
  process.stdout.write(`incident ${incident.id}: migrating ${service}${to ? ` to ${to}` : ''}\n`);
  let shown = 0;
  let lastBytes = -1;
  for (;;) {
    const res = await callRemediator(str(v.config), 'GET', `/api/v1/incidents/${incident.id}`);
    if (typeof res === 'number') return res;
    const now = JSON.parse(res.text) as {
      state: string;
      reason: string | null;
      recoverySeconds: number | null;
      steps: { at: number; kind: string; what: string; result: string; detail: string | null }[];
      migrations?: { step: string; progress: { stateBytes?: number; imageBytes?: number } }[];
    };
    for (const e of now.steps.slice(shown)) {
      process.stdout.write(`${new Date(e.at).toISOString().slice(11, 19)} ${e.kind} ${e.what}: ${e.result}${e.detail ? ` - ${e.detail}` : ''}\n`);
    }
    shown = now.steps.length;
    const m = now.migrations?.at(-1);
    const bytes = (m?.progress.stateBytes ?? 0) + (m?.progress.imageBytes ?? 0);
    if (m && now.state === 'acting' && bytes !== lastBytes && m.step.startsWith('copy')) {
      process.stdout.write(`         ${m.step}: ${(bytes / 1e6).toFixed(1)} MB copied\n`);
      lastBytes = bytes;
    }
    if (now.state !== 'acting') {
      process.stdout.write(`incident ${incident.id}: ${now.state}${now.reason ? ` (${now.reason})` : ''}\n`);
      return now.state === 'recovered' ? 0 : 1;
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

async function collect(exporter: string | undefined, instance: string | undefined, configFile: string | undefined): Promise<number> {
  if (!exporter) return usageError('collect', `name an exporter (${EXPORTERS.map((k) => k.name).join(', ')})`);
  if (!EXPORTERS.some((k) => k.name === exporter)) {
    process.stderr.write(`homestation collect: unknown exporter "${exporter}" (known: ${EXPORTERS.map((k) => k.name).join(', ')})\n`);
    return 2;
  }
  const config = configOrExitCode(configFile);
  if (typeof config === 'number') return config;
  const log = await createLogger({ ...config.log, level: config.log.level });
  const host = new Host(config, EXPORTERS, { log, processMetrics: false, only: { exporter, instance } });
  if (host.runners.length === 0) {
    process.stderr.write(
      `homestation collect: ${config.source} has no ${exporter} instance${instance ? ` named "${instance}"` : ''}\n`,
    );
    return 2;
  }
  // Pull instances collect once; stream instances connect, sync, and are read once
  // they are up or their timeout has passed.
  await Promise.all(host.runners.map((r) => r.collectOrSync()));
  process.stdout.write(await host.exposition.text());
  // Exit 1 when an instance failed, so scripts can tell (read before stopping streams).
  const allUp = host.runners.every((r) => r.status().up);
  await host.stop();
  return allUp ? 0 : 1;
}

type OptionName = 'config' | 'instance' | 'markdown' | 'action' | 'prometheus' | 'alertmanager' | 'action-budget' | 'dry-run' | 'journal' | 'json' | 'steps' | 'limit' | 'to';

const OPTIONS = {
  config: { type: 'string', short: 'c' },
  instance: { type: 'string' },
  markdown: { type: 'boolean' },
  action: { type: 'string' },
  prometheus: { type: 'string' },
  alertmanager: { type: 'string' },
  'action-budget': { type: 'string' },
  'dry-run': { type: 'boolean' },
  journal: { type: 'string' },
  json: { type: 'boolean' },
  steps: { type: 'boolean' },
  limit: { type: 'string' },
  to: { type: 'string' },
  version: { type: 'boolean', short: 'v' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = Partial<Record<OptionName, string | boolean>>;
const str = (v: string | boolean | undefined) => (typeof v === 'string' ? v : undefined);

/** One subcommand: its usage line, what it accepts, and what it does. */
interface Command {
  readonly usage: string;
  readonly summary: string;
  readonly options: readonly OptionName[];
  /** Positional arguments after the command name: [min, max]. */
  readonly args: readonly [number, number];
  run(args: string[], values: Values): Promise<number> | number;
}

const COMMANDS: Record<string, Command> = {
  run: {
    usage: 'homestation [run] [--config FILE]',
    summary: 'Serve /metrics, /healthz, /readyz, / and /api/v1/status, collecting in the background (the default command).',
    options: ['config'],
    args: [0, 0],
    run: (_a, v) => run(str(v.config)),
  },
  'check-config': {
    usage: 'homestation check-config FILE...',
    summary: 'Validate config files; every problem as file:line:column: key.path: message. Exit 1 if any is invalid.',
    options: ['config'],
    args: [0, Number.POSITIVE_INFINITY],
    run: (files, v) => checkConfig(files.length ? files : str(v.config) ? [str(v.config) as string] : []),
  },
  collect: {
    usage: 'homestation collect EXPORTER [--instance NAME] [--config FILE]',
    summary: 'Run one collection (or connect and sync a stream) and print its exposition text; exit 1 if it failed.',
    options: ['config', 'instance'],
    args: [0, 1],
    run: (a, v) => collect(a[0], str(v.instance), str(v.config)),
  },
  metrics: {
    usage: 'homestation metrics [--markdown]',
    summary: 'The catalogue of every metric HomeStation can emit.',
    options: ['markdown'],
    args: [0, 0],
    run: (_a, v) => {
      const entries = catalogue(EXPORTERS);
      process.stdout.write(v.markdown ? catalogueMarkdown(entries) : catalogueText(entries));
      return 0;
    },
  },
  schema: {
    usage: 'homestation schema',
    summary: "The config's JSON Schema, for editors.",
    options: [],
    args: [0, 0],
    run: () => {
      process.stdout.write(`${JSON.stringify({ $schema: 'http://json-schema.org/draft-07/schema#', ...rootSchema(EXPORTERS) }, null, 2)}\n`);
      return 0;
    },
  },
  'check-timing': {
    usage: 'homestation check-timing [--prometheus FILE] [--alertmanager FILE] [--action-budget SECONDS]',
    summary: 'Worst case from fault to remediator webhook, per remediable alert, from the Prometheus and Alertmanager configs.',
    options: ['prometheus', 'alertmanager', 'action-budget'],
    args: [0, 0],
    run: async (_a, v) => {
      const { checkTiming, formatTiming } = await import('./check-timing.js');
      const root = new URL('../../', import.meta.url);
      const prom = str(v.prometheus) ?? new URL('deploy/prometheus/prometheus.yml', root).pathname;
      const am = str(v.alertmanager) ?? new URL('deploy/alertmanager/alertmanager.yml', root).pathname;
      const budget = Number(str(v['action-budget']) ?? 30);
      if (!Number.isFinite(budget) || budget < 0) return usageError('check-timing', `--action-budget must be a number of seconds (got ${str(v['action-budget'])})`);
      const rows = checkTiming(prom, am, budget);
      if (rows.length === 0) {
        process.stderr.write('homestation check-timing: no alert with remediate="true" found\n');
        return 1;
      }
      process.stdout.write(formatTiming(rows, budget));
      return rows.every((r) => r.ok) ? 0 : 1;
    },
  },
  remediator: {
    usage: 'homestation remediator [--config FILE]',
    summary: 'Run only the remediator of the config.',
    options: ['config'],
    args: [0, 0],
    run: (_a, v) => remediatorOnly(str(v.config)),
  },
  incidents: {
    usage: 'homestation incidents [--journal FILE | --config FILE] [--steps] [--json] [--limit N]',
    summary:
      "The remediator's incidents, newest first, as a table (--steps: every step of each; --json: for machines). Read from the journal file alone (read-only): no running remediator, no secrets, no ${VAR} needed.",
    options: ['config', 'journal', 'json', 'steps', 'limit'],
    args: [0, 0],
    run: (_a, v) => incidents(v),
  },
  pause: {
    usage: 'homestation pause [--config FILE]',
    summary: 'Stop automatic remediation (alerts are still recorded).',
    options: ['config'],
    args: [0, 0],
    run: (_a, v) => remediatorApi(str(v.config), 'POST', '/api/v1/pause'),
  },
  resume: {
    usage: 'homestation resume [--config FILE]',
    summary: 'Switch automatic remediation back on.',
    options: ['config'],
    args: [0, 0],
    run: (_a, v) => remediatorApi(str(v.config), 'POST', '/api/v1/resume'),
  },
  import: {
    usage: 'homestation import mqtt2prometheus FILE',
    summary: "Print the HomeStation config equivalent to an mqtt2prometheus config, and what does not translate (as comments and on stderr).",
    options: [],
    args: [2, 2],
    run: async (a) => {
      if (a[0] !== 'mqtt2prometheus') return usageError('import', `cannot import "${a[0]}" (known: mqtt2prometheus)`);
      const { importMqtt2prometheus, ImportError } = await import('../exporters/mqtt/import-mqtt2prometheus.js');
      let text: string;
      try {
        text = readFileSync(a[1] as string, 'utf8');
      } catch (err) {
        process.stderr.write(`homestation import: cannot read ${a[1]}: ${(err as Error).message}\n`);
        return 1;
      }
      try {
        const { yaml, notes } = importMqtt2prometheus(text);
        process.stdout.write(yaml);
        for (const n of notes) process.stderr.write(`homestation import: ${n}\n`);
        return 0;
      } catch (err) {
        if (!(err instanceof ImportError)) throw err;
        process.stderr.write(`homestation import: ${a[1]}: ${err.message}\n`);
        return 1;
      }
    },
  },
  services: {
    usage: 'homestation services [--config FILE] [--json]',
    summary:
      "The remediator's services: the host each runs on, its container's state, and what it needs, from the config and the engines (compose depends_on labels, shared network namespaces and volumes), with the start order. Reads the engines directly; exit 1 when a host cannot be reached.",
    options: ['config', 'json'],
    args: [0, 0],
    run: (_a, v) => services(v),
  },
  migrate: {
    usage: 'homestation migrate SERVICE [--to HOST] [--dry-run] [--config FILE]',
    summary:
      "Move a service with its state to another of its hosts, through the running remediator (the same guards as an alert); shows each step and the bytes copied. Default --to: the first of its hosts it is not on.",
    options: ['config', 'to', 'dry-run'],
    args: [1, 1],
    run: (a, v) => migrate(a[0] as string, v),
  },
  remediate: {
    usage: 'homestation remediate SERVICE --action restart|redeploy [--dry-run] [--config FILE]',
    summary: 'The same guarded path as an alert, by hand.',
    options: ['config', 'action', 'dry-run'],
    args: [1, 1],
    run: (a, v) => {
      const action = str(v.action);
      if (action !== 'restart' && action !== 'redeploy') return usageError('remediate', '--action must be restart or redeploy');
      return remediatorApi(str(v.config), 'POST', '/api/v1/remediate', { service: a[0], action, dry_run: v['dry-run'] === true });
    },
  },
};

/** The journal's path: --journal, else the config's remediator.journal (read without validating the rest), else the default. */
function journalPath(v: Values): string {
  const direct = str(v.journal);
  if (direct) return direct;
  const file = str(v.config);
  if (file) {
    const doc = parseYaml(readFileSync(file, 'utf8')) as { remediator?: { journal?: unknown } } | null;
    const j = doc?.remediator?.journal;
    // ${VAR:-default} is read as written, defaults included; a variable without one must be set.
    if (typeof j === 'string') return j.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (_m, name: string, dflt?: string) => process.env[name] || dflt || '');
  }
  return './homestation-remediator.db';
}

async function incidents(v: Values): Promise<number> {
  const limit = Number(str(v.limit) ?? 50);
  if (!Number.isInteger(limit) || limit < 1) return usageError('incidents', `--limit must be a whole number (got ${str(v.limit)})`);
  let path: string;
  try {
    path = journalPath(v);
  } catch (err) {
    process.stderr.write(`homestation incidents: cannot read ${str(v.config)}: ${(err as Error).message}\n`);
    return 1;
  }
  const { Journal } = await import('../remediator/journal.js');
  let journal;
  try {
    journal = await Journal.openReadOnly(path);
  } catch (err) {
    process.stderr.write(`homestation incidents: cannot open the journal ${path}: ${(err as Error).message} (name it with --journal FILE)\n`);
    return 1;
  }
  try {
    const list = journal.incidents(limit).map((i) => ({ ...i, ...(v.steps || v.json ? { steps: journal.entries(i.id) } : {}) }));
    if (v.json) process.stdout.write(`${JSON.stringify({ journal: path, incidents: list }, null, 2)}\n`);
    else {
      const { incidentsTable } = await import('../remediator/incidents-table.js');
      process.stdout.write(incidentsTable(list, { steps: v.steps === true, now: Date.now() }));
    }
    return 0;
  } finally {
    journal.close();
  }
}

/** The global help, from the command table: one usage line and its summary's first sentence each. */
function globalHelp(): string {
  const lines = Object.values(COMMANDS).map((c) => `  ${c.usage}\n      ${(c.summary.split(/(?<=\.) /)[0] ?? c.summary).replace(/\.$/, '')}`);
  return `homestation ${VERSION}: monitoring, alerting and self-healing for homelabs

Usage (homestation help COMMAND, or COMMAND --help, for one command):
${lines.join('\n')}
  homestation help [COMMAND] | --version | --help

Without --config, the embedded default config is used (see README.md).
Exporters: ${EXPORTERS.map((k) => k.name).join(', ')}
`;
}

function commandHelp(name: string): string {
  const c = COMMANDS[name] as Command;
  return `Usage: ${c.usage}\n\n${c.summary}\n`;
}

function usageError(command: string | undefined, message: string): number {
  const more = command && COMMANDS[command] ? `\n${commandHelp(command)}` : 'Run "homestation help" for the commands.\n';
  process.stderr.write(`homestation${command ? ` ${command}` : ''}: ${message}\n${more}`);
  return 2;
}

/** The closest known name at edit distance <= 2, for "did you mean". */
function closest(word: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = 3;
  for (const k of known) {
    const d = editDistance(word, k);
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best;
}

function checkConfig(files: string[]): number {
  if (files.length === 0) return usageError('check-config', 'name the config file(s) to check');
  let code = 0;
  for (const file of files) {
    try {
      const config = loadConfigFile(file, EXPORTERS);
      const n = config.instances.length;
      process.stdout.write(`${file}: OK (${n} exporter instance${n === 1 ? '' : 's'}${n ? `: ${config.instances.map((i) => `${i.kind.name}/${i.config.name}`).join(', ')}` : ''}${config.remediator ? '; remediator' : ''})\n`);
    } catch (err) {
      code = Math.max(code, reportConfigError(err));
    }
  }
  return code;
}

async function main(argv: string[]): Promise<number> {
  // Strict: an unknown or mistyped option is an error with a hint, never ignored.
  let parsed: { values: Values & { version?: boolean; help?: boolean }; positionals: string[] };
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, strict: true, options: OPTIONS }) as typeof parsed;
  } catch (err) {
    const e = err as Error & { code?: string };
    const command = argv.find((a) => !a.startsWith('-') && a in COMMANDS);
    const bad = /'(-{1,2}[^']+)'/.exec(e.message)?.[1];
    if (e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && bad) {
      const known = Object.keys(OPTIONS).map((o) => `--${o}`);
      const hint = closest(bad.split('=')[0] as string, known);
      return usageError(command, `unknown option ${bad}${hint ? ` (did you mean ${hint}?)` : ''}`);
    }
    if (e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') return usageError(command, e.message.replace(/\.$/, '').replace(/^Option /, 'option '));
    return usageError(command, e.message);
  }
  const { values, positionals } = parsed;
  if (values.version) {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  if (values.help && positionals.length === 0) {
    process.stdout.write(globalHelp());
    return 0;
  }
  let [name = 'run', ...args] = positionals;
  if (name === 'help') {
    const topic = args[0];
    if (topic === undefined) {
      process.stdout.write(globalHelp());
      return 0;
    }
    name = topic;
    args = [];
    values.help = true;
  }
  const command = COMMANDS[name];
  if (!command) {
    const hint = closest(name, [...Object.keys(COMMANDS), 'help']);
    return usageError(undefined, `unknown command "${name}"${hint ? ` (did you mean "${hint}"?)` : ''}`);
  }
  if (values.help) {
    process.stdout.write(commandHelp(name));
    return 0;
  }
  const misplaced = (Object.keys(values) as OptionName[]).filter((o) => !command.options.includes(o));
  if (misplaced.length) return usageError(name, `${name} takes no option ${misplaced.map((o) => `--${o}`).join(', ')}`);
  const [min, max] = command.args;
  if (args.length < min) return usageError(name, `missing argument${min > 1 ? 's' : ''}`);
  if (args.length > max) return usageError(name, `unexpected argument${args.length - max > 1 ? 's' : ''}: ${args.slice(max).join(' ')}`);
  return command.run(args, values);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`homestation: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  },
);
