/**
 * Pure state of one bluetooth instance: the scanners and devices its source told
 * of, kept across disconnects (a resync marks what went away while HomeStation was
 * not listening), read as samples at scrape time. Both sources feed it the same
 * calls; time comes in as arguments, so tests drive it without a clock.
 */
import type { Sample } from '../../collector/contract.js';
import { M, UNPARSED, type Unparsed } from './metrics.js';

export interface ListedDevice {
  readonly name?: string;
  readonly silentAfterMs: number;
}

export interface ModelOptions {
  readonly source: 'homeassistant' | 'bluez';
  /** Listed devices by upper-case address: always tracked, with a silent threshold. */
  readonly listed: ReadonlyMap<string, ListedDevice>;
  /** Track devices that are not listed too, up to maxDevices. */
  readonly trackAll: boolean;
  readonly maxDevices: number;
  /** Unheard this long: not present (RSSI and best scanner withdrawn, last seen kept). */
  readonly deviceTtlMs: number;
  /** A device that is not listed and unheard this long is forgotten (its series go). */
  readonly forgetAfterMs: number;
}

export interface ScannerDetails {
  readonly source: string;
  readonly name: string;
  readonly adapter: string;
  readonly type: string;
  readonly connectable: boolean;
}

/** One advert as either source reports it; `time` in ms since the epoch. */
export interface Advert {
  readonly address: string;
  readonly source: string;
  readonly time: number;
  readonly name?: string | null;
  readonly rssi?: number | null;
  readonly txPower?: number | null;
  readonly connectable?: boolean;
  /** The company id of the manufacturer data, as 0x004c, where there is some. */
  readonly company?: string;
  /** A live advert counts; one replayed from the source's history at a sync does not. */
  readonly live: boolean;
}

interface Scanner {
  details?: ScannerDetails;
  present: boolean;
  /** When it went away (ms), so that one removed for good is forgotten after forget_after. */
  goneSince?: number;
  scanning?: boolean;
  requested?: boolean;
  powered?: boolean;
  adverts: number;
  lastAdvert?: number;
  slots?: number;
  free?: number;
  epoch: number;
}

interface Device {
  readonly listed: boolean;
  advertisedName?: string;
  company: string;
  connectable?: boolean;
  rssi?: number;
  txPower?: number;
  lastSeen?: number;
  scanner?: string;
  removed: boolean;
  adverts: number;
  epoch: number;
}

export class BluetoothModel {
  private readonly scanners = new Map<string, Scanner>();
  private readonly devices = new Map<string, Device>();
  /** Heard but given no series (not listed and track_all off, or over budget): address -> last heard. */
  private readonly untracked = new Map<string, number>();
  private readonly unparsed = new Map<Unparsed, number>(UNPARSED.map((w) => [w, 0]));
  private registryNames = new Map<string, string>();
  private epoch = 0;
  private syncing = false;
  listeningSince: number | undefined;
  reconnects = 0;

  constructor(private readonly o: ModelOptions) {
    for (const address of o.listed.keys()) this.devices.set(address, newDevice(true, 0));
  }

  /** A (re)sync starts: what the source does not report again before endSync went away meanwhile. */
  beginSync(): void {
    this.epoch += 1;
    this.syncing = true;
  }

  endSync(now: number): void {
    this.syncing = false;
    this.listeningSince ??= now;
    for (const [source, s] of this.scanners) if (s.epoch !== this.epoch && s.present) this.scannerRemoved(source, now);
    for (const d of this.devices.values()) if (d.epoch !== this.epoch && d.lastSeen !== undefined) d.removed = true;
  }

  countUnparsed(what: Unparsed, n = 1): void {
    this.unparsed.set(what, (this.unparsed.get(what) ?? 0) + n);
  }

