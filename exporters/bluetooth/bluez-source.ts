/**
 * The BlueZ source: a local adapter followed on the system D-Bus. node-ble opens the
 * session (DBUS_SYSTEM_BUS_ADDRESS, else the system bus socket); node-ble's own API
 * reads properties by polling, so the exporter subscribes on that session's
 * connection instead: one GetManagedObjects at each (re)sync, then ObjectManager's
 * InterfacesAdded/Removed and PropertiesChanged under /org/bluez, and the
 * NameOwnerChanged of org.bluez (bluetoothd restarting). Nothing is polled.
 *
 * BlueZ's behaviour this follows (doc/org.bluez.Adapter.rst, Device.rst): without a
 * discovery filter an RSSI change under 8 dBm is not signalled; RSSI is invalidated
 * when discovery stops; a device that is not paired is removed 30 s after discovery
 * stops (TemporaryTimeout). Discovery is started only with `discovery: true`, with
 * a filter (DuplicateData) so that every advert is signalled.
 */
import type { MessageBus, Message as DbusMessage } from 'dbus-next';
import { ExporterError, type InstanceContext } from '../../collector/contract.js';
import type { WarnOnce } from '../../collector/warn-once.js';
import type { BluetoothConfig } from './index.js';
import type { BluetoothModel } from './model.js';
import { ADAPTER_IFACE, DEVICE_IFACE, addressOfPath, adapterOfPath, readAdapter, readDevice, type Props } from './parse/bluez.js';
import type { BluetoothSource } from './source.js';

type BluezOptions = NonNullable<BluetoothConfig['bluez']>;
type DbusModule = typeof import('dbus-next');

const MATCH_RULES = [
  "type='signal',sender='org.bluez',interface='org.freedesktop.DBus.ObjectManager',path='/'",
  "type='signal',sender='org.bluez',interface='org.freedesktop.DBus.Properties',member='PropertiesChanged',path_namespace='/org/bluez'",
  "type='signal',sender='org.freedesktop.DBus',interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0='org.bluez'",
];

export class BluezSource implements BluetoothSource {
  private dbus: DbusModule | undefined;
  private bus: MessageBus | undefined;
  private destroy: (() => void) | undefined;
  private isSynced = false;
  private everSynced = false;
  private stopped = false;
  private failure: ExporterError | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private backoff = 1000;
  /** hci0 -> its address (a scanner's identity), for the adapters this instance watches. */
  private readonly adapters = new Map<string, string>();
  /** Bumped at each connection: the late answers of an old one are dropped. */
  private generation = 0;

  constructor(
    private readonly ctx: InstanceContext,
    private readonly o: BluezOptions,
    private readonly model: BluetoothModel,
    private readonly warn: WarnOnce,
  ) {}

  async start(): Promise<void> {
    this.dbus = await import('dbus-next');
    await this.connect();
  }

  private fail(reason: ExporterError['reason'], message: string, hint: string): void {
    this.isSynced = false;
    this.failure = new ExporterError(reason, message, { hint });
    this.ctx.reportError(this.failure);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const generation = ++this.generation;
    const { createBluetooth } = await import('node-ble');
    const session = createBluetooth();
    // node-ble's session keeps its dbus-next connection here (src/Bluetooth.js); its typings do not say so.
    const bus = (session.bluetooth as unknown as { dbus: MessageBus }).dbus;
    this.bus = bus;
    this.destroy = session.destroy;
    const lost = (why: string) => {
      if (generation !== this.generation || this.stopped) return;
      this.generation += 1; // this connection is over
      this.fail('unreachable', `the system D-Bus connection was lost: ${why}`, 'is dbus running? HomeStation reconnects by itself');
      try {
        session.destroy();
      } catch {
        // already closed
      }
      this.reconnectTimer = setTimeout(() => void this.connect(), this.backoff);
      this.backoff = Math.min(this.backoff * 2, 30_000);
    };
    bus.on('error', (err: Error) => lost(err.message));
    // dbus-next's MessageBus does not forward the socket's end; its connection does.
    (bus as unknown as { _connection?: NodeJS.EventEmitter })._connection?.on('end', () => lost('the bus closed the connection'));
    bus.on('message', (m: DbusMessage) => {
      if (generation === this.generation) this.onSignal(m);
    });
    try {
      for (const rule of MATCH_RULES) await this.call({ destination: 'org.freedesktop.DBus', path: '/org/freedesktop/DBus', interface: 'org.freedesktop.DBus', member: 'AddMatch', signature: 's', body: [rule] });
    } catch (err) {
      lost((err as Error).message);
      return;
    }
    this.backoff = 1000;
    await this.resync(generation);
  }

