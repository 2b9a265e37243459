/**
 * The BlueZ source against BlueZ's mock (python-dbusmock's bluez5 template) on a
 * private system bus (test/fakes/bluez.ts): the adapter and devices as BlueZ
 * serves them, followed through signals; the adapter powered off; RSSI updates and
 * RSSI dropped; devices removed; bluetoothd and the bus itself going away and back.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import dbus from 'dbus-next';
import type { InstanceRunner } from '../../collector/instance-runner.js';
import { startFakeBluez, type FakeBluez } from '../../test/fakes/bluez.js';
import { memoryLogger, runnerFor } from '../../test/helpers/runner.js';
import { missingToolsMessage } from '../../test/helpers/tools.js';
import { bluetooth } from './index.js';
import { M } from './metrics.js';

const missing = missingToolsMessage(['dbus-daemon', 'python3-dbusmock']);
if (missing && process.env.CI === 'true') throw new Error(missing);

const ADAPTER = '00:01:02:03:04:05'; // the template's adapter address
const RUUVI = 'C4:7C:8D:6C:89:E4';
const cleanups: (() => Promise<void>)[] = [];
let bluez: FakeBluez;

beforeEach(async () => {
  if (missing) return;
  bluez = await startFakeBluez();
  process.env.DBUS_SYSTEM_BUS_ADDRESS = bluez.address;
  cleanups.push(() => bluez.close());
});
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function exporter(extra: Record<string, unknown> = {}) {
  const { log, lines } = memoryLogger();
  const runner = runnerFor(bluetooth, { name: 'server', bluez: {}, devices: [{ address: RUUVI, name: 'greenhouse', silent_after: '10m' }], ...extra }, { log });
  runner.start();
  cleanups.push(() => runner.stop());
  return { runner, lines };
}

const v = (r: InstanceRunner, metric: string, labels: Record<string, string> = {}) =>
  r.status().samples.find((s) => s.metric === metric && Object.entries(labels).every(([k, x]) => s.labels?.[k] === x))?.value;

describe.runIf(!missing)('bluetooth exporter, BlueZ source, against BlueZ mock on a private D-Bus', () => {
  it('reads the adapter and its devices, then follows them by signals: RSSI, power, removal', async () => {
    await bluez.addAdapter('hci0', 'server');
    const path = await bluez.addDevice('hci0', RUUVI, 'Ruuvi 89E4');
    const { runner } = exporter();
    await expect.poll(() => runner.status().up, { timeout: 10_000 }).toBe(true);
    const s = { scanner: ADAPTER };
    expect(v(runner, M.scannerInfo, { ...s, name: `hci0 (${ADAPTER})`, adapter: 'hci0', type: 'bluez', source: 'bluez' })).toBe(1);
    expect(v(runner, M.scannerPresent, s)).toBe(1);
    expect(v(runner, M.powered, s)).toBe(1);
    expect(v(runner, M.scanning, s)).toBe(0);
    expect(v(runner, M.scanRequested, s)).toBe(0); // a passive observer asks for nothing
    expect(v(runner, M.rssi, { address: RUUVI })).toBe(-79);
    expect(v(runner, M.deviceInfo, { address: RUUVI, name: 'greenhouse' })).toBe(1);
    expect(v(runner, M.devicePresent, { address: RUUVI })).toBe(1);
    // Read at the sync: not an advert received.
    expect(v(runner, M.scannerAdverts, s)).toBe(0);
    expect(v(runner, M.deviceAdverts, { address: RUUVI })).toBe(0);

    await bluez.update(path, 'org.bluez.Device1', { RSSI: new dbus.Variant('n', -61) });
    await expect.poll(() => v(runner, M.rssi, { address: RUUVI })).toBe(-61);
    expect(v(runner, M.scannerAdverts, s)).toBe(1);
    expect(v(runner, M.bestScanner, { address: RUUVI, scanner: ADAPTER })).toBe(1);

    // Discovery stopped elsewhere: BlueZ invalidates RSSI; the device stays known, its strength unknown.
    await bluez.invalidate(path, 'org.bluez.Device1', ['RSSI']);
    await expect.poll(() => v(runner, M.rssi, { address: RUUVI })).toBeUndefined();
    expect(v(runner, M.lastSeen, { address: RUUVI })).toBeGreaterThan(0);

    // A new device appears (InterfacesAdded): counted as an advert, not tracked (not listed, track_all off).
    await bluez.addDevice('hci0', 'AA:BB:CC:00:11:22', 'Phone');
    await expect.poll(() => v(runner, M.devices, { set: 'untracked' })).toBe(1);
    expect(v(runner, M.scannerAdverts, s)).toBe(2);
    expect(v(runner, M.rssi, { address: 'AA:BB:CC:00:11:22' })).toBeUndefined();

    await bluez.update('/org/bluez/hci0', 'org.bluez.Adapter1', { Powered: new dbus.Variant('b', false) });
    await expect.poll(() => v(runner, M.powered, s)).toBe(0);
    expect(v(runner, M.scanning, s)).toBe(0);

    // Removed (a temporary device 30 s after discovery stopped): not present, last seen kept.
    await bluez.removeDevice('hci0', path);
    await expect.poll(() => v(runner, M.devicePresent, { address: RUUVI })).toBe(0);
    expect(v(runner, M.lastSeen, { address: RUUVI })).toBeGreaterThan(0);
    expect(v(runner, M.bestScanner, { address: RUUVI, scanner: ADAPTER })).toBeUndefined();
  });

  it('with discovery: true, sets a filter and starts discovery, and starts it again after a power cycle', async () => {
    await bluez.addAdapter('hci0', 'server');
    const { runner } = exporter({ bluez: { discovery: true } });
    await expect.poll(() => v(runner, M.scanning, { scanner: ADAPTER }), { timeout: 10_000 }).toBe(1);
    expect(v(runner, M.scanRequested, { scanner: ADAPTER })).toBe(1);
    expect(await bluez.get('/org/bluez/hci0', 'org.bluez.Adapter1', 'Discovering')).toBe(true);
    // Powered off: discovery ends (BlueZ drops every session); powered on: HomeStation asks again.
    await bluez.update('/org/bluez/hci0', 'org.bluez.Adapter1', { Powered: new dbus.Variant('b', false), Discovering: new dbus.Variant('b', false) });
    await expect.poll(() => v(runner, M.scanning, { scanner: ADAPTER })).toBe(0);
    await bluez.update('/org/bluez/hci0', 'org.bluez.Adapter1', { Powered: new dbus.Variant('b', true) });
    await expect.poll(() => v(runner, M.scanning, { scanner: ADAPTER })).toBe(1);
  });

  it('keeps the last-known state while bluetoothd is gone, and resyncs when it is back', async () => {
    await bluez.addAdapter('hci0', 'server');
    await bluez.addDevice('hci0', RUUVI, 'Ruuvi 89E4');
    const { runner, lines } = exporter();
    await expect.poll(() => runner.status().up, { timeout: 10_000 }).toBe(true);
    await bluez.stopBluez();
    await expect.poll(() => runner.status().up).toBe(false);
    expect(runner.status().lastError?.message).toMatch(/bluetoothd is not running/);
    expect(v(runner, M.connected)).toBe(0);
    expect(v(runner, M.lastSeen, { address: RUUVI })).toBeGreaterThan(0); // last-known kept
    // bluetoothd back, without the device this time: it went while nobody listened.
    await bluez.startBluez();
    await bluez.addAdapter('hci0', 'server');
    await expect.poll(() => runner.status().up, { timeout: 10_000 }).toBe(true);
    expect(v(runner, M.reconnects)).toBe(1);
    expect(v(runner, M.devicePresent, { address: RUUVI })).toBe(0);
    expect(v(runner, M.scannerPresent, { scanner: ADAPTER })).toBe(1);
    expect(lines.some((l) => l.msg === 'BlueZ synced')).toBe(true);
  });

  it('reconnects when the system bus itself goes away and comes back', async () => {
    await bluez.addAdapter('hci0', 'server');
    const { runner } = exporter();
    await expect.poll(() => runner.status().up, { timeout: 10_000 }).toBe(true);
    await bluez.stopBus();
    await expect.poll(() => runner.status().up, { timeout: 5_000 }).toBe(false);
    expect(runner.status().lastError?.message).toMatch(/D-Bus connection was lost/);
    expect(v(runner, M.scannerPresent, { scanner: ADAPTER })).toBe(1); // last-known
    await bluez.startBus();
    await bluez.addAdapter('hci0', 'server');
    await expect.poll(() => runner.status().up, { timeout: 15_000 }).toBe(true);
    expect(v(runner, M.connected)).toBe(1);
  });

  it('counts a property of an unexpected type and keeps the rest', async () => {
    await bluez.addAdapter('hci0', 'server');
    const path = await bluez.addDevice('hci0', RUUVI, 'Ruuvi 89E4');
    const { runner } = exporter();
    await expect.poll(() => runner.status().up, { timeout: 10_000 }).toBe(true);
    await bluez.update(path, 'org.bluez.Device1', { RSSI: new dbus.Variant('s', 'strong'), TxPower: new dbus.Variant('n', 4) });
    await expect.poll(() => v(runner, M.unparsed, { what: 'property' })).toBe(1);
    expect(v(runner, M.txPower, { address: RUUVI })).toBe(4);
    expect(runner.status().up).toBe(true);
  });
});
