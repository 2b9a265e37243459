/**
 * The test overlay of deploy/: the same Prometheus, Alertmanager, blackbox and rule
 * files, with every address moved to loopback ports and the intervals shortened so
 * that a fault reaches the remediator in seconds, not a minute and a half:
 *   scrape and evaluation 1 s (blackbox scrape_timeout 1 s), ServiceDown `for` 2 s,
 *   the remediator route's group_wait 1 s; chat receivers dropped (no network here);
 *   the node job dropped (no node_exporter here).
 * Nothing else changes: the rules, routes and inhibitions under test are the real ones.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { freePort } from './podman.js';

/** The repository: from test/helpers/, or from its build in dist/test/helpers/ (the benches). */
const root = ['../../', '../../../'].map((rel) => fileURLToPath(new URL(rel, import.meta.url))).find((p) => existsSync(join(p, 'rules'))) as string;

export interface StackPorts {
  readonly homestation: number;
  readonly remediator: number;
  readonly prometheus: number;
  readonly alertmanager: number;
  readonly blackbox: number;
  /** The probed test service. */
  readonly service: number;
}

/* eslint-disable @typescript-eslint/no-explicit-any */
/** The `for:` of the named alerts set to `forOverrides[name]` (every rule of that name); nothing else changes. */
export function shortenFor(text: string, forOverrides: Readonly<Record<string, string>>): string {
  let out = text;
  for (const [alert, duration] of Object.entries(forOverrides)) {
    out = out.replace(new RegExp(`(alert: ${alert}\\n[\\s\\S]*?for: )\\S+`, 'g'), `$1${duration}`);
    // The annotation that repeats it for the remediator follows it.
    out = out.replace(new RegExp(`(alert: ${alert}\\n(?:(?!\\n {6}- alert:)[\\s\\S])*?detection_for: )\\S+`, 'g'), `$1${duration}`);
  }
  return out;
}

export function writeOverlay(
  dir: string,
  ports: StackPorts,
  tokenFile: string,
  serviceName: string,
  options: { forOverrides?: Readonly<Record<string, string>> } = {},
  /** Several probed services; default: the one at ports.service named serviceName. */
  targets?: readonly { url: string; service: string }[],
): { prometheus: string; alertmanager: string; blackbox: string } {
  mkdirSync(join(dir, 'rules'), { recursive: true });
  const forOverrides = { ServiceDown: '2s', ...options.forOverrides };
  for (const f of readdirSync(join(root, 'rules')).filter((x) => x.endsWith('.rules.yml'))) {
    // Groups that set their own interval (the SLO's 1m) are evaluated every second too, as the global one.
    const text = shortenFor(readFileSync(join(root, 'rules', f), 'utf8'), forOverrides).replace(/^( {4}interval: )\S+$/gm, (_, key: string) => `${key}1s`);
    writeFileSync(join(dir, 'rules', f), text);
  }

  const prom = parse(readFileSync(join(root, 'deploy/prometheus/prometheus.yml'), 'utf8')) as any;
  prom.global.scrape_interval = '1s';
  prom.global.evaluation_interval = '1s';
  prom.rule_files = [join(dir, 'rules', '*.rules.yml')];
  prom.alerting.alertmanagers[0].static_configs[0].targets = [`127.0.0.1:${ports.alertmanager}`];
  prom.scrape_configs = prom.scrape_configs
    .filter((s: any) => s.job_name !== 'node')
    .map((s: any) => {
      switch (s.job_name) {
        case 'homestation':
          return { ...s, static_configs: [{ targets: [`127.0.0.1:${ports.homestation}`], labels: { host: 'homelab' } }] };
        case 'homestation-remediator':
          return { ...s, authorization: { credentials_file: tokenFile }, static_configs: [{ targets: [`127.0.0.1:${ports.remediator}`] }] };
        case 'blackbox':
          return {
            ...s,
            scrape_timeout: '1s',
            static_configs: (targets ?? [{ url: `http://127.0.0.1:${ports.service}/`, service: serviceName }]).map((t) => ({ targets: [t.url], labels: { service: t.service, host: 'homelab' } })),
            relabel_configs: s.relabel_configs.map((r: any) => (r.replacement === 'blackbox-exporter:9115' ? { ...r, replacement: `127.0.0.1:${ports.blackbox}` } : r)),
          };
        case 'alertmanager':
          return { ...s, static_configs: [{ targets: [`127.0.0.1:${ports.alertmanager}`] }] };
        case 'prometheus':
          return { ...s, static_configs: [{ targets: [`127.0.0.1:${ports.prometheus}`] }] };
        default:
          return s;
      }
    });

  const am = parse(readFileSync(join(root, 'deploy/alertmanager/alertmanager.yml'), 'utf8')) as any;
  const remediatorRoute = am.route.routes.find((r: any) => r.receiver === 'remediator');
  remediatorRoute.group_wait = '1s';
  am.receivers = am.receivers.map((r: any) => {
    if (r.name === 'remediator') {
      const wh = r.webhook_configs[0];
      return { ...r, webhook_configs: [{ ...wh, url: `http://127.0.0.1:${ports.remediator}/webhook/alertmanager`, http_config: { authorization: { credentials_file: tokenFile } } }] };
    }
    return { name: r.name };
  });

  const files = { prometheus: join(dir, 'prometheus.yml'), alertmanager: join(dir, 'alertmanager.yml'), blackbox: join(root, 'deploy/blackbox/blackbox.yml') };
  writeFileSync(files.prometheus, stringify(prom));
  writeFileSync(files.alertmanager, stringify(am));
  return files;
}