  private async call(m: { destination: string; path: string; interface: string; member: string; signature?: string; body?: unknown[] }): Promise<DbusMessage | null> {
    const { Message } = this.dbus as DbusModule;
    const bus = this.bus as MessageBus;
    return bus.call(new Message(m));
  }

  private watched(adapter: string | undefined): adapter is string {
    return adapter !== undefined && (this.o.adapters.length === 0 || this.o.adapters.includes(adapter));
  }

  /** Everything BlueZ has, from scratch: at connect and whenever bluetoothd (re)appears. */
  private async resync(generation: number): Promise<void> {
    this.isSynced = false;
    let reply: DbusMessage | null;
    try {
      reply = await this.call({ destination: 'org.bluez', path: '/', interface: 'org.freedesktop.DBus.ObjectManager', member: 'GetManagedObjects' });
    } catch (err) {
      if (generation !== this.generation) return;
      const type = (err as { type?: string }).type ?? '';
      if (type === 'org.freedesktop.DBus.Error.ServiceUnknown' || type === 'org.freedesktop.DBus.Error.NameHasNoOwner') {
        this.noBluez();
      } else this.fail('other', `BlueZ did not answer GetManagedObjects: ${(err as Error).message}`, 'see journalctl -u bluetooth');
      return;
    }
    if (generation !== this.generation) return;
    if (this.everSynced) this.model.reconnects += 1;
    this.model.beginSync();
    this.adapters.clear();
    const objects = (reply?.body[0] ?? {}) as Record<string, Record<string, Props>>;
    const paths = Object.keys(objects).sort(); // adapters (/org/bluez/hci0) before their devices
    for (const path of paths) {
      const ifaces = objects[path] as Record<string, Props>;
      if (ifaces[ADAPTER_IFACE]) this.adapterAdded(path, ifaces[ADAPTER_IFACE]);
      if (ifaces[DEVICE_IFACE]) this.deviceReport(path, ifaces[DEVICE_IFACE], false);
    }
    this.model.endSync(this.ctx.now());
    if (this.adapters.size === 0) {
      const which = this.o.adapters.length ? this.o.adapters.join(', ') : 'any adapter';
      this.warn.warn(`no-adapter:${which}`, { adapters: this.o.adapters }, 'BlueZ has no adapter to watch; waiting for one to appear');
    }
    this.failure = undefined;
    this.isSynced = true;
    this.everSynced = true;
    this.ctx.reportSuccess();
    this.ctx.log.info({ adapters: [...this.adapters.keys()] }, 'BlueZ synced');
    if (this.o.discovery) for (const hci of this.adapters.keys()) void this.discover(hci);
  }

  private noBluez(): void {
    this.fail('unreachable', 'BlueZ (org.bluez) is not on the system D-Bus: bluetoothd is not running', 'start it (systemctl start bluetooth); HomeStation resyncs when it appears');
  }

  private adapterAdded(path: string, props: Props): void {
    const hci = adapterOfPath(path);
    if (!this.watched(hci)) return;
    const { value: a, skipped } = readAdapter(props);
    this.count(skipped);
    if (!a.address) return;
    this.adapters.set(hci, a.address);
    this.model.scannerAdded({ source: a.address, name: `${hci} (${a.address})`, adapter: hci, type: 'bluez', connectable: true });
    this.adapterChanged(hci, a.address, a.powered, a.discovering);
  }

  private adapterChanged(hci: string, address: string, powered: boolean | undefined, discovering: boolean | undefined): void {
    if (powered !== undefined) this.model.scannerPowered(address, powered);
    if (discovering !== undefined || powered !== undefined) {
      const scanning = discovering ?? (powered === false ? false : undefined);
      if (scanning !== undefined) this.model.scannerState(address, scanning, this.o.discovery);
    }
    // Powering off ends every discovery session; ours is started again when the power comes back.
    if (this.o.discovery && powered === true) void this.discover(hci);
  }

  private async discover(hci: string): Promise<void> {
    const path = `/org/bluez/${hci}`;
    const { Variant } = this.dbus as DbusModule;
    try {
      // A filter lifts BlueZ's 8 dBm RSSI threshold; DuplicateData signals every advert.
      await this.call({ destination: 'org.bluez', path, interface: ADAPTER_IFACE, member: 'SetDiscoveryFilter', signature: 'a{sv}', body: [{ Transport: new Variant('s', 'le'), DuplicateData: new Variant('b', true) }] });
      await this.call({ destination: 'org.bluez', path, interface: ADAPTER_IFACE, member: 'StartDiscovery' });
    } catch (err) {
      const type = (err as { type?: string }).type ?? '';
      if (type === 'org.bluez.Error.InProgress') return; // ours already runs
      this.warn.warn(`discover:${hci}:${type}`, { adapter: hci, err: (err as Error).message }, 'could not start discovery on the adapter');
    }
  }

