/** Bluetooth: proxies and adapters, their slots and adverts, and the BLE devices they hear (exporter "bluetooth"). */
import { RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { dashboard, instant, problemCount, query, table, timeseries } from './common.js';

const named = (expr: string) => `${expr} * on(job, instance, exporter_instance, scanner) group_left(name) homestation_bluetooth_scanner_info`;
const deviceNamed = (expr: string) => `${expr} * on(job, instance, exporter_instance, address) group_left(name) homestation_bluetooth_device_info`;

export const bluetoothDashboard = () =>
  dashboard('HomeStation / Bluetooth', 'homestation-bluetooth', 'Bluetooth proxies and adapters: scanning, connection slots, adverts; the BLE devices they hear and the ones gone quiet.')
    .withRow(new RowBuilder('Status'))
    .withPanel(problemCount('Sources not connected', 'homestation_bluetooth_connected == 0', 'bluetooth exporters not connected to Home Assistant or BlueZ (their last-known state is shown).'))
    .withPanel(problemCount('Scanners not scanning', 'homestation_bluetooth_scanner_scan_requested == 1 and homestation_bluetooth_scanner_scanning == 0', 'Asked to scan and not scanning: a proxy stopped silently.'))
    .withPanel(
      problemCount(
        'Scanners without a free slot',
        'homestation_bluetooth_scanner_connection_slots_free == 0 and homestation_bluetooth_scanner_connection_slots > 0',
        'Every connection slot taken: devices needing a connection go unavailable.',
      ),
    )
    .withPanel(problemCount('Scanners gone or powered off', 'homestation_bluetooth_scanner_present == 0 or homestation_bluetooth_scanner_powered == 0', 'Proxies unregistered, adapters removed or powered off.'))
    .withPanel(
      problemCount(
        'Listed devices silent',
        'time() - homestation_bluetooth_device_last_seen_timestamp_seconds > homestation_bluetooth_device_silent_threshold_seconds',
        'Listed devices unheard for longer than their silent_after.',
      ),
    )
    .withPanel(problemCount('Devices over the budget', 'homestation_bluetooth_devices{set="untracked"} > 0 and on(job, instance, exporter_instance) homestation_bluetooth_devices{set="other"} > 0', 'With track_all: devices heard but given no series (over max_devices).'))
    .withRow(new RowBuilder('Scanners'))
    .withPanel(table('Scanners', 'Every proxy and adapter: type, source, whether it can connect.', instant('homestation_bluetooth_scanner_info').refId('info')))
    .withPanel(timeseries('Adverts received', 'reqps', 'Adverts per second from each scanner (through HA: those HA passes on).', query(named('rate(homestation_bluetooth_scanner_adverts_total[5m])'), '{{exporter_instance}} {{name}}')))
    .withPanel(
      timeseries(
        'Connection slots free',
        'short',
        'Free connection slots per scanner, and its total (BluetoothConnectionSlotsExhausted at 0).',
        query(named('homestation_bluetooth_scanner_connection_slots_free'), '{{name}} free'),
        query(named('homestation_bluetooth_scanner_connection_slots'), '{{name}} total'),
      ),
    )
    .withPanel(timeseries('Scanning', 'short', 'Scanning (1) or not (0); dips are a proxy that stopped.', query(named('homestation_bluetooth_scanner_scanning'), '{{exporter_instance}} {{name}}')))
    .withPanel(timeseries('Since the last advert', 's', 'Seconds since each scanner delivered an advert.', query(named('time() - homestation_bluetooth_scanner_last_advert_timestamp_seconds'), '{{exporter_instance}} {{name}}')))
    .withRow(new RowBuilder('Devices'))
    .withPanel(timeseries('RSSI', 'dBm', 'Signal of each present device at its best scanner; a slow fall before a device goes quiet points at range or battery.', query(deviceNamed('homestation_bluetooth_device_rssi_dbm'), '{{name}} {{address}}')))
    .withPanel(timeseries('Since last heard', 's', 'Seconds since each device was heard, and the silent_after of the listed ones.', query(deviceNamed('time() - homestation_bluetooth_device_last_seen_timestamp_seconds'), '{{name}} {{address}}')))
    .withPanel(table('Best scanner per device', 'Which scanner hears each present device best.', instant(deviceNamed('homestation_bluetooth_device_best_scanner')).refId('best')))
    .withPanel(timeseries('Devices', 'short', 'Listed, other tracked, and untracked devices heard.', query('homestation_bluetooth_devices', '{{exporter_instance}} {{set}}')))
    .withPanel(timeseries('Inputs skipped', 'short', 'Messages and properties the exporter could not read, by kind.', query('increase(homestation_bluetooth_unparsed_total[1h]) > 0', '{{exporter_instance}} {{what}}')));
