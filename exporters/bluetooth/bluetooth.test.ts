/**
 * The Home Assistant source against the fake HA (test/fakes/home-assistant.ts) and
 * its four bluetooth subscriptions, in the shapes of exporters/bluetooth/fixtures:
 * scanners added and removed, a proxy that stops scanning (current_mode null), all
 * connection slots taken, adverts live and replayed, a device HA declares gone, a
 * non-admin token, malformed events, and a reconnect that keeps the last-known state.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { InstanceRunner } from '../../collector/instance-runner.js';
import { startFakeHa, type FakeAdvert, type FakeHa, type FakeScanner } from '../../test/fakes/home-assistant.js';
import { memoryLogger, runnerFor } from '../../test/helpers/runner.js';
import { bluetooth } from './index.js';
import { M } from './metrics.js';

const TOKEN = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.admin-token';
const USER_TOKEN = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.user-token';
const PROXY: FakeScanner = { source: 'AC:BC:32:89:0E:AA', connectable: true, name: 'living-room-proxy (AC:BC:32:89:0E:AA)', adapter: 'living-room-proxy', scanner_type: 'remote' };
const USB: FakeScanner = { source: '00:1A:7D:DA:71:04', connectable: true, name: 'hci0 (00:1A:7D:DA:71:04)', adapter: 'hci0', scanner_type: 'usb' };
const NUKI = '54:D2:72:AB:35:95';
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const advert = (over: Partial<FakeAdvert> = {}): FakeAdvert => ({
  name: 'Nuki_1EAB3595',
  address: NUKI,
  rssi: -78,
  manufacturer_data: { '76': '0215a92ee200550111e4916c0800200c9a661eab3595c4' },
  service_data: {},
  service_uuids: [],
  source: PROXY.source,
  connectable: true,
  time: Date.now() / 1000,
  tx_power: null,
  raw: null,
  ...over,
});

async function ha(): Promise<FakeHa> {
  const fake = await startFakeHa({ token: TOKEN, nonAdminToken: USER_TOKEN });
  fake.devices = [{ id: 'd-nuki', name: 'Nuki Smart Lock', name_by_user: 'Front door lock', connections: [['bluetooth', NUKI]] }];
  fake.bluetooth.addScanner(PROXY, { current: 'passive', requested: 'passive' });
  fake.bluetooth.addScanner(USB, { current: 'active', requested: 'active' });
  fake.bluetooth.setAllocation({ source: PROXY.source, slots: 3, free: 2, allocated: ['C4:7C:8D:6C:89:E4'] });
  // HA's history: replayed to a new subscriber as one batch.
  fake.bluetooth.advertise(advert({ time: Date.now() / 1000 - 30 }));
  fake.bluetooth.advertise(advert({ address: 'F0:F0:F0:00:00:01', name: 'ATC_0001', rssi: -88, manufacturer_data: {}, service_data: { '0000181a-0000-1000-8000-00805f9b34fb': 'a4c1380000010b5c0c' }, connectable: false, time: Date.now() / 1000 - 5 }));
  cleanups.push(() => fake.close());
  return fake;
}

function exporter(url: string, token = TOKEN, extra: Record<string, unknown> = {}) {
  const { log, lines } = memoryLogger();
  const runner = runnerFor(bluetooth, { name: 'home', homeassistant: { url, token, ping_interval: '200ms', ping_timeout: '1s' }, devices: [{ address: NUKI.toLowerCase() }], ...extra }, { log });
  runner.start();
  cleanups.push(() => runner.stop());
  return { runner, lines };
}

const v = (r: InstanceRunner, metric: string, labels: Record<string, string> = {}) =>
  r.status().samples.find((s) => s.metric === metric && Object.entries(labels).every(([k, x]) => s.labels?.[k] === x))?.value;

describe('bluetooth exporter, Home Assistant source, against the fake HA', () => {
  it('syncs scanners, modes, slots and the advert history, then counts live adverts', async () => {
    const fake = await ha();
    const { runner } = exporter(fake.url);
    await expect.poll(() => runner.status().up, { timeout: 10_000 }).toBe(true);
    const proxy = { scanner: PROXY.source };
    expect(v(runner, M.scannerInfo, { ...proxy, name: PROXY.name, adapter: 'living-room-proxy', type: 'remote', source: 'homeassistant', connectable: 'true' })).toBe(1);
    expect(v(runner, M.scanning, proxy)).toBe(1);
    expect(v(runner, M.scanRequested, proxy)).toBe(1);
    expect(v(runner, M.slots, proxy)).toBe(3);
    expect(v(runner, M.slotsFree, proxy)).toBe(2);
    expect(v(runner, M.powered, proxy)).toBeUndefined(); // HA does not say
    // The history replay: last seen and RSSI known, nothing counted.
    expect(v(runner, M.scannerAdverts, proxy)).toBe(0);
    expect(v(runner, M.scannerLastAdvert, proxy)).toBeGreaterThan(Date.now() / 1000 - 60);
    expect(v(runner, M.rssi, { address: NUKI })).toBe(-78);
    expect(v(runner, M.deviceInfo, { address: NUKI, name: 'Front door lock', company: '0x004c', connectable: 'true' })).toBe(1);
    expect(v(runner, M.silentThreshold, { address: NUKI })).toBe(1800);
    expect(v(runner, M.deviceAdverts, { address: NUKI })).toBe(0);
    expect(v(runner, M.devices, { set: 'untracked' })).toBe(1); // the thermometer of the batch: not listed, track_all off
    // The USB adapter has no allocation event yet: no slot series, not "0 free".
    expect(v(runner, M.slotsFree, { scanner: USB.source })).toBeUndefined();

    fake.bluetooth.advertise(advert({ rssi: -65, source: USB.source }));
    fake.bluetooth.advertise(advert({ address: 'AA:BB:CC:DD:EE:01', name: 'AA:BB:CC:DD:EE:01', rssi: -90 }));
    await expect.poll(() => v(runner, M.scannerAdverts, { scanner: USB.source })).toBe(1);
    await expect.poll(() => v(runner, M.scannerAdverts, proxy)).toBe(1);
    expect(v(runner, M.rssi, { address: NUKI })).toBe(-65);
    expect(v(runner, M.bestScanner, { address: NUKI, scanner: USB.source })).toBe(1);
    expect(v(runner, M.bestScanner, { address: NUKI, scanner: PROXY.source })).toBeUndefined();
    expect(v(runner, M.deviceAdverts, { address: NUKI })).toBe(1);
    expect(v(runner, M.devices, { set: 'untracked' })).toBe(2);
  });

  it('with track_all, gives the replayed batch series too, up to max_devices', async () => {
    const fake = await ha();
    const { runner } = exporter(fake.url, TOKEN, { track_all: true, max_devices: 1 });
    await expect.poll(() => runner.status().up, { timeout: 10_000 }).toBe(true);
    expect(v(runner, M.rssi, { address: 'F0:F0:F0:00:00:01' })).toBe(-88);
    expect(v(runner, M.deviceInfo, { address: 'F0:F0:F0:00:00:01', name: 'ATC_0001', company: '', connectable: 'false' })).toBe(1);
    fake.bluetooth.advertise(advert({ address: 'AA:BB:CC:DD:EE:07', name: 'Phone' }));
    await expect.poll(() => v(runner, M.devices, { set: 'untracked' })).toBe(1);
    expect(v(runner, M.devices, { set: 'other' })).toBe(1);
  });

  it('shows a proxy that stopped scanning, one with its slots exhausted, and one that went away', async () => {
    const fake = await ha();
    const { runner } = exporter(fake.url);
    await expect.poll(() => runner.status().up, { timeout: 10_000 }).toBe(true);
    fake.bluetooth.setScannerState(PROXY.source, null, 'active');
    await expect.poll(() => v(runner, M.scanning, { scanner: PROXY.source })).toBe(0);
    expect(v(runner, M.scanRequested, { scanner: PROXY.source })).toBe(1);
    fake.bluetooth.setAllocation({ source: PROXY.source, slots: 3, free: 0, allocated: ['C4:7C:8D:6C:89:E4', '54:D2:72:AB:35:95', 'AA:BB:CC:DD:EE:02'] });
    await expect.poll(() => v(runner, M.slotsFree, { scanner: PROXY.source })).toBe(0);
    const review = bluetooth.review!(runner.status().samples, Date.now());
    expect(review.findings.map((f) => `${f.subject}: ${f.problem}`)).toEqual([
      `scanner ${PROXY.name}: asked to scan, not scanning`,
      `scanner ${PROXY.name}: all 3 connection slots taken`,
    ]);
    fake.bluetooth.removeScanner(PROXY.source);
    await expect.poll(() => v(runner, M.scannerPresent, { scanner: PROXY.source })).toBe(0);
    expect(v(runner, M.slotsFree, { scanner: PROXY.source })).toBeUndefined(); // a gone proxy's slots are not "exhausted"
    expect(v(runner, M.scannerAdverts, { scanner: PROXY.source })).toBe(0); // the counter stays
  });

  it('marks a device HA declares gone not present, keeping its last-seen time', async () => {
    const fake = await ha();
    const { runner } = exporter(fake.url);
    await expect.poll(() => runner.status().up, { timeout: 10_000 }).toBe(true);
    const seen = v(runner, M.lastSeen, { address: NUKI });
    fake.bluetooth.disappear(NUKI);
    await expect.poll(() => v(runner, M.devicePresent, { address: NUKI })).toBe(0);
    expect(v(runner, M.lastSeen, { address: NUKI })).toBe(seen);
    expect(v(runner, M.rssi, { address: NUKI })).toBeUndefined();
  });

  it('refuses a token of a user who is not an administrator, with what to do', async () => {
    const fake = await ha();
    const { runner, lines } = exporter(fake.url, USER_TOKEN);
    await expect.poll(() => runner.status().lastError?.reason, { timeout: 10_000 }).toBe('auth');
    expect(runner.status().up).toBe(false);
    expect(runner.status().lastError?.message).toBe('Home Assistant refused bluetooth/subscribe_scanner_details: Unauthorized');
    expect(JSON.stringify(lines)).not.toContain(USER_TOKEN);
  });

  it('counts malformed events, an unknown scanner type and undecodable manufacturer data, and keeps going', async () => {
    const fake = await ha();
    const { runner, lines } = exporter(fake.url);
    await expect.poll(() => runner.status().up, { timeout: 10_000 }).toBe(true);
    fake.bluetooth.sendRaw('bluetooth/subscribe_scanner_state', { adapter: 'x' });
    fake.bluetooth.sendRaw('bluetooth/subscribe_connection_allocations', { source: PROXY.source });
    fake.bluetooth.addScanner({ ...PROXY, source: '11:22:33:44:55:66', scanner_type: 'zigbee' });
    fake.bluetooth.advertise(advert({ manufacturer_data: { '76': 'zz', '0x12': '00' } }));
    await expect.poll(() => v(runner, M.unparsed, { what: 'manufacturer_data' })).toBe(1);
    expect(v(runner, M.unparsed, { what: 'event' })).toBe(2);
    expect(v(runner, M.unparsed, { what: 'scanner_type' })).toBe(1);
    expect(v(runner, M.scannerInfo, { scanner: '11:22:33:44:55:66', type: 'unknown' })).toBe(1);
    expect(v(runner, M.deviceAdverts, { address: NUKI })).toBe(1); // the advert itself counted
    expect(runner.status().up).toBe(true);
    expect(lines.filter((l) => l.msg === 'Home Assistant sent a bluetooth message HomeStation could not read; skipped, the rest kept').length).toBe(4);
  });

  it('keeps the last-known state through a disconnect and resyncs, marking what went meanwhile', async () => {
    const fake = await ha();
    const { runner } = exporter(fake.url);
    await expect.poll(() => runner.status().up, { timeout: 10_000 }).toBe(true);
    fake.bluetooth.advertise(advert({ rssi: -70 }));
    await expect.poll(() => v(runner, M.scannerAdverts, { scanner: PROXY.source })).toBe(1);
    fake.dropConnections();
    await expect.poll(() => v(runner, M.connected)).toBe(0);
    // While away: the proxy went, and HA forgot the lock.
    fake.bluetooth.removeScanner(PROXY.source);
    fake.bluetooth.disappear(NUKI);
    expect(v(runner, M.scannerPresent, { scanner: PROXY.source })).toBe(1); // last known
    expect(v(runner, M.lastSeen, { address: NUKI })).toBeGreaterThan(0);
    await expect.poll(() => v(runner, M.connected), { timeout: 10_000 }).toBe(1);
    expect(v(runner, M.reconnects)).toBe(1);
    expect(v(runner, M.scannerPresent, { scanner: PROXY.source })).toBe(0);
    expect(v(runner, M.scannerPresent, { scanner: USB.source })).toBe(1);
    expect(v(runner, M.devicePresent, { address: NUKI })).toBe(0);
    expect(v(runner, M.scannerAdverts, { scanner: PROXY.source })).toBe(1); // counters survive
  });
});
