#!/usr/bin/env node
/**
 * `homestation`: run the collector, check a config, collect once, print the
 * metric catalogue or the config schema.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Logger } from 'pino';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { catalogue, catalogueMarkdown, catalogueText } from './catalogue.js';
import { ConfigError, formatProblem, loadConfigFile, loadDefaultConfig, type Config } from './config/load.js';
import { rootSchema } from './config/schema.js';
import { Host } from './host.js';
import { buildApp } from './http/app.js';
import { createLogger } from './logging.js';
import { EXPORTERS } from './registry.js';
import { startTracing } from './tracing.js';
import { VERSION } from './version.js';

const HELP = `homestation ${VERSION}: monitoring, alerting and self-healing for homelabs

Usage:
  homestation [run] [--config FILE]        serve /metrics, /healthz, /readyz and / (default command)
  homestation check-config FILE            validate a config; every problem with file:line:column
  homestation collect EXPORTER [--instance NAME] [--config FILE]
                                           run one collection and print its exposition text
  homestation metrics [--markdown]         the catalogue of every metric HomeStation can emit
  homestation schema                       the config's JSON Schema (for editors)
  homestation check-timing [--prometheus FILE] [--alertmanager FILE] [--action-budget SECONDS]
                                           worst case from fault to remediator webhook, per alert
  homestation remediator [--config FILE]   run only the remediator of the config
  homestation incidents [--config FILE]    list the remediator's incidents and their steps
  homestation pause | resume [--config FILE]
                                           stop or restart automatic remediation
  homestation remediate SERVICE --action restart|redeploy [--dry-run] [--config FILE]
                                           the same guarded path as an alert, by hand
  homestation --version | --help

Without --config, the embedded default config is used (see README.md).
Exporters: ${EXPORTERS.map((k) => k.name).join(', ')}
`;

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
function untilSignal(log: Logger, timeoutMs: number, steps: [string, () => Promise<unknown> | undefined][]): Promise<number> {
  return new Promise<number>((resolve) => {
    let stopping = false;
    const shutdown = (signal: NodeJS.Signals) => {
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
        resolve(0);
      })();
    };
    process.once('SIGTERM', shutdown);
    process.once('SIGINT', shutdown);
  });
}

async function run(configFile: string | undefined): Promise<number> {
  const config = configOrExitCode(configFile);
  if (typeof config === 'number') return config;
  const log = await createLogger(config.log);
  const tracing = await startTracing(log);
  const host = new Host(config, EXPORTERS, { log });
  const app = buildApp({ host, log, configSource: config.source });
  await app.listen({ host: config.server.host, port: config.server.port });
  const addr = app.server.address();
  const where = typeof addr === 'object' && addr ? `http://${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}` : String(addr);
  log.info({ config: config.source, url: where, version: VERSION }, `HomeStation listening on ${where} (/metrics, /healthz, /readyz, /)`);
  host.start();
  const remediator = config.remediator ? await startRemediatorModule(config, log, host.registry) : undefined;

  return untilSignal(log, config.shutdownTimeout, [
    ['HTTP server', () => app.close()],
    ['remediator', () => remediator?.stop()],
    ['exporters', () => host.stop()],
    ['tracing', () => tracing?.shutdown()],
  ]);
}

/** Loaded only when the config has a remediator section: dockerode and SQLite stay out otherwise. */
async function startRemediatorModule(config: Config, log: Logger, registry: Registry) {
  const { startRemediator } = await import('../remediator/index.js');
  return startRemediator(config.remediator!, { log, registry });
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
  return untilSignal(log, config.shutdownTimeout, [
    ['remediator', () => remediator.stop()],
    ['tracing', () => tracing?.shutdown()],
  ]);
}

