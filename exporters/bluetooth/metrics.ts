/**
 * The bluetooth exporter's catalogue: one set of metrics whichever source an
 * instance reads (Home Assistant's Bluetooth proxies and adapters, or a local BlueZ
 * adapter). A scanner is a proxy or an adapter, `scanner` its Bluetooth address (HA's
 * `source`); a device is a BLE advertiser, `address` its Bluetooth address. Names
 * live on the info series only, so that a rename does not break a series.
 */
import type { MetricSpec } from '../../collector/contract.js';

export const M = {
  connected: 'homestation_bluetooth_connected',
  listeningSince: 'homestation_bluetooth_listening_since_timestamp_seconds',
  reconnects: 'homestation_bluetooth_reconnects_total',
  scannerInfo: 'homestation_bluetooth_scanner_info',
  scannerPresent: 'homestation_bluetooth_scanner_present',
  scanning: 'homestation_bluetooth_scanner_scanning',
  scanRequested: 'homestation_bluetooth_scanner_scan_requested',
  powered: 'homestation_bluetooth_scanner_powered',
  scannerAdverts: 'homestation_bluetooth_scanner_adverts_total',
  scannerLastAdvert: 'homestation_bluetooth_scanner_last_advert_timestamp_seconds',
  slots: 'homestation_bluetooth_scanner_connection_slots',
  slotsFree: 'homestation_bluetooth_scanner_connection_slots_free',
  deviceInfo: 'homestation_bluetooth_device_info',
  devicePresent: 'homestation_bluetooth_device_present',
  rssi: 'homestation_bluetooth_device_rssi_dbm',
  txPower: 'homestation_bluetooth_device_tx_power_dbm',
  lastSeen: 'homestation_bluetooth_device_last_seen_timestamp_seconds',
  bestScanner: 'homestation_bluetooth_device_best_scanner',
  deviceAdverts: 'homestation_bluetooth_device_adverts_total',
  silentThreshold: 'homestation_bluetooth_device_silent_threshold_seconds',
  devices: 'homestation_bluetooth_devices',
  unparsed: 'homestation_bluetooth_unparsed_total',
} as const;

/** What `unparsed_total{what}` counts; every one exists at 0 from the start. */
export const UNPARSED = ['event', 'scanner_type', 'manufacturer_data', 'service_data', 'property'] as const;
export type Unparsed = (typeof UNPARSED)[number];

/** The sets `devices{set}` counts. */
export const DEVICE_SETS = ['listed', 'other', 'untracked'] as const;

const scanner = ['scanner'] as const;
const device = ['address'] as const;

export const BLUETOOTH_METRICS: readonly MetricSpec[] = [
  { name: M.connected, type: 'gauge', labels: [], help: '1 while the source (the Home Assistant WebSocket API, or BlueZ on the system D-Bus) is connected and synced; 0 while not, the last-known scanners and devices kept.' },
  { name: M.listeningSince, type: 'gauge', unit: 'seconds', labels: [], help: 'When this instance first synced with its source, as a Unix time: a listed device not heard since then has no last-seen time, and is silent for as long as this is old.' },
  { name: M.reconnects, type: 'counter', labels: [], help: 'Times the connection to the source was re-established (each one a full resync).' },
  {
    name: M.scannerInfo,
    type: 'gauge',
    labels: [...scanner, 'name', 'adapter', 'type', 'source', 'connectable'],
    help: "Always 1; a scanner's name, adapter, type (usb, uart, remote = an ESPHome proxy, unknown; bluez for a local adapter), source (homeassistant or bluez) and whether it can connect.",
  },
  { name: M.scannerPresent, type: 'gauge', labels: scanner, help: '1 while the scanner is registered (HA) or its adapter exists (BlueZ); 0 once it went away (kept, so that a proxy gone can alert).' },
  { name: M.scanning, type: 'gauge', labels: scanner, help: "1 while the scanner is scanning (HA's current_mode not null; BlueZ's Discovering), else 0." },
  {
    name: M.scanRequested,
    type: 'gauge',
    labels: scanner,
    help: "1 when the scanner was asked to scan (HA's requested_mode not null; BlueZ: discovery: true, HomeStation holds a discovery session), else 0. Asked and not scanning: a proxy that silently stopped.",
  },
  { name: M.powered, type: 'gauge', labels: scanner, help: 'BlueZ only: 1 while the adapter is powered, else 0.' },
  {
    name: M.scannerAdverts,
    type: 'counter',
    labels: scanner,
    help: 'Adverts from this scanner that reached HomeStation since it started: through HA, the ones HA passes on (new or changed data, the best scanner of each device); through BlueZ, device reports (InterfacesAdded, and PropertiesChanged of RSSI or advertising data).',
  },
  { name: M.scannerLastAdvert, type: 'gauge', unit: 'seconds', labels: scanner, help: 'When the last advert from this scanner was received, as a Unix time; absent until its first.' },
  { name: M.slots, type: 'gauge', labels: scanner, help: "Connection slots of the scanner (HA's allocations; 0 on a scanner that cannot connect). Absent where the source does not say." },
  { name: M.slotsFree, type: 'gauge', labels: scanner, help: 'Connection slots free; 0 of a non-zero total: every slot is taken and devices that need a connection go unavailable.' },
  { name: M.deviceInfo, type: 'gauge', labels: [...device, 'name', 'company', 'connectable'], help: 'Always 1; a tracked device: its name (config, then the HA device registry, then its advertised name), the company id of its manufacturer data (0x004c), whether it is connectable.' },
  { name: M.devicePresent, type: 'gauge', labels: device, help: '1 while the device is heard (an advert within device_ttl, not removed by the source), else 0.' },
  { name: M.rssi, type: 'gauge', unit: 'dbm', labels: device, help: 'Signal strength of the last advert, in dBm, at its best scanner; absent while the device is not present or the source has no RSSI (BlueZ drops it when discovery stops).' },
  { name: M.txPower, type: 'gauge', unit: 'dbm', labels: device, help: 'Transmit power the device advertises, in dBm; absent where it does not.' },
  { name: M.lastSeen, type: 'gauge', unit: 'seconds', labels: device, help: 'When the device was last heard, as a Unix time; kept after it leaves (the "sensor gone quiet" alert reads it).' },
  { name: M.bestScanner, type: 'gauge', labels: [...device, 'scanner'], help: 'Always 1, on the scanner that heard the last advert of a present device (the one HA picks); absent while the device is not present.' },
  { name: M.deviceAdverts, type: 'counter', labels: device, help: 'Adverts of the device that reached HomeStation (as for the scanner counter).' },
  { name: M.silentThreshold, type: 'gauge', unit: 'seconds', labels: device, help: 'How long a listed device may stay unheard (devices[].silent_after in the config).' },
  { name: M.devices, type: 'gauge', labels: ['set'], help: 'Devices known: listed (in the config), other (tracked by track_all, under max_devices), untracked (heard within device_ttl and given no series: not listed with track_all off, or over max_devices).' },
  {
    name: M.unparsed,
    type: 'counter',
    labels: ['what'],
    help: 'Inputs skipped, by what: event (a malformed message), scanner_type (unknown type, reported as unknown), manufacturer_data, service_data (undecodable), property (a D-Bus property of an unexpected type).',
  },
];
