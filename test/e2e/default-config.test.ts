/**
 * `npm start` on a new host is useful and quiet: `homestation run` on its embedded
 * default config, scraped by the real Prometheus with the shipped rules (1 s scrape
 * and evaluation, every `for:` as shipped), has no alert even pending. Pending is
 * the strict test: an alert that would fire within the hour is pending from the
 * first evaluation its expression holds. The only allowance is a disk of this
 * machine that really is almost full or read-only: then that alert is right.
 */
import { mkdtempSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type Daemon } from '../helpers/cli.js';
import { stackPorts, startTools, writeOverlay, type StackPorts } from '../helpers/stack.js';
import { missingToolsMessage } from '../helpers/tools.js';

const missing = missingToolsMessage(['prometheus', 'prometheus-blackbox-exporter']);
let dir: string;
let daemon: Daemon | undefined;
let probed: Server;
let parts: ReturnType<typeof startTools> | undefined;
let ports: StackPorts;

beforeAll(async () => {
  if (missing) {
    if (process.env.CI === 'true') throw new Error(missing);
    return;
  }
  dir = mkdtempSync(join(tmpdir(), 'hs-default-'));
  probed = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => probed.listen(0, '127.0.0.1', r));
  ports = await stackPorts((probed.address() as { port: number }).port);
  const token = join(dir, 'token');
  writeFileSync(token, 'unused\n');
  const files = writeOverlay(dir, ports, token, 'probed', { forOverrides: { ServiceDown: '30s' } });
  parts = startTools(files, ports, dir, ['blackbox', 'prometheus']);
  // No --config: the embedded default, on a port of the test's.
  daemon = await startDaemon([], { HOMESTATION_HOST: '127.0.0.1', HOMESTATION_PORT: String(ports.homestation) });
}, 60_000);

afterAll(async () => {
  if (missing) return;
  await daemon?.stop();
  await parts?.stop();
  probed?.close();
  rmSync(dir, { recursive: true, force: true });
}, 30_000);

describe.runIf(!missing)('the embedded default config on this host', () => {
  it('is scraped with every instance up, and no shipped alert is even pending', async () => {
    const prom = `http://127.0.0.1:${ports.prometheus}`;
    const query = async (q: string) =>
      ((await (await fetch(`${prom}/api/v1/query?query=${encodeURIComponent(q)}`)).json()) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } }).data.result;
    await expect.poll(async () => (await query('up{job="homestation"}'))[0]?.value[1], { timeout: 30_000 }).toBe('1');
    await expect.poll(async () => (await query('min(homestation_exporter_up)'))[0]?.value[1], { timeout: 30_000 }).toBe('1');
    const instances = (await query('homestation_exporter_up')).map((r) => `${r.metric.exporter}/${r.metric.exporter_instance}`).sort();
    expect(instances).toEqual(['backup/debian-system', 'backup/local-dumps', 'filesystem/local']);
    await new Promise((r) => setTimeout(r, 8000)); // eight evaluations of every rule
    const alerts = ((await (await fetch(`${prom}/api/v1/alerts`)).json()) as { data: { alerts: { labels: Record<string, string>; state: string }[] } }).data.alerts;
    // A disk of this machine that is really almost full or read-only is the one thing an alert may say.
    const justified = (a: { labels: Record<string, string> }) => {
      if (!a.labels.mountpoint) return false;
      const st = statfsSync(a.labels.mountpoint);
      return (a.labels.alertname === 'FilesystemAlmostFull' && st.bavail / st.blocks < 0.05) || a.labels.alertname === 'FilesystemReadOnly';
    };
    expect(alerts.filter((a) => !justified(a)).map((a) => `${a.labels.alertname} ${a.state} ${JSON.stringify(a.labels)}`)).toEqual([]);
    // And the status page of that host agrees: what is wrong is only what the alerts say.
    const status = (await (await fetch(`${daemon!.url}/api/v1/status`)).json()) as { findings: { subject: string }[] };
    expect(status.findings.filter((f) => !f.subject.startsWith('filesystem '))).toEqual([]);
  }, 60_000);
});
