/** The Home Assistant exporter's metric catalogue. */
import type { MetricSpec } from '../../collector/contract.js';

export const M = {
  connected: 'homestation_homeassistant_connected',
  info: 'homestation_homeassistant_info',
  rtt: 'homestation_homeassistant_websocket_rtt_seconds',
  lastEvent: 'homestation_homeassistant_last_event_timestamp_seconds',
  available: 'homestation_homeassistant_entity_available',
  unknown: 'homestation_homeassistant_entity_unknown',
  lastChanged: 'homestation_homeassistant_entity_last_changed_timestamp_seconds',
  lastReported: 'homestation_homeassistant_entity_last_reported_timestamp_seconds',
  value: 'homestation_homeassistant_entity_value',
  entityInfo: 'homestation_homeassistant_entity_info',
  deviceInfo: 'homestation_homeassistant_device_info',
  areaInfo: 'homestation_homeassistant_area_info',
  deviceAvailable: 'homestation_homeassistant_device_available',
  battery: 'homestation_homeassistant_device_battery_ratio',
  entryState: 'homestation_homeassistant_config_entry_state',
  automationTriggered: 'homestation_homeassistant_automation_last_triggered_timestamp_seconds',
  automationEnabled: 'homestation_homeassistant_automation_enabled',
  entities: 'homestation_homeassistant_entities',
  droppedSeries: 'homestation_homeassistant_dropped_series_total',
  reconnects: 'homestation_homeassistant_reconnects_total',
} as const;

const entity = ['entity_id', 'domain'] as const;

export const haMetrics: readonly MetricSpec[] = [
  { name: M.connected, type: 'gauge', labels: [], help: '1 while the WebSocket API is connected and authenticated.' },
  { name: M.info, type: 'gauge', labels: ['version'], help: 'Always 1; the Home Assistant version from /api/config.' },
  { name: M.rtt, type: 'gauge', unit: 'seconds', labels: [], help: 'Round-trip time of the last WebSocket ping/pong.' },
  { name: M.lastEvent, type: 'gauge', unit: 'seconds', labels: [], help: 'When the last state_changed event arrived, as a Unix time (event-stream silence).' },
  { name: M.available, type: 'gauge', labels: entity, help: '0 if the entity is unavailable, else 1.' },
  { name: M.unknown, type: 'gauge', labels: entity, help: '1 if the entity state is unknown (available but without a value), else 0.' },
  { name: M.lastChanged, type: 'gauge', unit: 'seconds', labels: entity, help: 'When the entity state last changed, as a Unix time.' },
  { name: M.lastReported, type: 'gauge', unit: 'seconds', labels: entity, help: 'When the entity last reported, even without a change, as a Unix time.' },
  { name: M.value, type: 'gauge', labels: ['entity_id', 'domain', 'unit'], help: 'Numeric state of an available entity; absent while unavailable or unknown.' },
  { name: M.entityInfo, type: 'gauge', labels: ['entity_id', 'domain', 'device_id', 'area_id', 'platform', 'name'], help: 'Always 1; joins an entity to its device, area and integration.' },
  { name: M.deviceInfo, type: 'gauge', labels: ['device_id', 'name', 'manufacturer', 'model', 'area_id'], help: 'Always 1; identity of a device of the device registry.' },
  { name: M.areaInfo, type: 'gauge', labels: ['area_id', 'name', 'floor_id'], help: 'Always 1; an area and the floor it is on.' },
  { name: M.deviceAvailable, type: 'gauge', labels: ['device_id'], help: '0 if every entity of the device is unavailable, else 1.' },
  { name: M.battery, type: 'gauge', unit: 'ratio', labels: ['device_id'], help: 'Battery level of a device from its battery sensor, 0 to 1.' },
  { name: M.entryState, type: 'gauge', labels: ['entry_id', 'domain', 'state'], help: '1 for the current state of a config entry (loaded, setup_error, setup_retry, not_loaded, failed_unload, ...), 0 for the others.' },
  { name: M.automationTriggered, type: 'gauge', unit: 'seconds', labels: ['entity_id'], help: 'When the automation last triggered, as a Unix time.' },
  { name: M.automationEnabled, type: 'gauge', labels: ['entity_id'], help: '1 if the automation is on, else 0.' },
  { name: M.entities, type: 'gauge', labels: ['domain', 'availability'], help: 'Entities per domain and availability (available, unavailable, unknown), for the overview.' },
  { name: M.droppedSeries, type: 'counter', labels: ['reason'], help: 'Entity series refused, by reason (over_budget).' },
  { name: M.reconnects, type: 'counter', labels: [], help: 'Times the WebSocket connection to Home Assistant was re-established.' },
];