  private deviceReport(path: string, props: Props, live: boolean): void {
    const hci = adapterOfPath(path);
    const source = hci === undefined ? undefined : this.adapters.get(hci);
    if (!source) return;
    const { value: d, skipped } = readDevice(props);
    this.count(skipped);
    const address = d.address ?? addressOfPath(path);
    if (!address) return;
    if (d.advert) {
      this.model.advert({ address, source, time: this.ctx.now(), name: d.name ?? null, rssi: d.rssi, txPower: d.txPower, company: d.company, live }, this.ctx.now());
    } else this.model.deviceKnown(address, { name: d.name, txPower: d.txPower, company: d.company });
  }

  private count(skipped: readonly import('./metrics.js').Unparsed[]): void {
    for (const what of skipped) {
      this.model.countUnparsed(what);
      this.warn.warn(`bluez:${what}`, { what }, 'BlueZ sent a property HomeStation could not read; skipped, the rest kept');
    }
  }

  private onSignal(m: DbusMessage): void {
    if (m.type !== 4 /* SIGNAL */) return;
    const body = m.body as unknown[];
    if (m.interface === 'org.freedesktop.DBus' && m.member === 'NameOwnerChanged' && body[0] === 'org.bluez') {
      if (body[2]) void this.resync(this.generation);
      else this.noBluez();
      return;
    }
    if (m.interface === 'org.freedesktop.DBus.ObjectManager' && m.member === 'InterfacesAdded') {
      const [path, ifaces] = body as [string, Record<string, Props>];
      if (ifaces[ADAPTER_IFACE]) {
        this.adapterAdded(path, ifaces[ADAPTER_IFACE]);
        const hci = adapterOfPath(path);
        if (this.o.discovery && hci && this.adapters.has(hci)) void this.discover(hci);
      }
      if (ifaces[DEVICE_IFACE]) this.deviceReport(path, ifaces[DEVICE_IFACE], true);
      this.ctx.reportSuccess();
      return;
    }
    if (m.interface === 'org.freedesktop.DBus.ObjectManager' && m.member === 'InterfacesRemoved') {
      const [path, ifaces] = body as [string, string[]];
      const hci = adapterOfPath(path);
      if (ifaces.includes(DEVICE_IFACE) && hci && this.adapters.has(hci)) {
        const address = addressOfPath(path);
        if (address) this.model.deviceRemoved(address);
      }
      if (ifaces.includes(ADAPTER_IFACE) && hci && this.adapters.has(hci)) {
        this.model.scannerRemoved(this.adapters.get(hci) as string, this.ctx.now());
        this.adapters.delete(hci);
      }
      this.ctx.reportSuccess();
      return;
    }
    if (m.interface === 'org.freedesktop.DBus.Properties' && m.member === 'PropertiesChanged') {
      const [iface, changed, invalidated] = body as [string, Props, string[]];
      const hci = adapterOfPath(m.path);
      if (!hci || !this.adapters.has(hci)) return;
      if (iface === ADAPTER_IFACE && m.path === `/org/bluez/${hci}`) {
        const { value: a, skipped } = readAdapter(changed);
        this.count(skipped);
        this.adapterChanged(hci, this.adapters.get(hci) as string, a.powered, a.discovering);
      } else if (iface === DEVICE_IFACE) {
        this.deviceReport(m.path, changed, true);
        const address = addressOfPath(m.path);
        if (address && invalidated.includes('RSSI')) this.model.rssiLost(address);
      }
      this.ctx.reportSuccess();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    if (this.o.discovery && this.bus && this.isSynced) {
      // Ours only: BlueZ keeps discovering for its other clients.
      await Promise.all([...this.adapters.keys()].map((hci) => this.call({ destination: 'org.bluez', path: `/org/bluez/${hci}`, interface: ADAPTER_IFACE, member: 'StopDiscovery' }).catch(() => undefined)));
    }
    this.generation += 1;
    this.destroy?.();
  }

  synced(): boolean {
    return this.isSynced;
  }

  error(): ExporterError {
    return this.failure ?? new ExporterError('unreachable', 'not yet synced with BlueZ', { hint: 'wait a moment' });
  }
}
