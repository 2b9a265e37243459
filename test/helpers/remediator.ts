/** Starts a real remediator (real journal, real podman engine) in this process. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { parseConfig } from '../../collector/config/load.js';
import { EXPORTERS } from '../../collector/registry.js';
import { startRemediator, type Remediator } from '../../remediator/index.js';
import type { Notifier, NotifyEvent } from '../../remediator/notify.js';
import { memoryLogger } from './runner.js';

export const TOKEN = 'test-token-0123456789';

export interface TestRemediator extends Remediator {
  readonly registry: Registry;
  readonly notified: NotifyEvent[];
  readonly logs: Record<string, unknown>[];
  readonly dir: string;
  post(body: unknown, options?: { token?: string | null; raw?: string; contentType?: string }): Promise<Response>;
  metric(name: string, labels?: Record<string, string>): Promise<number | undefined>;
}

/**
 * `remediatorYaml` is the body of the remediator section (indented by 2). The fast
 * paths (container events, liveness watch) are off unless it names them: these
 * tests drive the alert path, where a fast path would act first.
 */
export async function startTestRemediator(dockerHost: string, remediatorYaml: string): Promise<TestRemediator> {
  const dir = mkdtempSync(join(tmpdir(), 'hs-remediator-'));
  const tokenFile = join(dir, 'token');
  writeFileSync(tokenFile, `${TOKEN}\n`);
  const yaml = `remediator:
  host: 127.0.0.1
  port: 0
  auth: { bearer_token_file: ${tokenFile} }
  docker: { host: "${dockerHost}" }
  journal: ${join(dir, 'journal.db')}
${remediatorYaml.includes('events:') ? '' : '  events: { enabled: false }\n'}${remediatorYaml.includes('watch:') ? '' : '  watch: { enabled: false }\n'}${remediatorYaml}`;
  const config = parseConfig(yaml, 'remediator-test.yaml', EXPORTERS, { env: {} });
  const registry = new Registry();
  const notified: NotifyEvent[] = [];
  const notifier: Notifier = { notify: async (e) => void notified.push(e) };
  const { log, lines } = memoryLogger();
  const r = await startRemediator(config.remediator!, { log, registry, notifier });
  return {
    ...r,
    registry,
    notified,
    logs: lines,
    dir,
    post: (body, options = {}) => {
      const token = options.token === undefined ? TOKEN : options.token;
      return fetch(`${r.url}/webhook/alertmanager`, {
        method: 'POST',
        headers: { 'content-type': options.contentType ?? 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: options.raw ?? JSON.stringify(body),
      });
    },
    metric: async (name, labels = {}) => {
      const m = (await registry.getMetricsAsJSON()).find((x) => x.name === name);
      const v = (m?.values as { labels: Record<string, string | number>; value: number; metricName?: string }[] | undefined)?.find(
        (x) => (x.metricName ?? name) === name && Object.entries(labels).every(([k, val]) => String(x.labels[k]) === val),
      );
      return v?.value;
    },
  };
}

let seq = 0;

/** An Alertmanager v4 webhook body. */
export function alertPayload(
  alerts: { labels: Record<string, string>; status?: 'firing' | 'resolved'; startsAt?: string; fingerprint?: string }[],
): unknown {
  const full = alerts.map((a) => ({
    status: a.status ?? 'firing',
    labels: a.labels,
    annotations: { summary: 'test' },
    startsAt: a.startsAt ?? new Date().toISOString(),
    endsAt: '0001-01-01T00:00:00Z',
    generatorURL: 'http://prometheus.local/graph',
    fingerprint: a.fingerprint ?? `f${(seq++).toString(16).padStart(15, '0')}`,
  }));
  return {
    version: '4',
    groupKey: '{}:{alertname="ServiceDown"}',
    truncatedAlerts: 0,
    status: full.every((a) => a.status === 'resolved') ? 'resolved' : 'firing',
    receiver: 'remediator',
    groupLabels: { alertname: 'ServiceDown' },
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://alertmanager.local',
    alerts: full,
  };
}