  /**
   * The scanner's state holder. `registered`: the source reported the scanner itself
   * (details, modes, slots), so it is there now; an advert is not that: HA's history
   * replays adverts of scanners that have since gone.
   */
  private scanner(source: string, registered = true): Scanner {
    let s = this.scanners.get(source);
    if (!s) {
      s = { present: true, adverts: 0, epoch: this.epoch };
      this.scanners.set(source, s);
    }
    if (registered) s.epoch = this.epoch;
    return s;
  }

  scannerAdded(details: ScannerDetails): void {
    const s = this.scanner(details.source);
    s.details = details;
    s.present = true;
    s.goneSince = undefined;
  }

  scannerRemoved(source: string, now: number): void {
    const s = this.scanners.get(source);
    if (!s) return;
    s.present = false;
    s.goneSince ??= now;
    s.scanning = undefined;
    s.requested = undefined;
    // Its slots go with it: a removed proxy's last allocation would read "exhausted" for ever.
    s.slots = undefined;
    s.free = undefined;
  }

  scannerState(source: string, scanning: boolean, requested: boolean): void {
    const s = this.scanner(source);
    s.scanning = scanning;
    s.requested = requested;
  }

  scannerPowered(source: string, powered: boolean): void {
    this.scanner(source).powered = powered;
  }

  allocations(source: string, slots: number, free: number): void {
    const s = this.scanner(source);
    s.slots = slots;
    s.free = free;
  }

  /** Bluetooth address -> name from the HA device registry. */
  setRegistryNames(names: Map<string, string>): void {
    this.registryNames = names;
  }

  /** Devices heard and given no series (the budget's overflow when track_all is on). */
  untrackedCount(): number {
    return this.untracked.size;
  }

  advert(a: Advert, now: number): void {
    const time = Math.min(a.time, now); // another host's clock ahead of ours is not "seen in the future"
    const s = this.scanner(a.source, false);
    if (a.live) s.adverts += 1;
    if (s.lastAdvert === undefined || time > s.lastAdvert) s.lastAdvert = time;
    const d = this.device(a.address, time);
    if (!d) return;
    d.epoch = this.epoch;
    if (a.live) d.adverts += 1;
    if (a.name) d.advertisedName ??= a.name;
    if (a.company) d.company = a.company;
    if (a.connectable !== undefined) d.connectable = a.connectable;
    if (d.lastSeen !== undefined && time < d.lastSeen) return; // an older report than what we have
    d.removed = false;
    d.lastSeen = time;
    d.scanner = a.source;
    if (a.rssi !== undefined) d.rssi = a.rssi ?? undefined;
    if (a.txPower !== undefined) d.txPower = a.txPower ?? undefined;
  }

  /** The device's series holder, or undefined when it gets none (then counted as untracked). */
  private device(address: string, time: number): Device | undefined {
    const known = this.devices.get(address);
    if (known) return known;
    if (this.o.trackAll && this.trackedOthers() < this.o.maxDevices) {
      const d = newDevice(false, this.epoch);
      this.devices.set(address, d);
      this.untracked.delete(address);
      return d;
    }
    // Re-inserted so that the map's order is oldest first; bounded however many random addresses come by.
    this.untracked.delete(address);
    this.untracked.set(address, time);
    const cap = Math.max(1000, 10 * this.o.maxDevices);
    if (this.untracked.size > cap) this.untracked.delete(this.untracked.keys().next().value as string);
    return undefined;
  }

  private trackedOthers(): number {
    return this.devices.size - this.o.listed.size;
  }

  /** The source still knows the device (BlueZ's cache) though it is not heard now: not gone at endSync. */
  deviceKnown(address: string, props: { name?: string; txPower?: number; company?: string } = {}): void {
    const d = this.devices.get(address);
    if (!d) return;
    d.epoch = this.epoch;
    if (props.name) d.advertisedName ??= props.name;
    if (props.txPower !== undefined) d.txPower = props.txPower;
    if (props.company) d.company = props.company;
  }

  /** BlueZ dropped the RSSI (discovery stopped): the strength is unknown, the device still known. */
  rssiLost(address: string): void {
    const d = this.devices.get(address);
    if (d) d.rssi = undefined;
  }