/** Free loopback ports for the stack's parts; `service` is the probed service's own. */
export async function stackPorts(service?: number): Promise<StackPorts> {
  return {
    homestation: await freePort(),
    remediator: await freePort(),
    prometheus: await freePort(),
    alertmanager: await freePort(),
    blackbox: await freePort(),
    service: service ?? (await freePort()),
  };
}

export type Tool = 'blackbox' | 'alertmanager' | 'prometheus';

/**
 * Starts the real blackbox_exporter, Alertmanager and Prometheus (those named) on the
 * overlay's files and ports, keeping their data under `dir`; `stop()` ends them all.
 */
export function startTools(files: ReturnType<typeof writeOverlay>, ports: StackPorts, dir: string, tools: readonly Tool[] = ['blackbox', 'alertmanager', 'prometheus']): { stop(): Promise<void> } {
  const args: Record<Tool, [string, string[]]> = {
    blackbox: ['prometheus-blackbox-exporter', [`--config.file=${files.blackbox}`, `--web.listen-address=127.0.0.1:${ports.blackbox}`]],
    alertmanager: [
      'prometheus-alertmanager',
      [`--config.file=${files.alertmanager}`, `--web.listen-address=127.0.0.1:${ports.alertmanager}`, '--cluster.listen-address=', `--storage.path=${join(dir, 'am')}`],
    ],
    prometheus: ['prometheus', [`--config.file=${files.prometheus}`, `--web.listen-address=127.0.0.1:${ports.prometheus}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`]],
  };
  const children: ChildProcess[] = tools.map((t) => spawn(args[t][0], args[t][1], { stdio: 'ignore' }));
  return {
    async stop() {
      for (const c of children) c.kill('SIGTERM');
      await Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
    },
  };
}

export interface PromAlert {
  labels: Record<string, string>;
  state: 'pending' | 'firing';
  activeAt: string;
}

/** The test Prometheus's HTTP API: instant queries, stored samples since `since` (Unix seconds), alerts. */
export function prometheusApi(port: () => number, since: number) {
  const base = () => `http://127.0.0.1:${port()}`;
  return {
    async query(q: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
      const res = (await (await fetch(`${base()}/api/v1/query?query=${encodeURIComponent(q)}`)).json()) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } };
      return res.data.result;
    },
    /** Every stored sample of a series since `since`. */
    async history(q: string): Promise<[number, string][]> {
      const url = `${base()}/api/v1/query_range?query=${encodeURIComponent(q)}&start=${since}&end=${Date.now() / 1000}&step=1`;
      const res = (await (await fetch(url)).json()) as { data: { result: { values: [number, string][] }[] } };
      return res.data.result[0]?.values ?? [];
    },
    async alerts(): Promise<PromAlert[]> {
      return ((await (await fetch(`${base()}/api/v1/alerts`)).json()) as { data: { alerts: PromAlert[] } }).data.alerts;
    },
  };
}
