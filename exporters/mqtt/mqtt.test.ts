/**
 * The MQTT exporter against a real Mosquitto 2.0: zigbee2mqtt 1.x and 2.x flows,
 * a Tasmota LWT delivered by the broker on an abrupt disconnect, retained replays,
 * TTL expiry, renames, a broker restart, a wrong password, and TLS with a test CA.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import type { InstanceRunner } from '../../collector/instance-runner.js';
import { readableByBroker, startMosquitto, type Broker } from '../../test/helpers/mosquitto.js';
import { memoryLogger, runnerFor } from '../../test/helpers/runner.js';
import { missingToolsMessage } from '../../test/helpers/tools.js';
import { mqtt } from './index.js';
import { M } from './metrics.js';

const missing = missingToolsMessage(['mosquitto', 'openssl']);
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function broker(extra?: string, options?: { scheme?: string }): Promise<Broker> {
  const b = await startMosquitto(extra, options);
  cleanups.push(() => b.stop());
  return b;
}

async function publisher(url: string, options: Parameters<typeof connectAsync>[1] = {}): Promise<MqttClient> {
  const c = await connectAsync(url, { reconnectPeriod: 0, ...options });
  cleanups.push(() => c.endAsync(true).then(() => undefined));
  return c;
}

async function exporter(instance: Record<string, unknown>): Promise<{ runner: InstanceRunner; lines: Record<string, unknown>[] }> {
  const { log, lines } = memoryLogger();
  const runner = runnerFor(mqtt, { name: 'home', ...instance }, { log });
  runner.start();
  cleanups.push(() => runner.stop());
  return { runner, lines };
}

const sample = (r: InstanceRunner, metric: string, labels: Record<string, string> = {}) =>
  r.status().samples.find((s) => s.metric === metric && Object.entries(labels).every(([k, v]) => s.labels?.[k] === v))?.value;
const waitConnected = (r: InstanceRunner) => expect.poll(() => r.status().up, { timeout: 10_000 }).toBe(true);

describe.runIf(!missing)('MQTT exporter on Mosquitto', () => {
  it('follows a zigbee2mqtt 2.x bridge and device, and the broker $SYS values', async () => {
    const b = await broker();
    const { runner } = await exporter({ url: b.url });
    await waitConnected(runner);
    const z2m = await publisher(b.url);
    await z2m.publishAsync('zigbee2mqtt/bridge/state', '{"state":"online"}', { retain: true, qos: 1 });
    await z2m.publishAsync('zigbee2mqtt/kitchen/sensor/availability', '{"state":"online"}', { retain: true, qos: 1 });
    await z2m.publishAsync('zigbee2mqtt/kitchen/sensor', '{"battery":87,"humidity":52.9,"linkquality":110,"temperature":22.6}', { qos: 1 });
    const dev = { device: 'kitchen/sensor', source: 'zigbee2mqtt' };
    await expect.poll(() => sample(runner, M.temperature, dev)).toBe(22.6);
    expect(sample(runner, M.battery, dev)).toBeCloseTo(0.87);
    expect(sample(runner, M.humidity, dev)).toBeCloseTo(0.529);
    expect(sample(runner, M.linkQuality, dev)).toBe(110);
    expect(sample(runner, M.online, dev)).toBe(1);
    expect(sample(runner, M.lastSeen, dev)).toBeGreaterThan(Date.now() / 1000 - 10);
    expect(sample(runner, M.z2mBridge, { base_topic: 'zigbee2mqtt' })).toBe(1);
    await expect.poll(() => sample(runner, M.clients), { timeout: 5_000 }).toBeGreaterThanOrEqual(2);
    expect(sample(runner, M.uptime)).toBeGreaterThanOrEqual(0);
    await z2m.publishAsync('zigbee2mqtt/kitchen/sensor/availability', '{"state":"OFFLINE"}', { retain: true, qos: 1 });
    await expect.poll(() => sample(runner, M.online, dev)).toBe(0);
  });

  it('reads zigbee2mqtt 1.x plain payloads; a retained replay is history: no sign of life, no value of unknown age', async () => {
    const b = await broker();
    const z2m = await publisher(b.url);
    await z2m.publishAsync('zigbee2mqtt/bridge/state', 'online', { retain: true, qos: 1 });
    await z2m.publishAsync('zigbee2mqtt/door/availability', 'online', { retain: true, qos: 1 });
    await z2m.publishAsync('zigbee2mqtt/door', '{"battery":50}', { retain: true, qos: 1 });
    const { runner } = await exporter({ url: b.url });
    const dev = { device: 'door', source: 'zigbee2mqtt' };
    await expect.poll(() => sample(runner, M.online, dev), { timeout: 10_000 }).toBe(1);
    expect(sample(runner, M.z2mBridge)).toBe(1);
    await expect.poll(() => sample(runner, M.droppedValues, { reason: 'retained_unknown_age' })).toBe(1);
    expect(sample(runner, M.battery, dev)).toBeUndefined();
    expect(sample(runner, M.lastSeen, dev)).toBeUndefined();
    await z2m.publishAsync('zigbee2mqtt/door', '{"battery":49}', { qos: 1 });
    await expect.poll(() => sample(runner, M.lastSeen, dev)).toBeGreaterThan(0);
    expect(sample(runner, M.battery, dev)).toBeCloseTo(0.49);
  });

  it('sees a Tasmota plug go offline by its real will when its connection drops', async () => {
    const b = await broker();
    const { runner } = await exporter({ url: b.url });
    await waitConnected(runner);
    const plug = await connectAsync(b.url, { reconnectPeriod: 0, will: { topic: 'tele/plug-1/LWT', payload: Buffer.from('Offline'), retain: true, qos: 1 } });
    await plug.publishAsync('tele/plug-1/LWT', 'Online', { retain: true, qos: 1 });
    const dev = { device: 'plug-1', source: 'tasmota' };
    await expect.poll(() => sample(runner, M.online, dev)).toBe(1);
    plug.stream.destroy(); // no DISCONNECT: the broker publishes the will
    await expect.poll(() => sample(runner, M.online, dev), { timeout: 10_000 }).toBe(0);
    await plug.endAsync(true);
  });

  it('drops values after the TTL but keeps online and last seen; drops renamed devices at once', async () => {
    const b = await broker();
    const { runner } = await exporter({ url: b.url, ttl: '1s' });
    await waitConnected(runner);
    const z2m = await publisher(b.url);
    await z2m.publishAsync('zigbee2mqtt/lamp/availability', 'online', { retain: true, qos: 1 });
    await z2m.publishAsync('zigbee2mqtt/lamp', '{"linkquality":80}', { qos: 1 });
    const dev = { device: 'lamp', source: 'zigbee2mqtt' };
    await expect.poll(() => sample(runner, M.linkQuality, dev)).toBe(80);
    await expect.poll(() => sample(runner, M.linkQuality, dev), { timeout: 5_000 }).toBeUndefined();
    expect(sample(runner, M.online, dev)).toBe(1);
    expect(sample(runner, M.lastSeen, dev)).toBeGreaterThan(0);
    await z2m.publishAsync('zigbee2mqtt/bridge/response/device/rename', '{"data":{"from":"lamp","to":"desk-lamp","homeassistant_rename":false},"status":"ok","transaction":"x-1"}', { qos: 1 });
    await expect.poll(() => sample(runner, M.online, dev)).toBeUndefined();
    expect(sample(runner, M.lastSeen, dev)).toBeUndefined();
  });

  it('reconnects and resubscribes after a broker restart; counters start again', async () => {
    const b = await broker();
    const { runner } = await exporter({ url: b.url });
    await waitConnected(runner);
    await b.stop();
    await expect.poll(() => runner.status().up, { timeout: 10_000 }).toBe(false);
    expect(runner.status().lastError?.reason).toBe('unreachable');
    await b.restart();
    await expect.poll(() => runner.status().up, { timeout: 20_000 }).toBe(true);
    expect(sample(runner, M.reconnects)).toBe(1);
    const z2m = await publisher(b.url);
    await z2m.publishAsync('zigbee2mqtt/after-restart', '{"temperature":5}', { qos: 1 });
    await expect.poll(() => sample(runner, M.temperature, { device: 'after-restart' })).toBe(5);
  }, 40_000);

  it('keeps its model through a broker outage: connected 0, devices and last seen stay, errors and last success counted', async () => {
    const b = await broker();
    const { runner } = await exporter({ url: b.url });
    await waitConnected(runner);
    expect(runner.status().lastSuccess).toBeGreaterThan(0);
    const z2m = await publisher(b.url);
    await z2m.publishAsync('zigbee2mqtt/bridge/state', '{"state":"online"}', { retain: true, qos: 1 });
    await z2m.publishAsync('zigbee2mqtt/door/availability', '{"state":"offline"}', { retain: true, qos: 1 });
    await z2m.publishAsync('zigbee2mqtt/door', '{"contact":true,"battery":40}', { qos: 1 });
    const door = { device: 'door', source: 'zigbee2mqtt' };
    await expect.poll(() => sample(runner, M.battery, door)).toBeCloseTo(0.4);
    const seenBefore = sample(runner, M.lastSeen, door);
    const unreachableBefore = runner.status().errors.unreachable;
    await z2m.endAsync(true);
    await b.stop();
    await expect.poll(() => runner.status().up, { timeout: 10_000 }).toBe(false);
    // The outage is visible, and what was known stays known.
    expect(sample(runner, M.connected)).toBe(0);
    expect(sample(runner, M.online, door)).toBe(0);
    expect(sample(runner, M.lastSeen, door)).toBe(seenBefore);
    expect(sample(runner, M.battery, door)).toBeCloseTo(0.4);
    expect(runner.status().errors.unreachable).toBeGreaterThan(unreachableBefore);
    expect(runner.status().lastError?.reason).toBe('unreachable');
    await b.restart();
    await expect.poll(() => runner.status().up, { timeout: 20_000 }).toBe(true);
    expect(sample(runner, M.connected)).toBe(1);
    // Mosquitto ran without persistence: the retained availability is gone, the last-known state stays.
    expect(sample(runner, M.online, door)).toBe(0);
  }, 40_000);

  it('reports a wrong password as reason auth, counted, without logging it', async () => {
    const dir = (await broker()).dir; // only for a temp dir
    const pw = join(dir, 'passwd');
    writeFileSync(pw, '');
    execFileSync('mosquitto_passwd', ['-b', pw, 'homestation', 'right-password']);
    readableByBroker(pw);
    const b = await broker(`allow_anonymous false\npassword_file ${pw}`);
    const pwFile = join(dir, 'wrong');
    writeFileSync(pwFile, 'wrong-password\n');
    const { runner, lines } = await exporter({ url: b.url, username: 'homestation', password_file: pwFile });
    await expect.poll(() => runner.status().lastError?.reason, { timeout: 10_000 }).toBe('auth');
    expect(runner.status().up).toBe(false);
    expect(runner.status().errors.auth).toBeGreaterThan(0);
    expect(runner.status().lastSuccess).toBeUndefined();
    expect(JSON.stringify(lines)).not.toContain('wrong-password');
    writeFileSync(pwFile, 'right-password\n');
    const ok = runnerFor(mqtt, { name: 'ok', url: b.url, username: 'homestation', password_file: pwFile });
    ok.start();
    cleanups.push(() => ok.stop());
    await waitConnected(ok);
  });

  it('connects over TLS to a broker whose certificate a test CA signed', async () => {
    const dir = (await broker()).dir;
    const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
    ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=HomeStation test CA', '-keyout', 'ca.key', '-out', 'ca.crt');
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', 'server.key', '-out', 'server.csr');
    writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
    ssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-extfile', 'san.ext', '-out', 'server.crt');
    readableByBroker(...['ca.crt', 'server.crt', 'server.key'].map((f) => join(dir, f)));
    const b = await broker(`allow_anonymous true\ncafile ${join(dir, 'ca.crt')}\ncertfile ${join(dir, 'server.crt')}\nkeyfile ${join(dir, 'server.key')}`, { scheme: 'mqtts' });
    const { runner } = await exporter({ url: b.url, ca_file: join(dir, 'ca.crt') });
    await waitConnected(runner);
    // MQTT 5 over the same TLS listener.
    const v5 = runnerFor(mqtt, { name: 'v5', url: b.url, ca_file: join(dir, 'ca.crt'), protocol_version: 5 });
    v5.start();
    cleanups.push(() => v5.stop());
    await waitConnected(v5);
    // Without the CA the certificate is refused.
    const strict = runnerFor(mqtt, { name: 'no-ca', url: b.url });
    strict.start();
    cleanups.push(() => strict.stop());
    await expect.poll(() => strict.status().lastError?.message ?? '', { timeout: 10_000 }).toMatch(/certificate|self.signed|verify/i);
    expect(strict.status().up).toBe(false);
  });

  it('connects with a client certificate to a broker that requires one (mutual TLS)', async () => {
    const dir = (await broker()).dir;
    const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
    ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=HomeStation test CA', '-keyout', 'ca.key', '-out', 'ca.crt');
    writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
    for (const [name, cn, ext] of [['server', '127.0.0.1', ['-extfile', 'san.ext']], ['client', 'homestation', []]] as const) {
      ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${cn}`, '-keyout', `${name}.key`, '-out', `${name}.csr`);
      ssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', ...ext, '-out', `${name}.crt`);
    }
    readableByBroker(...['ca.crt', 'server.crt', 'server.key'].map((f) => join(dir, f)));
    const b = await broker(
      `allow_anonymous true\ncafile ${join(dir, 'ca.crt')}\ncertfile ${join(dir, 'server.crt')}\nkeyfile ${join(dir, 'server.key')}\nrequire_certificate true`,
      { scheme: 'mqtts' },
    );
    const { runner } = await exporter({ url: b.url, ca_file: join(dir, 'ca.crt'), cert_file: join(dir, 'client.crt'), key_file: join(dir, 'client.key') });
    await waitConnected(runner);
    const anonymous = runnerFor(mqtt, { name: 'no-cert', url: b.url, ca_file: join(dir, 'ca.crt') });
    anonymous.start();
    cleanups.push(() => anonymous.stop());
    await expect.poll(() => anonymous.status().lastError?.reason, { timeout: 10_000 }).toBe('unreachable');
    expect(anonymous.status().up).toBe(false);
  });
});
