/**
 * Labels made per series share V8 hidden classes (maps). A label object made as
 * `{ ...labels, unit }` got a map of its own each time (node 20): 1,500 Home Assistant
 * value series held 1,500 maps and their descriptor arrays in a heap snapshot of
 * bench:memory. Checked in a node of its own with V8's natives syntax, on the built
 * modules (npm test builds first).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));
const url = (path: string) => JSON.stringify(pathToFileURL(join(dist, path)).href);

/** Runs `body` as an ES module with %HaveSameMap and friends; returns what it printed. */
function natives(body: string): string {
  const res = spawnSync(process.execPath, ['--allow-natives-syntax', '--input-type=module', '-e', body], { encoding: 'utf8' });
  expect(res.stderr).toBe('');
  expect(res.status).toBe(0);
  return res.stdout.trim();
}

describe('hidden classes of per-series labels', () => {
  it('an object spread followed by a property makes a map per object; withLabels shares one', () => {
    const out = natives(`
      const { withLabels } = await import(${url('collector/contract.js')});
      const spread = [], shared = [];
      for (let i = 0; i < 200; i++) {
        const labels = { entity_id: 'sensor.t' + i, domain: 'sensor' };
        spread.push({ ...labels, unit: 'W' });
        shared.push(withLabels(labels, { unit: 'W' }));
      }
      console.log(JSON.stringify({ spread: %HaveSameMap(spread[1], spread[150]), shared: %HaveSameMap(shared[1], shared[150]), merged: shared[7] }));
    `);
    // The first is V8's behaviour that the helper exists for: should a node change it, this says so.
    expect(JSON.parse(out)).toEqual({ spread: false, shared: true, merged: { entity_id: 'sensor.t7', domain: 'sensor', unit: 'W' } });
  });

  it("Home Assistant's value series share their labels' maps", () => {
    const out = natives(`
      const { HaModel } = await import(${url('exporters/homeassistant/model.js')});
      const { M } = await import(${url('exporters/homeassistant/metrics.js')});
      const none = { includeDomains: [], excludeDomains: [], includeEntities: [], excludeEntities: [], includeIntegrations: [], excludeIntegrations: [] };
      const m = new HaModel(none, 10000);
      const at = new Date().toISOString();
      m.setStates(Array.from({ length: 300 }, (_, i) => ({ entity_id: 'sensor.t' + i, state: String(20 + i / 10), attributes: { unit_of_measurement: i % 2 ? '°C' : 'W' }, last_changed: at })));
      const values = m.snapshot(true, 0).filter((s) => s.metric === M.value);
      console.log(JSON.stringify({ n: values.length, same: values.every((s) => %HaveSameMap(s.labels, values[0].labels)) }));
    `);
    expect(JSON.parse(out)).toEqual({ n: 300, same: true });
  });

  it("the MQTT exporter's values with labels of their own share their labels' maps", () => {
    const out = natives(`
      const { MqttState } = await import(${url('exporters/mqtt/state.js')});
      const { silentLogger } = await import(${url('collector/logging.js')});
      const state = new MqttState(3600000, 10000, silentLogger());
      const now = Date.now();
      for (let d = 0; d < 100; d++) for (const phase of ['L1', 'L2', 'L3']) state.setValue('zigbee2mqtt', 'meter-' + d, 'homestation_mqtt_device_power_watts', { phase }, d, now);
      const values = state.snapshot(now).filter((s) => s.metric === 'homestation_mqtt_device_power_watts');
      console.log(JSON.stringify({ n: values.length, same: values.every((s) => %HaveSameMap(s.labels, values[0].labels)), one: values.find((s) => s.labels.device === 'meter-7' && s.labels.phase === 'L2').labels }));
    `);
    expect(JSON.parse(out)).toMatchObject({ n: 300, same: true, one: { device: 'meter-7', phase: 'L2' } });
  });
});
