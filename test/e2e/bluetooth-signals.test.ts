/**
 * The bluetooth exporter as a user runs it: `homestation run` with an instance on the
 * FAKE Home Assistant's bluetooth subscriptions (test/fakes/home-assistant.ts), scraped
 * by the real Prometheus with the shipped rules (the test overlay: 1 s scrape and
 * evaluation, the `for:` of the alerts under test shortened). Asserted on what
 * Prometheus stored and evaluated: the counters born at 0 and a healthy homelab firing
 * nothing; then a proxy that stops scanning, a proxy whose slots run out, a listed
 * sensor never heard, and HA going away (the state alerts hold off, SourceDown fires).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeHa, type FakeHa, type FakeScanner } from '../fakes/home-assistant.js';
import { startDaemon, type Daemon } from '../helpers/cli.js';
import { prometheusApi, stackPorts, startTools, writeOverlay, type StackPorts } from '../helpers/stack.js';
import { missingToolsMessage } from '../helpers/tools.js';

const missing = missingToolsMessage(['prometheus']);
const TOKEN = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.admin-e2e';
const PROXY: FakeScanner = { source: 'AC:BC:32:89:0E:AA', connectable: true, name: 'living-room-proxy (AC:BC:32:89:0E:AA)', adapter: 'living-room-proxy', scanner_type: 'remote' };
const GARAGE: FakeScanner = { source: 'AC:BC:32:89:0E:CC', connectable: true, name: 'garage-proxy (AC:BC:32:89:0E:CC)', adapter: 'garage-proxy', scanner_type: 'remote' };
const LOCK = '54:D2:72:AB:35:95';
let dir: string;
let ports: StackPorts;
let ha: FakeHa;
let collector: Daemon | undefined;
let parts: ReturnType<typeof startTools> | undefined;
let adverts: NodeJS.Timeout | undefined;
const t0 = Date.now() / 1000;

const { query, history, alerts } = prometheusApi(() => ports.prometheus, t0);
const firing = async (name: string) =>
  (await alerts())
    .filter((a) => a.labels.alertname === name && a.state === 'firing')
    .map((a) => a.labels.scanner ?? a.labels.address ?? a.labels.exporter_instance)
    .sort();

beforeAll(async () => {
  if (missing) {
    if (process.env.CI === 'true') throw new Error(missing);
    return;
  }
  dir = mkdtempSync(join(tmpdir(), 'hs-bt-e2e-'));
  ports = await stackPorts();
  ha = await startFakeHa({ token: TOKEN });
  ha.devices = [{ id: 'd-lock', name: 'Nuki', name_by_user: 'Front door lock', connections: [['bluetooth', LOCK]] }];
  ha.bluetooth.addScanner(PROXY);
  ha.bluetooth.addScanner(GARAGE);
  ha.bluetooth.setAllocation({ source: PROXY.source, slots: 3, free: 2, allocated: ['C4:7C:8D:6C:89:E4'] });
  ha.bluetooth.setAllocation({ source: GARAGE.source, slots: 3, free: 3, allocated: [] });
  // The lock advertises every 500 ms through the living-room proxy, with a changing counter (HA passes those on).
  let n = 0;
  const advertise = () =>
    ha.bluetooth.advertise({
      name: 'Nuki_1EAB3595', address: LOCK, rssi: -70 - (n % 5), manufacturer_data: { '76': `0215a92ee200550111e4916c0800200c9a661eab35${(n++ % 256).toString(16).padStart(2, '0')}c4` },
      service_data: {}, service_uuids: [], source: PROXY.source, connectable: true, time: Date.now() / 1000, tx_power: null, raw: null,
    });
  advertise();
  adverts = setInterval(advertise, 500);
  writeFileSync(join(dir, 'token'), 'unused\n');
  writeFileSync(join(dir, 'ha-token'), `${TOKEN}\n`);
  const files = writeOverlay(dir, ports, join(dir, 'token'), 'unused', {
    forOverrides: { BluetoothScannerNotScanning: '2s', BluetoothConnectionSlotsExhausted: '2s', BluetoothDeviceSilent: '1s', BluetoothSourceDown: '3s' },
  });
  const config = join(dir, 'homestation.yaml');
  writeFileSync(
    config,
    `server: { host: 127.0.0.1, port: ${ports.homestation} }
exporters:
  bluetooth:
    - name: home
      homeassistant: { url: ${ha.url}, token_file: ${join(dir, 'ha-token')}, ping_interval: 1s, ping_timeout: 1s }
      devices:
        - { address: "${LOCK}", silent_after: 1m }
        - { address: "C4:7C:8D:6C:00:01", name: cellar, silent_after: 8s }
`,
  );
  parts = startTools(files, ports, dir, ['prometheus']);
  collector = await startDaemon(['--config', config]);
}, 120_000);

afterAll(async () => {
  if (missing) return;
  clearInterval(adverts);
  await collector?.stop();
  await parts?.stop();
  await ha.close();
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe.runIf(!missing)('the bluetooth exporter through the real Prometheus and the shipped rules', () => {
  it('stores the series as emitted: counters born at 0, names joined, and a healthy homelab fires nothing', async () => {
    await expect.poll(async () => (await query('homestation_bluetooth_connected'))[0]?.value[1], { timeout: 30_000 }).toBe('1');
    await new Promise((r) => setTimeout(r, 3000));
    // The garage proxy hears nothing: its counter exists at 0 from its first scrape.
    expect((await history(`homestation_bluetooth_scanner_adverts_total{scanner="${GARAGE.source}"}`)).every(([, v]) => v === '0')).toBe(true);
    expect(Number((await query(`homestation_bluetooth_scanner_adverts_total{scanner="${PROXY.source}"}`))[0]?.value[1])).toBeGreaterThan(0);
    expect((await query(`homestation_bluetooth_device_info{address="${LOCK}"}`))[0]?.metric.name).toBe('Front door lock');
    for (const name of ['BluetoothScannerNotScanning', 'BluetoothConnectionSlotsExhausted', 'BluetoothScannerGone', 'BluetoothSourceDown']) expect(await firing(name)).toEqual([]);
  }, 60_000);

  it('a listed sensor never heard since HomeStation started fires BluetoothDeviceSilent once its silent_after has passed; the lock that is heard does not', async () => {
    await expect.poll(() => firing('BluetoothDeviceSilent'), { timeout: 30_000, interval: 500 }).toEqual(['C4:7C:8D:6C:00:01']);
    expect((await alerts()).find((a) => a.labels.alertname === 'BluetoothDeviceSilent')?.labels.name).toBe('cellar');
  }, 60_000);

  it('a proxy that stops scanning fires BluetoothScannerNotScanning, one with its slots used up BluetoothConnectionSlotsExhausted', async () => {
    ha.bluetooth.setScannerState(GARAGE.source, null, 'active');
    ha.bluetooth.setAllocation({ source: PROXY.source, slots: 3, free: 0, allocated: ['C4:7C:8D:6C:89:E4', LOCK, 'AA:BB:CC:DD:EE:02'] });
    await expect.poll(() => firing('BluetoothScannerNotScanning'), { timeout: 30_000, interval: 500 }).toEqual([GARAGE.source]);
    await expect.poll(() => firing('BluetoothConnectionSlotsExhausted'), { timeout: 30_000, interval: 500 }).toEqual([PROXY.source]);
  }, 60_000);

  it('HA going away fires BluetoothSourceDown, and the state alerts hold off on the last-known state', async () => {
    clearInterval(adverts);
    await ha.close();
    await expect.poll(() => firing('BluetoothSourceDown'), { timeout: 30_000, interval: 500 }).toEqual(['home']);
    expect(await firing('BluetoothScannerNotScanning')).toEqual([]);
    expect(await firing('BluetoothDeviceSilent')).toEqual([]);
    // Last-known state kept: the proxy's counter and slots are still there.
    expect((await query(`homestation_bluetooth_scanner_connection_slots_free{scanner="${PROXY.source}"}`))[0]?.value[1]).toBe('0');
  }, 60_000);
});
