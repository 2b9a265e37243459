/**
 * The signals HomeStation really emits, scraped by the real Prometheus 2.42 with the
 * shipped rules and routed by the real Alertmanager 0.25 (the deploy/ configs through
 * the test overlay: 1 s scrape and evaluation, the `for:` of the alerts under test
 * shortened, nothing else changed). `homestation run` watches a real Mosquitto and
 * backup files; `homestation remediator` acts on real podman containers, as in the
 * compose stack. The assertions are on what Prometheus stored and evaluated:
 *
 * - a healthy setup has nothing pending;
 * - counters are born at 0 (their first stored sample), before their first event;
 * - a first successful recovery of about 10 s fires nothing (no SLO burn);
 * - a backup made stale fires BackupStale;
 * - a device offline stays firing through a broker outage (not resolved, not
 *   restarted), MQTTBrokerDown fires, and Alertmanager inhibits the device alert;
 * - a service whose ladder is exhausted fires RemediationFailed on its first
 *   escalation, and a restart of the remediator (counters reset) fires nothing new.
 */
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDaemon, type Daemon } from '../helpers/cli.js';
import { startMosquitto, type Broker } from '../helpers/mosquitto.js';
import { IMAGE, podman, removeContainers, runWeb, startPodmanService, type PodmanService } from '../helpers/podman.js';
import { TOKEN, alertPayload } from '../helpers/remediator.js';
import { prometheusApi, stackPorts, startTools, writeOverlay, type StackPorts } from '../helpers/stack.js';
import { missingToolsMessage } from '../helpers/tools.js';

const tools = ['podman', 'runc', 'busybox', 'prometheus', 'prometheus-alertmanager', 'prometheus-blackbox-exporter', 'mosquitto'];
const missing = missingToolsMessage(tools);
const uid = process.pid;
const WEB = `hs-t-sig-web-${uid}`;
const STUCK = `hs-t-sig-stuck-${uid}`;

let dir: string;
let engine: PodmanService;
let broker: Broker;
let z2m: MqttClient | undefined;
let collector: Daemon | undefined;
let remediator: Daemon | undefined;
let probed: Server;
let parts: ReturnType<typeof startTools> | undefined;
let ports: StackPorts;
let remediatorConfig: string;
const t0 = Date.now() / 1000;

const { query, history, alerts } = prometheusApi(() => ports.prometheus, t0);
const named = async (name: string) => (await alerts()).filter((a) => a.labels.alertname === name);
const firing = async (name: string) => (await named(name)).filter((a) => a.state === 'firing');

beforeAll(async () => {
  if (missing) {
    if (process.env.CI === 'true') throw new Error(missing);
    return;
  }
  dir = mkdtempSync(join(tmpdir(), 'hs-signals-'));
  engine = await startPodmanService();
  broker = await startMosquitto();
  probed = createServer((_req, res) => res.end('ok'));
  await new Promise<void>((r) => probed.listen(0, '127.0.0.1', r));
  ports = await stackPorts((probed.address() as { port: number }).port);
  const token = join(dir, 'token');
  writeFileSync(token, `${TOKEN}\n`);
  const files = writeOverlay(dir, ports, token, 'probed', {
    forOverrides: { MQTTBrokerDown: '3s', MQTTDeviceOffline: '2s', Zigbee2MQTTBridgeOffline: '2s', BackupStale: '2s', BackupNeverSucceeded: '2s', ExporterDown: '3s' },
  });

  // The shapes of a homelab: a backup that is fresh, a zigbee2mqtt with two devices.
  mkdirSync(join(dir, 'backups'));
  writeFileSync(join(dir, 'backups', 'app.sql'), '-- PostgreSQL database dump complete\n');
  const collectorConfig = join(dir, 'homestation.yaml');
  writeFileSync(
    collectorConfig,
    `server: { host: 127.0.0.1, port: ${ports.homestation} }
exporters:
  backup:
    - name: dumps
      interval: 1s
      files:
        sets:
          - { name: app, glob: "${dir}/backups/*.sql", expected_interval: 30s }
  mqtt:
    - { name: home, url: "${broker.url}" }
`,
  );
  z2m = await connectAsync(broker.url, { reconnectPeriod: 0 });
  await z2m.publishAsync('zigbee2mqtt/bridge/state', '{"state":"online"}', { retain: true, qos: 1 });
  for (const d of ['door', 'window']) await z2m.publishAsync(`zigbee2mqtt/${d}/availability`, '{"state":"online"}', { retain: true, qos: 1 });

  // A service that recovers (opted in by label, not listed: its series are born with
  // its first alert) and one that cannot (listed: its series exist from the start).
  await runWeb(WEB);
  podman(['run', '-d', '--name', STUCK, '--label', 'homestation.remediate=true', IMAGE, 'sh', '-c', 'exit 3']);
  remediatorConfig = join(dir, 'remediator.yaml');
  writeFileSync(
    remediatorConfig,
    `remediator:
  host: 127.0.0.1
  port: ${ports.remediator}
  auth: { bearer_token_file: ${token} }
  docker: { host: "${engine.dockerHost}" }
  journal: ${join(dir, 'journal.db')}
  # The alert path under test: the fast paths (container events, liveness watch) would act first.
  events: { enabled: false }
  watch: { enabled: false }
  cooldown: 0s
  services:
    - { name: stuck, container: ${STUCK}, recovery_deadline: 3s, stop_timeout: 1s }
  policies:
    - { match: { alertname: ServiceDown }, ladder: [{ action: restart, attempts: 1 }] }
`,
  );

  parts = startTools(files, ports, dir);
  collector = await startDaemon(['--config', collectorConfig]);
  remediator = await startDaemon(['--config', remediatorConfig], {}, { command: 'remediator', ready: /^remediator listening/ });
}, 120_000);

