/**
 * Bluetooth: scanners that silently stop scanning, connection slots used up, BLE
 * sensors gone quiet. A stream exporter with two sources under one set of metrics:
 * Home Assistant's bluetooth WebSocket subscriptions (ESPHome proxies and HA's own
 * adapters), or a local BlueZ adapter followed on the system D-Bus. One source per
 * instance; configure two instances for both.
 */
import { Type } from '@sinclair/typebox';
import { Duration, Secret, SecretFile } from '../../collector/config/schema-types.js';
import { defineExporter, type ConfigProblem } from '../../collector/contract.js';
import { BLUETOOTH_METRICS } from './metrics.js';
import { reviewBluetooth } from './review.js';

export interface BluetoothConfig {
  homeassistant?: { url: string; token?: string; token_file?: string; ping_interval: number; ping_timeout: number };
  bluez?: { adapters: string[]; discovery: boolean };
  devices: { address: string; name?: string; silent_after: number }[];
  track_all: boolean;
  max_devices: number;
  device_ttl: number;
  forget_after: number;
}

const ADDRESS = '^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$';

export const bluetooth = defineExporter<BluetoothConfig>({
  name: 'bluetooth',
  description: 'Bluetooth proxies and adapters (through Home Assistant, or a local BlueZ adapter): scanning, connection slots, adverts; BLE sensors gone quiet.',
  schema: Type.Object({
    homeassistant: Type.Optional(
      Type.Object(
        {
          url: Type.String({ pattern: '^https?://', description: 'Home Assistant, e.g. http://homeassistant.local:8123.' }),
          token: Type.Optional(Secret("A long-lived access token of an administrator (HA's bluetooth commands require admin); prefer token_file.")),
          token_file: Type.Optional(SecretFile('A file holding the long-lived access token (of an administrator).')),
          ping_interval: Type.Optional(Duration({ default: '5s', description: 'A ping goes out when HA has sent nothing for this long.' })),
          ping_timeout: Type.Optional(Duration({ default: '5s', description: 'No answer to a ping in this long: HA hangs; reconnect.' })),
        },
        { additionalProperties: false, description: 'Read the scanners and adverts Home Assistant has (its adapters and ESPHome Bluetooth proxies).' },
      ),
    ),
    bluez: Type.Optional(
      Type.Object(
        {
          adapters: Type.Optional(Type.Array(Type.String({ pattern: '^hci[0-9]+$' }), { default: [], description: 'Only these adapters (hci0, ...); empty: every adapter.' })),
          discovery: Type.Optional(
            Type.Boolean({
              default: false,
              description:
                'Run a discovery session (SetDiscoveryFilter with DuplicateData, then StartDiscovery) so that adverts keep coming. Off by default: a passive observer of what other BlueZ users discover, never fighting them.',
            }),
          ),
        },
        { additionalProperties: false, description: 'Read a local adapter through BlueZ on the system D-Bus (DBUS_SYSTEM_BUS_ADDRESS, else /run/dbus/system_bus_socket).' },
      ),
    ),
    devices: Type.Optional(
      Type.Array(
        Type.Object(
          {
            address: Type.String({ pattern: ADDRESS, description: 'The Bluetooth address, AA:BB:CC:DD:EE:FF.' }),
            name: Type.Optional(Type.String({ minLength: 1, maxLength: 80, description: 'A human name; else the HA device registry, else the advertised name.' })),
            silent_after: Type.Optional(Duration({ default: '30m', description: 'Unheard this long is an alert (BluetoothDeviceSilent).' })),
          },
          { additionalProperties: false },
        ),
        { default: [], description: 'Devices to watch: always tracked, with a silent threshold.' },
      ),
    ),
    track_all: Type.Optional(Type.Boolean({ default: false, description: 'Also give series to devices that are not listed, up to max_devices (phones with random addresses come and go).' })),
    max_devices: Type.Optional(Type.Integer({ minimum: 1, maximum: 5000, default: 200, description: 'Series budget of the devices that are not listed; past it they are counted, not exported.' })),
    device_ttl: Type.Optional(Duration({ default: '5m', description: 'A device unheard this long is not present: its RSSI and best scanner go, its last-seen time stays.' })),
    forget_after: Type.Optional(Duration({ default: '24h', description: 'A device that is not listed and unheard this long is forgotten, series and all.' })),
  }),
  defaults: { interval: '30s', timeout: '10s' },
  metrics: BLUETOOTH_METRICS,
  review: reviewBluetooth,
  validate(config) {
    const problems: ConfigProblem[] = [];
    if ((config.homeassistant === undefined) === (config.bluez === undefined)) {
      problems.push({ path: [], message: 'set one source: homeassistant (url and token_file) or bluez; for both, configure two instances' });
    }
    const ha = config.homeassistant;
    if (ha && (ha.token === undefined) === (ha.token_file === undefined)) {
      problems.push({ path: ['homeassistant'], message: 'set token_file (or token) to a long-lived access token of an administrator' });
    }
    const seen = new Set<string>();
    config.devices.forEach((d, i) => {
      const a = d.address.toUpperCase();
      if (seen.has(a)) problems.push({ path: ['devices', i, 'address'], message: `${d.address} is listed twice` });
      seen.add(a);
    });
    if (config.forget_after < config.device_ttl) problems.push({ path: ['forget_after'], message: 'must be at least device_ttl' });
    return problems;
  },
  async create(ctx, config) {
    // The WebSocket client or node-ble and D-Bus load only when an instance uses them.
    const { createBluetoothInstance } = await import('./instance.js');
    return createBluetoothInstance(ctx, config);
  },
});
