/**
 * Pure readers of Home Assistant's four bluetooth WebSocket subscriptions
 * (homeassistant/components/bluetooth/websocket_api.py; the models are habluetooth's
 * HaScannerDetails and HaBluetoothSlotAllocations). Each takes an event as it came
 * off the wire (unknown) and returns what it could read plus what it skipped:
 * one malformed item never costs the rest of its batch.
 */
import type { Advert, ScannerDetails } from '../model.js';
import type { Unparsed } from '../metrics.js';

/** habluetooth's HaScannerType values. */
export const HA_SCANNER_TYPES = new Set(['usb', 'uart', 'remote', 'unknown']);

export interface Parsed<T> {
  readonly items: T[];
  readonly skipped: Unparsed[];
  /** What was wrong, for the log (one line per distinct problem). */
  readonly problems: string[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
/** Bluetooth addresses compare upper-case (HA sends them so; config and BlueZ may not). */
export const normalizeAddress = (a: string) => a.trim().toUpperCase();

function result<T>(): Parsed<T> & { items: T[]; skipped: Unparsed[]; problems: string[] } {
  return { items: [], skipped: [], problems: [] };
}

/** bluetooth/subscribe_scanner_details: {"add": [details]} or {"remove": [details]}. */
export function parseScannerDetails(event: unknown): Parsed<{ action: 'add' | 'remove'; details: ScannerDetails }> {
  const out = result<{ action: 'add' | 'remove'; details: ScannerDetails }>();
  const action = isObj(event) ? (Array.isArray(event.add) ? 'add' : Array.isArray(event.remove) ? 'remove' : undefined) : undefined;
  if (!action || !isObj(event)) {
    out.skipped.push('event');
    out.problems.push('scanner details event without an add or remove list');
    return out;
  }
  for (const d of event[action] as unknown[]) {
    const source = isObj(d) ? str(d.source) : undefined;
    if (!isObj(d) || !source) {
      out.skipped.push('event');
      out.problems.push('scanner details without a source');
      continue;
    }
    let type = str(d.scanner_type) ?? 'unknown';
    if (!HA_SCANNER_TYPES.has(type)) {
      out.skipped.push('scanner_type');
      out.problems.push(`unknown scanner_type ${JSON.stringify(type).slice(0, 40)}, reported as unknown`);
      type = 'unknown';
    }
    const adapter = str(d.adapter) ?? '';
    out.items.push({
      action,
      details: { source: normalizeAddress(source), name: str(d.name) ?? adapter, adapter, type, connectable: d.connectable === true },
    });
  }
  return out;
}

export interface ScannerState {
  readonly source: string;
  readonly scanning: boolean;
  readonly requested: boolean;
  readonly currentMode: string | null;
  readonly requestedMode: string | null;
}

/** bluetooth/subscribe_scanner_state: one scanner's modes; current_mode null = not scanning. */
export function parseScannerState(event: unknown): Parsed<ScannerState> {
  const out = result<ScannerState>();
  const source = isObj(event) ? str(event.source) : undefined;
  const mode = (v: unknown) => (v === null || v === undefined ? null : str(v));
  if (!isObj(event) || !source || mode(event.current_mode) === undefined || mode(event.requested_mode) === undefined) {
    out.skipped.push('event');
    out.problems.push('scanner state event without a source, or with modes that are not strings or null');
    return out;
  }
  const currentMode = mode(event.current_mode) as string | null;
  const requestedMode = mode(event.requested_mode) as string | null;
  out.items.push({ source: normalizeAddress(source), scanning: currentMode !== null, requested: requestedMode !== null, currentMode, requestedMode });
  return out;
}

export interface Allocation {
  readonly source: string;
  readonly slots: number;
  readonly free: number;
}

/** bluetooth/subscribe_connection_allocations: a list of {source, slots, free, allocated}. */
export function parseAllocations(event: unknown): Parsed<Allocation> {
  const out = result<Allocation>();
  if (!Array.isArray(event)) {
    out.skipped.push('event');
    out.problems.push('connection allocations event that is not a list');
    return out;
  }
  for (const a of event as unknown[]) {
    const source = isObj(a) ? str(a.source) : undefined;
    const slots = isObj(a) ? num(a.slots) : undefined;
    const free = isObj(a) ? num(a.free) : undefined;
    if (!source || slots === undefined || free === undefined) {
      out.skipped.push('event');
      out.problems.push('connection allocation without a source, slots or free');
      continue;
    }
    out.items.push({ source: normalizeAddress(source), slots, free });
  }
  return out;
}

const HEX = /^(?:[0-9a-fA-F]{2})*$/;

/** bluetooth/subscribe_advertisements: {"add": [service info]} or {"remove": [{address}]}. */
export function parseAdvertisements(event: unknown, live: boolean): Parsed<{ advert: Advert } | { removed: string }> {
  const out = result<{ advert: Advert } | { removed: string }>();
  if (isObj(event) && Array.isArray(event.remove)) {
    for (const r of event.remove as unknown[]) {
      const address = isObj(r) ? str(r.address) : undefined;
      if (address) out.items.push({ removed: normalizeAddress(address) });
      else {
        out.skipped.push('event');
        out.problems.push('advertisement remove without an address');
      }
    }
    return out;
  }
  if (!isObj(event) || !Array.isArray(event.add)) {
    out.skipped.push('event');
    out.problems.push('advertisement event without an add or remove list');
    return out;
  }
  for (const a of event.add as unknown[]) {
    const address = isObj(a) ? str(a.address) : undefined;
    const source = isObj(a) ? str(a.source) : undefined;
    const time = isObj(a) ? num(a.time) : undefined;
    if (!isObj(a) || !address || !source || time === undefined) {
      out.skipped.push('event');
      out.problems.push('advertisement without an address, source or time');
      continue;
    }
    let company: string | undefined;
    if (a.manufacturer_data !== undefined && a.manufacturer_data !== null) {
      const md = isObj(a.manufacturer_data) ? Object.entries(a.manufacturer_data) : undefined;
      const good = md?.filter(([id, hex]) => /^\d{1,5}$/.test(id) && Number(id) <= 0xffff && typeof hex === 'string' && HEX.test(hex));
      if (!md || !good || good.length !== md.length) {
        out.skipped.push('manufacturer_data');
        out.problems.push('manufacturer_data that is not {decimal company id: hex}');
      }
      const first = good?.[0];
      if (first) company = `0x${Number(first[0]).toString(16).padStart(4, '0')}`;
    }
    if (a.service_data !== undefined && a.service_data !== null) {
      const sd = isObj(a.service_data) ? Object.values(a.service_data) : undefined;
      if (!sd || sd.some((hex) => typeof hex !== 'string' || !HEX.test(hex))) {
        out.skipped.push('service_data');
        out.problems.push('service_data that is not {uuid: hex}');
      }
    }
    // habluetooth names a device that advertises no name by its address: that is no name.
    const name = str(a.name);
    const rssi = num(a.rssi);
    const txPower = num(a.tx_power);
    out.items.push({
      advert: {
        address: normalizeAddress(address),
        source: normalizeAddress(source),
        time: time * 1000,
        name: name && normalizeAddress(name).replace(/-/g, ':') !== normalizeAddress(address) ? name : null,
        rssi: rssi ?? null,
        txPower: txPower ?? null,
        connectable: typeof a.connectable === 'boolean' ? a.connectable : undefined,
        company,
        live,
      },
    });
  }
  return out;
}
