/** The model alone, on a clock the test owns: presence and expiry, the budget, resyncs. */
import { describe, expect, it } from 'vitest';
import type { Sample } from '../../collector/contract.js';
import { M, UNPARSED } from './metrics.js';
import { BluetoothModel, type Advert, type ModelOptions } from './model.js';

const LISTED = 'C4:7C:8D:6C:89:E4';
const SCANNER = 'AC:BC:32:89:0E:AA';
const T0 = Date.parse('2026-11-26T00:00:00Z');
const MIN = 60_000;

function model(over: Partial<ModelOptions> = {}): BluetoothModel {
  return new BluetoothModel({
    source: 'homeassistant',
    listed: new Map([[LISTED, { name: 'greenhouse', silentAfterMs: 30 * MIN }]]),
    trackAll: true,
    maxDevices: 2,
    deviceTtlMs: 5 * MIN,
    forgetAfterMs: 60 * MIN,
    ...over,
  });
}
const ad = (address: string, time: number, over: Partial<Advert> = {}): Advert => ({ address, source: SCANNER, time, rssi: -70, live: true, ...over });
const v = (samples: Sample[], metric: string, labels: Record<string, string> = {}) =>
  samples.find((s) => s.metric === metric && Object.entries(labels).every(([k, x]) => s.labels?.[k] === x))?.value;

describe('bluetooth model', () => {
  it('has every counter at 0 and a listed device known before it is ever heard (no last-seen time)', () => {
    const m = model();
    m.beginSync();
    m.endSync(T0);
    const s = m.snapshot(T0, true);
    for (const what of UNPARSED) expect(v(s, M.unparsed, { what })).toBe(0);
    expect(v(s, M.deviceInfo, { address: LISTED, name: 'greenhouse' })).toBe(1);
    expect(v(s, M.deviceAdverts, { address: LISTED })).toBe(0);
    expect(v(s, M.devicePresent, { address: LISTED })).toBe(0);
    expect(v(s, M.silentThreshold, { address: LISTED })).toBe(1800);
    expect(v(s, M.lastSeen, { address: LISTED })).toBeUndefined();
    expect(v(s, M.listeningSince)).toBe(T0 / 1000);
    expect(v(s, M.reconnects)).toBe(0);
    expect(v(s, M.connected)).toBe(1);
  });

  it('is connected only once a sync has ended', () => {
    const m = model();
    m.beginSync();
    expect(v(m.snapshot(T0, true), M.connected)).toBe(0);
    m.endSync(T0);
    expect(v(m.snapshot(T0, false), M.connected)).toBe(0);
  });

  it('withdraws RSSI and the best scanner after device_ttl, keeping the last-seen time', () => {
    const m = model();
    m.advert(ad(LISTED, T0), T0);
    let s = m.snapshot(T0 + 5 * MIN, true);
    expect(v(s, M.devicePresent, { address: LISTED })).toBe(1);
    expect(v(s, M.rssi, { address: LISTED })).toBe(-70);
    expect(v(s, M.bestScanner, { address: LISTED, scanner: SCANNER })).toBe(1);
    s = m.snapshot(T0 + 5 * MIN + 1, true);
    expect(v(s, M.devicePresent, { address: LISTED })).toBe(0);
    expect(v(s, M.rssi, { address: LISTED })).toBeUndefined();
    expect(v(s, M.bestScanner, { address: LISTED, scanner: SCANNER })).toBeUndefined();
    expect(v(s, M.lastSeen, { address: LISTED })).toBe(T0 / 1000);
  });

  it('tracks others up to max_devices, counts the rest, and forgets others that left long ago (never a listed one)', () => {
    const m = model();
    for (const [i, a] of ['AA:00:00:00:00:01', 'AA:00:00:00:00:02', 'AA:00:00:00:00:03'].entries()) m.advert(ad(a, T0 + i), T0 + i);
    m.advert(ad(LISTED, T0), T0);
    let s = m.snapshot(T0 + 10, true);
    expect([v(s, M.devices, { set: 'listed' }), v(s, M.devices, { set: 'other' }), v(s, M.devices, { set: 'untracked' })]).toEqual([1, 2, 1]);
    expect(v(s, M.rssi, { address: 'AA:00:00:00:00:03' })).toBeUndefined();
    // The scanner counts every advert it delivered, tracked or not.
    expect(v(s, M.scannerAdverts, { scanner: SCANNER })).toBe(4);
    s = m.snapshot(T0 + 61 * MIN, true);
    expect([v(s, M.devices, { set: 'listed' }), v(s, M.devices, { set: 'other' }), v(s, M.devices, { set: 'untracked' })]).toEqual([1, 0, 0]);
    expect(v(s, M.lastSeen, { address: LISTED })).toBe(T0 / 1000);
    // Room again: a new device gets series.
    m.advert(ad('AA:00:00:00:00:09', T0 + 62 * MIN), T0 + 62 * MIN);
    expect(v(m.snapshot(T0 + 62 * MIN, true), M.devicePresent, { address: 'AA:00:00:00:00:09' })).toBe(1);
  });

  it('keeps the untracked set bounded however many random addresses pass by', () => {
    const m = model({ trackAll: false });
    for (let i = 0; i < 5000; i++) m.advert(ad(`RA:ND:${i}`, T0), T0);
    expect(v(m.snapshot(T0, true), M.devices, { set: 'untracked' })).toBe(1000);
  });

  it('does not see a device in the future when the source clock runs ahead, nor let an old report replace a newer one', () => {
    const m = model();
    m.advert(ad(LISTED, T0 + 10 * MIN, { rssi: -60 }), T0);
    expect(v(m.snapshot(T0, true), M.lastSeen, { address: LISTED })).toBe(T0 / 1000);
    m.advert(ad(LISTED, T0 - MIN, { rssi: -90, source: 'OTHER', live: false }), T0);
    const s = m.snapshot(T0, true);
    expect(v(s, M.rssi, { address: LISTED })).toBe(-60);
    expect(v(s, M.bestScanner, { address: LISTED, scanner: SCANNER })).toBe(1);
    expect(v(s, M.deviceAdverts, { address: LISTED })).toBe(1); // the replayed one is not counted
  });

  it('marks at the end of a resync the scanners and devices the source no longer has', () => {
    const m = model();
    m.beginSync();
    m.scannerAdded({ source: SCANNER, name: 'proxy', adapter: 'proxy', type: 'remote', connectable: true });
    m.scannerAdded({ source: 'OTHER', name: 'usb', adapter: 'hci0', type: 'usb', connectable: true });
    m.advert(ad(LISTED, T0), T0);
    m.endSync(T0);
    m.beginSync();
    m.scannerAdded({ source: 'OTHER', name: 'usb', adapter: 'hci0', type: 'usb', connectable: true });
    m.endSync(T0 + MIN);
    const s = m.snapshot(T0 + MIN, true);
    expect(v(s, M.scannerPresent, { scanner: SCANNER })).toBe(0);
    expect(v(s, M.scannerPresent, { scanner: 'OTHER' })).toBe(1);
    expect(v(s, M.devicePresent, { address: LISTED })).toBe(0);
    expect(v(s, M.lastSeen, { address: LISTED })).toBe(T0 / 1000);
    expect(v(s, M.scannerAdverts, { scanner: SCANNER })).toBe(1);
    expect(v(s, M.listeningSince)).toBe(T0 / 1000); // the first sync, not the last
  });
});