  deviceRemoved(address: string): void {
    const d = this.devices.get(address);
    if (d) {
      d.removed = true;
      d.rssi = undefined;
      d.scanner = undefined;
    }
    this.untracked.delete(address);
  }

  private nameOf(address: string, d: Device): string {
    return this.o.listed.get(address)?.name ?? this.registryNames.get(address) ?? d.advertisedName ?? '';
  }

  /** Forgets scanners and devices (not listed ones) that left long ago, and untracked ones past their TTL. */
  private prune(now: number): void {
    for (const [source, s] of this.scanners) if (s.goneSince !== undefined && now - s.goneSince > this.o.forgetAfterMs) this.scanners.delete(source);
    for (const [address, d] of this.devices) {
      if (!d.listed && d.lastSeen !== undefined && now - d.lastSeen > this.o.forgetAfterMs) this.devices.delete(address);
    }
    for (const [address, t] of this.untracked) {
      if (now - t > this.o.deviceTtlMs) this.untracked.delete(address);
    }
  }

  snapshot(now: number, connected: boolean): Sample[] {
    this.prune(now);
    const out: Sample[] = [];
    const push = (metric: string, labels: Record<string, string>, value: number | undefined) => {
      if (value !== undefined) out.push({ metric, labels, value });
    };
    const bool = (b: boolean | undefined) => (b === undefined ? undefined : b ? 1 : 0);
    push(M.connected, {}, connected && !this.syncing ? 1 : 0);
    if (this.listeningSince !== undefined) push(M.listeningSince, {}, this.listeningSince / 1000);
    push(M.reconnects, {}, this.reconnects);
    for (const [scanner, s] of this.scanners) {
      const l = { scanner };
      if (s.details) {
        const d = s.details;
        push(M.scannerInfo, { scanner, name: d.name, adapter: d.adapter, type: d.type, source: this.o.source, connectable: String(d.connectable) }, 1);
      }
      push(M.scannerPresent, l, s.present ? 1 : 0);
      push(M.scanning, l, bool(s.scanning));
      push(M.scanRequested, l, bool(s.requested));
      push(M.powered, l, bool(s.powered));
      push(M.scannerAdverts, l, s.adverts);
      push(M.scannerLastAdvert, l, s.lastAdvert === undefined ? undefined : s.lastAdvert / 1000);
      push(M.slots, l, s.slots);
      push(M.slotsFree, l, s.free);
    }
    let listed = 0;
    let other = 0;
    for (const [address, d] of this.devices) {
      if (d.listed) listed += 1;
      else other += 1;
      const l = { address };
      const present = !d.removed && d.lastSeen !== undefined && now - d.lastSeen <= this.o.deviceTtlMs;
      push(M.deviceInfo, { address, name: this.nameOf(address, d), company: d.company, connectable: d.connectable === undefined ? '' : String(d.connectable) }, 1);
      push(M.devicePresent, l, present ? 1 : 0);
      if (present) {
        push(M.rssi, l, d.rssi);
        if (d.scanner !== undefined) push(M.bestScanner, { address, scanner: d.scanner }, 1);
      }
      push(M.txPower, l, d.txPower);
      push(M.lastSeen, l, d.lastSeen === undefined ? undefined : d.lastSeen / 1000);
      push(M.deviceAdverts, l, d.adverts);
      const listedDevice = this.o.listed.get(address);
      if (listedDevice) push(M.silentThreshold, l, listedDevice.silentAfterMs / 1000);
    }
    push(M.devices, { set: 'listed' }, listed);
    push(M.devices, { set: 'other' }, other);
    push(M.devices, { set: 'untracked' }, this.untracked.size);
    for (const [what, n] of this.unparsed) push(M.unparsed, { what }, n);
    return out;
  }
}

function newDevice(listed: boolean, epoch: number): Device {
  return { listed, company: '', removed: false, adverts: 0, epoch };
}
