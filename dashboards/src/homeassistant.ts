/** Home Assistant: is it up, which integrations failed, what is unavailable, which batteries are low. */
import { RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { dashboard, instant, problemCount, query, stat, table, timeseries } from './common.js';

export const homeAssistantDashboard = () =>
  dashboard('HomeStation / Home Assistant', 'homestation-homeassistant', 'Is Home Assistant up, and what is unavailable, silent or failing?')
    .withRow(new RowBuilder('Status'))
    .withPanel(problemCount('Home Assistant down', 'homestation_exporter_up{exporter="homeassistant"} == 0', 'Home Assistant instances HomeStation cannot reach or is refused by.'))
    .withPanel(
      problemCount(
        'Integrations failing',
        'homestation_homeassistant_config_entry_state{state=~"setup_error|setup_retry|failed_unload|migration_error"} == 1 unless on(instance, exporter_instance, entry_id) homestation_homeassistant_config_entry_disabled == 1',
        'Config entries not loaded because of an error (disabled ones are not counted).',
      ),
    )
    .withPanel(problemCount('Batteries low', 'homestation_homeassistant_device_battery_low == 1', 'Devices with a low battery: the same series and threshold (battery_low) as the alert.'))
    .withPanel(problemCount('Devices unavailable', 'homestation_homeassistant_device_available == 0', 'Devices whose every entity is unavailable.'))
    .withPanel(stat('Entities unavailable', 'sum(homestation_homeassistant_entities{availability="unavailable"}) or vector(0)', 'short', [{ value: null, color: 'green' }, { value: 1, color: 'orange' }], 'Entities in the unavailable state.'))
    .withPanel(stat('WebSocket round trip', 'max(homestation_homeassistant_websocket_rtt_seconds)', 's', [{ value: null, color: 'green' }, { value: 1, color: 'orange' }], 'Ping/pong time: a busy or stuck HA answers slowly.'))
    .withPanel(stat('Since the last event', 'time() - max(homestation_homeassistant_last_event_timestamp_seconds)', 's', [{ value: null, color: 'green' }, { value: 600, color: 'orange' }], 'A quiet event stream on a busy home means HA stopped working.'))
    .withRow(new RowBuilder('What needs attention'))
    .withPanel(
      table(
        'Failing integrations',
        'Config entries in an error state, with the reason Home Assistant gives.',
        instant('(homestation_homeassistant_config_entry_state{state!="loaded"} == 1) * on(instance, exporter_instance, entry_id) group_left(reason) homestation_homeassistant_config_entry_reason_info'),
      ),
    )
    .withPanel(
      table(
        'Unavailable devices by area',
        'Devices whose every entity is unavailable, with their name and area.',
        instant('(homestation_homeassistant_device_available == 0) * on(exporter_instance, device_id) group_left(name, area_id) homestation_homeassistant_device_info'),
      ),
    )
    .withPanel(timeseries('Batteries', 'percentunit', 'Battery level per device.', query('homestation_homeassistant_device_battery_ratio', '{{device_id}}')))
    .withPanel(timeseries('Entities by availability', 'short', 'Entities per availability.', query('sum by (availability) (homestation_homeassistant_entities)', '{{availability}}')));