afterAll(async () => {
  if (missing) return;
  await z2m?.endAsync(true);
  await collector?.stop();
  await remediator?.stop();
  await parts?.stop();
  probed?.close();
  await broker?.stop();
  removeContainers([WEB, STUCK]);
  await engine?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

const webhook = (labels: Record<string, string>, startsAt: string) =>
  fetch(`http://127.0.0.1:${ports.remediator}/webhook/alertmanager`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify(alertPayload([{ labels, startsAt }])),
  });

describe.runIf(!missing)('the signals HomeStation emits, through the real Prometheus and Alertmanager', () => {
  it('a healthy setup: every target up, counters born at 0, nothing pending', async () => {
    for (const job of ['homestation', 'homestation-remediator', 'blackbox']) {
      await expect.poll(async () => (await query(`up{job="${job}"}`))[0]?.value[1], { timeout: 30_000 }).toBe('1');
    }
    await expect.poll(async () => (await query('homestation_mqtt_device_online{device="window"}'))[0]?.value[1], { timeout: 20_000 }).toBe('1');
    // Give the rules a few evaluations over the real series.
    await new Promise((r) => setTimeout(r, 5000));
    expect((await alerts()).map((a) => `${a.labels.alertname} ${a.state}`)).toEqual([]);
    // Born at 0, before any event: the first sample Prometheus stored.
    for (const q of [
      'homestation_remediator_escalations_total{service="stuck",reason="ladder_exhausted"}',
      'homestation_recovery_seconds_bucket{service="stuck",le="120"}',
      'homestation_remediator_incidents_total{outcome="failed"}',
      'homestation_remediator_suppressions_total{reason="cooldown"}',
      'homestation_exporter_errors_total{exporter="mqtt",reason="unreachable"}',
      'homestation_exporter_errors_total{exporter="backup",reason="timeout"}',
    ]) {
      expect((await history(q))[0]?.[1], q).toBe('0');
    }
  }, 60_000);

  it('a first successful recovery of about 10 s fires nothing', async () => {
    podman(['stop', '-t', '0', WEB]);
    const res = await webhook({ alertname: 'ServiceDown', service: WEB }, new Date(Date.now() - 9000).toISOString());
    expect(res.status).toBe(200);
    await expect.poll(async () => (await query(`homestation_recovery_seconds_count{service="${WEB}"}`))[0]?.value[1], { timeout: 30_000 }).toBe('1');
    const seconds = Number((await query(`homestation_recovery_seconds_sum{service="${WEB}"}`))[0]?.value[1]);
    expect(seconds).toBeGreaterThan(9);
    expect(seconds).toBeLessThan(30);
    // Several evaluations with the recovery in every window: no burn, not even pending.
    for (let i = 0; i < 6; i++) {
      expect(await named('RecoverySLOBurn')).toEqual([]);
      await new Promise((r) => setTimeout(r, 1000));
    }
    // The recording rule lags the raw counters by an evaluation or two (NaN, 0/0, until it has seen
    // the recovery; it stayed NaN for over 40 s in CI while the overlay left the SLO group at its
    // shipped 1m interval): it settles at 1.
    await expect.poll(async () => Number((await query('homestation:recovery_slo:ratio_5m'))[0]?.value[1] ?? '1'), { timeout: 40_000, interval: 500 }).toBe(1);
  }, 90_000);

  it('a backup made stale fires BackupStale', async () => {
    const old = Date.now() / 1000 - 600;
    utimesSync(join(dir, 'backups', 'app.sql'), old, old);
    await expect.poll(async () => (await firing('BackupStale')).map((a) => a.labels.set), { timeout: 30_000 }).toEqual(['app']);
  }, 40_000);

  it('a device offline stays firing through a broker outage, inhibited by MQTTBrokerDown in Alertmanager', async () => {
    await z2m!.publishAsync('zigbee2mqtt/door/availability', '{"state":"offline"}', { retain: true, qos: 1 });
    await expect.poll(async () => (await firing('MQTTDeviceOffline')).map((a) => a.labels.device), { timeout: 30_000 }).toEqual(['door']);
    const activeAt = (await firing('MQTTDeviceOffline'))[0]!.activeAt;
    await z2m!.endAsync(true);
    z2m = undefined;
    await broker.stop();
    await expect.poll(async () => (await query('homestation_mqtt_connected'))[0]?.value[1], { timeout: 20_000 }).toBe('0');
    await expect.poll(async () => (await firing('MQTTBrokerDown')).length, { timeout: 30_000 }).toBe(1);
    // Still firing, from the same start: never resolved during the outage.
    const during = await firing('MQTTDeviceOffline');
    expect(during.map((a) => [a.labels.device, a.activeAt])).toEqual([['door', activeAt]]);
    expect((await query('homestation_mqtt_device_online{device="window"}'))[0]?.value[1]).toBe('1');
    // Alertmanager holds the device alert back while the broker alert explains it.
    const am = async () =>
      ((await (await fetch(`http://127.0.0.1:${ports.alertmanager}/api/v2/alerts?filter=${encodeURIComponent('alertname="MQTTDeviceOffline"')}`)).json()) as {
        status: { state: string; inhibitedBy: string[] };
      }[])[0]?.status;
    await expect.poll(async () => (await am())?.state, { timeout: 20_000 }).toBe('suppressed');
    expect((await am())!.inhibitedBy.length).toBe(1);
    // The broker comes back: the last-known device state is still there, still firing.
    await broker.restart();
    await expect.poll(async () => (await query('homestation_mqtt_connected'))[0]?.value[1], { timeout: 20_000 }).toBe('1');
    expect((await firing('MQTTDeviceOffline')).map((a) => [a.labels.device, a.activeAt])).toEqual([['door', activeAt]]);
    const errors = Number((await query('homestation_exporter_errors_total{exporter="mqtt",reason="unreachable"}'))[0]?.value[1]);
    expect(errors).toBeGreaterThan(0);
  }, 90_000);

  it("a service whose ladder is exhausted fires RemediationFailed on its first escalation; a remediator restart adds nothing", async () => {
    const res = await webhook({ alertname: 'ServiceDown', service: 'stuck' }, new Date().toISOString());
    expect(res.status).toBe(200);
    await expect.poll(async () => (await firing('RemediationFailed')).map((a) => `${a.labels.service} ${a.labels.reason}`), { timeout: 40_000 }).toEqual([
      'stuck ladder_exhausted',
    ]);
    // The remediator restarts: every counter is 0 again (a reset Prometheus sees).
    await remediator!.stop();
    remediator = await startDaemon(['--config', remediatorConfig], {}, { command: 'remediator', ready: /^remediator listening/ });
    await expect.poll(async () => (await query('homestation_remediator_escalations_total{service="stuck"}'))[0]?.value[1], { timeout: 20_000 }).toBe('0');
    await new Promise((r) => setTimeout(r, 4000));
    const names = (await alerts()).map((a) => a.labels.alertname).sort();
    // The escalation is still within RemediationFailed's 10 minutes; the reset adds no alert.
    expect([...new Set(names)]).toEqual(['BackupStale', 'MQTTDeviceOffline', 'RemediationFailed']);
    expect((await named('RecoverySLOBurn')).length).toBe(0);
  }, 90_000);
});