/** Calls the running remediator's API with the config's credentials. */
async function remediatorApi(configFile: string | undefined, method: 'GET' | 'POST', path: string, body?: unknown): Promise<number> {
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
  let res: Response;
  try {
    res = await fetch(`http://${host}:${r.port}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (err) {
    process.stderr.write(`homestation: cannot reach the remediator at ${host}:${r.port}: ${(err as Error).message}\n`);
    return 1;
  }
  const text = await res.text();
  process.stdout.write(`${text}\n`);
  return res.ok ? 0 : 1;
}

async function collect(exporter: string | undefined, instance: string | undefined, configFile: string | undefined): Promise<number> {
  if (!exporter) {
    process.stderr.write(`homestation collect: name an exporter (${EXPORTERS.map((k) => k.name).join(', ')})\n`);
    return 2;
  }
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
  process.stdout.write(await host.registry.metrics());
  // Exit 1 when an instance failed, so scripts can tell (read before stopping streams).
  const allUp = host.runners.every((r) => r.status().up);
  await host.stop();
  return allUp ? 0 : 1;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string', short: 'c' },
      instance: { type: 'string' },
      markdown: { type: 'boolean' },
      action: { type: 'string' },
      prometheus: { type: 'string' },
      alertmanager: { type: 'string' },
      'action-budget': { type: 'string' },
      'dry-run': { type: 'boolean' },
      version: { type: 'boolean', short: 'v' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.version) {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  if (values.help) {
    process.stdout.write(HELP);
    return 0;
  }
  const [command = 'run', ...rest] = positionals;
  switch (command) {
    case 'run':
      return run(values.config);
    case 'check-config': {
      const file = rest[0] ?? values.config;
      if (!file) {
        process.stderr.write('homestation check-config: name the config file\n');
        return 2;
      }
      try {
        const config = loadConfigFile(file, EXPORTERS);
        process.stdout.write(
          `${file}: OK (${config.instances.length} exporter instance${config.instances.length === 1 ? '' : 's'}: ${config.instances
            .map((i) => `${i.kind.name}/${i.config.name}`)
            .join(', ')})\n`,
        );
        return 0;
      } catch (err) {
        return reportConfigError(err);
      }
    }
    case 'collect':
      return collect(rest[0], values.instance, values.config);
    case 'remediator':
      return remediatorOnly(values.config);
    case 'check-timing': {
      const { checkTiming, formatTiming } = await import('./check-timing.js');
      const root = new URL('../../', import.meta.url);
      const prom = values.prometheus ?? new URL('deploy/prometheus/prometheus.yml', root).pathname;
      const am = values.alertmanager ?? new URL('deploy/alertmanager/alertmanager.yml', root).pathname;
      const budget = Number(values['action-budget'] ?? 30);
      const rows = checkTiming(prom, am, budget);
      if (rows.length === 0) {
        process.stderr.write('homestation check-timing: no alert with remediate="true" found\n');
        return 1;
      }
      process.stdout.write(formatTiming(rows, budget));
      return rows.every((r) => r.ok) ? 0 : 1;
    }
    case 'incidents':
      return remediatorApi(values.config, 'GET', '/api/v1/incidents');
    case 'pause':
      return remediatorApi(values.config, 'POST', '/api/v1/pause');
    case 'resume':
      return remediatorApi(values.config, 'POST', '/api/v1/resume');
    case 'remediate': {
      if (!rest[0] || !values.action) {
        process.stderr.write('homestation remediate: usage: homestation remediate SERVICE --action restart|redeploy [--dry-run]\n');
        return 2;
      }
      return remediatorApi(values.config, 'POST', '/api/v1/remediate', { service: rest[0], action: values.action, dry_run: values['dry-run'] ?? false });
    }
    case 'metrics': {
      const entries = catalogue(EXPORTERS);
      process.stdout.write(values.markdown ? catalogueMarkdown(entries) : catalogueText(entries));
      return 0;
    }
    case 'schema':
      process.stdout.write(
        `${JSON.stringify({ $schema: 'http://json-schema.org/draft-07/schema#', ...rootSchema(EXPORTERS) }, null, 2)}\n`,
      );
      return 0;
    default:
      process.stderr.write(`homestation: unknown command "${command}"\n\n${HELP}`);
      return 2;
  }
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