describe('bluetooth model: scanners that went away', () => {
  it('keeps a removed scanner at present 0 (its counter kept, its slots gone) and forgets it after forget_after', () => {
    const m = model();
    m.scannerAdded({ source: SCANNER, name: 'proxy', adapter: 'proxy', type: 'remote', connectable: true });
    m.allocations(SCANNER, 3, 0);
    m.scannerRemoved(SCANNER, T0);
    let s = m.snapshot(T0 + 60 * MIN, true);
    expect(v(s, M.scannerPresent, { scanner: SCANNER })).toBe(0);
    expect(v(s, M.scannerAdverts, { scanner: SCANNER })).toBe(0);
    expect(v(s, M.slotsFree, { scanner: SCANNER })).toBeUndefined();
    s = m.snapshot(T0 + 60 * MIN + 1, true);
    expect(v(s, M.scannerPresent, { scanner: SCANNER })).toBeUndefined();
  });
});

describe('bluetooth model: a resync with history of a scanner that went', () => {
  it('does not take a replayed advert from a scanner for the scanner being there', () => {
    const m = model();
    m.beginSync();
    m.scannerAdded({ source: SCANNER, name: 'proxy', adapter: 'proxy', type: 'remote', connectable: true });
    m.endSync(T0);
    m.beginSync();
    m.advert(ad(LISTED, T0 - MIN, { live: false }), T0);
    m.endSync(T0);
    expect(v(m.snapshot(T0, true), M.scannerPresent, { scanner: SCANNER })).toBe(0);
  });
});
