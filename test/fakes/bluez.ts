/**
 * BlueZ without a radio: a private system bus (a real dbus-daemon on a socket in a
 * temp dir) with python-dbusmock's bluez5 template serving org.bluez on it, as
 * shared/ENVIRONMENT.md gives. The template is BlueZ's mock from the dbusmock
 * project: Adapter1 and Device1 objects under /org/bluez with their properties,
 * ObjectManager's InterfacesAdded/Removed from `/`, StartDiscovery/StopDiscovery/
 * SetDiscoveryFilter/RemoveDevice on the adapter. What it does not do by itself
 * (RSSI changing, RSSI invalidated when discovery stops) the tests drive through
 * dbusmock's own org.freedesktop.DBus.Mock interface, with the signals BlueZ sends.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dbus, { type MessageBus } from 'dbus-next';

const BUS_CONF = (socket: string) => `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=${socket}</listen>
  <policy context="default">
    <allow user="*"/><allow own="*"/>
    <allow send_type="method_call"/><allow send_type="signal"/><allow send_type="method_return"/><allow send_type="error"/>
    <allow receive_type="method_call"/><allow receive_type="signal"/><allow receive_type="method_return"/><allow receive_type="error"/>
  </policy>
</busconfig>
`;

export interface FakeBluez {
  /** DBUS_SYSTEM_BUS_ADDRESS for the exporter. */
  readonly address: string;
  addAdapter(hci: string, name: string): Promise<string>;
  addDevice(hci: string, address: string, name: string): Promise<string>;
  /** Changes properties and sends PropertiesChanged (org.bluez.Device1 or Adapter1). */
  update(path: string, iface: string, props: Record<string, dbus.Variant>): Promise<void>;
  /** PropertiesChanged with properties invalidated, as BlueZ drops RSSI when discovery stops. */
  invalidate(path: string, iface: string, names: string[]): Promise<void>;
  /** Adapter1.RemoveDevice: InterfacesRemoved, as BlueZ removes a temporary device. */
  removeDevice(hci: string, devicePath: string): Promise<void>;
  /** Reads one property as BlueZ serves it. */
  get(path: string, iface: string, name: string): Promise<unknown>;
  /** bluetoothd stops (org.bluez leaves the bus) / starts again, empty. */
  stopBluez(): Promise<void>;
  startBluez(): Promise<void>;
  /** The system bus dies (dbus-daemon killed) / starts again on the same socket, with bluetoothd. */
  stopBus(): Promise<void>;
  startBus(): Promise<void>;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function startFakeBluez(): Promise<FakeBluez> {
  const dir = mkdtempSync(join(tmpdir(), 'hs-bluez-'));
  const socket = join(dir, 'system_bus_socket');
  writeFileSync(join(dir, 'bus.conf'), BUS_CONF(socket));
  const address = `unix:path=${socket}`;
  let daemon: ChildProcess | undefined;
  let mock: ChildProcess | undefined;
  let client: MessageBus | undefined;

  const exited = (p: ChildProcess | undefined) => (p && p.exitCode === null && p.signalCode === null ? new Promise<void>((r) => p.once('exit', () => r())) : Promise.resolve());
  const until = async (what: string, check: () => Promise<boolean> | boolean) => {
    for (let i = 0; i < 100; i++) {
      if (await check()) return;
      await sleep(50);
    }
    throw new Error(`fake BlueZ: ${what} did not come up in 5 s`);
  };

  const startBus = async () => {
    rmSync(socket, { force: true });
    daemon = spawn('dbus-daemon', ['--config-file', join(dir, 'bus.conf'), '--nofork', '--nopidfile'], { stdio: 'ignore' });
    await until('dbus-daemon', () => existsSync(socket));
    client = dbus.sessionBus({ busAddress: address }); // systemBus() reads only the environment
    client.on('error', () => undefined); // the bus going away is what some tests do
    await startBluez();
  };
  /** A method call as raw message: dbusmock's methods added at run time are not in its introspection. */
  const call = async (destination: string, path: string, iface: string, member: string, signature = '', body: unknown[] = []) => {
    const reply = await (client as MessageBus).call(new dbus.Message({ destination, path, interface: iface, member, signature, body }));
    return reply?.body[0];
  };
  const owner = async () => (await call('org.freedesktop.DBus', '/org/freedesktop/DBus', 'org.freedesktop.DBus', 'NameHasOwner', 's', ['org.bluez'])) === true;
  const startBluez = async () => {
    // Debian's python3: the one on PATH may be another without dbusmock.
    mock = spawn('/usr/bin/python3', ['-m', 'dbusmock', '--system', '--template', 'bluez5'], { env: { ...process.env, DBUS_SYSTEM_BUS_ADDRESS: address }, stdio: 'ignore' });
    await until('dbusmock (org.bluez)', owner);
  };
  const mockCall = (path: string, iface: string, member: string, signature: string, body: unknown[]) => call('org.bluez', path, iface, member, signature, body);

  await startBus();
  return {
    address,
    addAdapter: async (hci, name) => (await mockCall('/org/bluez', 'org.bluez.Mock', 'AddAdapter', 'ss', [hci, name])) as string,
    addDevice: async (hci, addr, name) => (await mockCall('/org/bluez', 'org.bluez.Mock', 'AddDevice', 'sss', [hci, addr, name])) as string,
    async update(path, ifaceName, props) {
      await mockCall(path, 'org.freedesktop.DBus.Mock', 'UpdateProperties', 'sa{sv}', [ifaceName, props]);
    },
    async invalidate(path, ifaceName, names) {
      const { Variant } = dbus;
      await mockCall(path, 'org.freedesktop.DBus.Mock', 'EmitSignal', 'sssav', [
        'org.freedesktop.DBus.Properties',
        'PropertiesChanged',
        'sa{sv}as',
        [new Variant('s', ifaceName), new Variant('a{sv}', {}), new Variant('as', names)],
      ]);
    },
    async removeDevice(hci, devicePath) {
      await mockCall(`/org/bluez/${hci}`, 'org.bluez.Adapter1', 'RemoveDevice', 'o', [devicePath]);
    },
    async get(path, ifaceName, name) {
      return ((await mockCall(path, 'org.freedesktop.DBus.Properties', 'Get', 'ss', [ifaceName, name])) as dbus.Variant).value;
    },
    async stopBluez() {
      mock?.kill('SIGKILL');
      await exited(mock);
      await until('org.bluez to leave', async () => !(await owner()));
    },
    startBluez,
    async stopBus() {
      client?.disconnect();
      mock?.kill('SIGKILL');
      daemon?.kill('SIGKILL');
      await Promise.all([exited(mock), exited(daemon)]);
    },
    startBus,
    async close() {
      client?.disconnect();
      mock?.kill('SIGKILL');
      daemon?.kill('SIGKILL');
      await Promise.all([exited(mock), exited(daemon)]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
