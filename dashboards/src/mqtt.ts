/** MQTT and devices: the broker, device availability and freshness, batteries, the exporter's own health. */
import { RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { GREEN_RED, dashboard, instant, problemCount, query, stat, table, timeseries } from './common.js';

export const mqttDashboard = () =>
  dashboard('HomeStation / MQTT and devices', 'homestation-mqtt', 'Is the broker healthy, is every device alive and reporting?')
    .withRow(new RowBuilder('Status'))
    .withPanel(problemCount('Brokers unreachable', 'homestation_exporter_up{exporter="mqtt"} == 0', 'MQTT brokers HomeStation is not connected to.'))
    .withPanel(problemCount('zigbee2mqtt offline', 'homestation_mqtt_zigbee2mqtt_bridge_online == 0', 'zigbee2mqtt bridges that say they are offline.'))
    .withPanel(problemCount('Devices offline', 'homestation_mqtt_device_online == 0', 'Devices offline by their availability or LWT topic.'))
    .withPanel(
      stat('Batteries under 15%', 'count(homestation_mqtt_device_battery_ratio < 0.15) or vector(0)', 'short', [{ value: null, color: 'green' }, { value: 1, color: 'orange' }], 'Devices whose battery needs replacing.'),
    )
    .withPanel(stat('Series', 'sum(homestation_mqtt_series)', 'short', [{ value: null, color: 'blue' }], 'Series held by the MQTT exporter, against its budget.'))
    .withPanel(
      stat('Series refused', 'sum(increase(homestation_mqtt_dropped_series_total[1h])) or vector(0)', 'short', GREEN_RED, 'New series refused in the last hour because of the budget.'),
    )
    .withRow(new RowBuilder('Devices'))
    .withPanel(
      table(
        'Devices',
        'Online state, time since the last live message and battery of every device.',
        instant('homestation_mqtt_device_online').refId('online'),
        instant('time() - homestation_mqtt_device_last_seen_timestamp_seconds').refId('silent'),
        instant('homestation_mqtt_device_battery_ratio').refId('battery'),
      ),
    )
    .withPanel(timeseries('Batteries', 'percentunit', 'Battery level per device.', query('homestation_mqtt_device_battery_ratio', '{{device}}')))
    .withPanel(timeseries('Zigbee link quality', 'short', 'LQI of the last message (0 to 255).', query('homestation_mqtt_device_link_quality', '{{device}}')))
    .withRow(new RowBuilder('Broker'))
    .withPanel(
      timeseries(
        'Broker messages',
        'short',
        'Messages per second through the broker.',
        query('rate(homestation_mqtt_broker_messages_received_total[5m])', 'received {{exporter_instance}}'),
        query('rate(homestation_mqtt_broker_messages_sent_total[5m])', 'sent {{exporter_instance}}'),
      ),
    )
    .withPanel(timeseries('Clients', 'short', 'Clients connected to the broker.', query('homestation_mqtt_broker_clients_connected', '{{exporter_instance}}')))
    .withPanel(
      timeseries('Messages HomeStation handled', 'short', 'By result: processed, not_json, not_number, too_large, ignored.', query('sum by (result) (rate(homestation_mqtt_messages_total[5m]))', '{{result}}')),
    );
