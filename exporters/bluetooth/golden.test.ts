/**
 * Golden exposition: HA's documented bluetooth wire forms (fixtures/, SOURCE.txt),
 * applied in order as the source applies them, rendered through the real exposition
 * path at a fixed time. UPDATE_GOLDEN=1 rewrites; promtool checks. These are the
 * series the rules and the dashboard are written against.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { exposeSamples } from '../../test/helpers/exposition.js';
import { expectGolden, expectPromtoolClean } from '../../test/helpers/golden.js';
import { applyHaEvent, SUBSCRIPTIONS } from './ha-events.js';
import { bluetooth } from './index.js';
import { BluetoothModel } from './model.js';

const wire = JSON.parse(readFileSync(new URL('./fixtures/ha-bluetooth-ws-and-esphome-proxy-wire-forms.derived.json', import.meta.url), 'utf8')) as {
  home_assistant_ws: Record<string, { responses_in_order: { type: string; event?: unknown }[] }>;
};
const goldenDir = new URL('./fixtures/golden/', import.meta.url);
const NOW = 1767225660_000; // a minute after the fixture's advert

function replay(upTo: (command: string, index: number) => boolean): BluetoothModel {
  const m = new BluetoothModel({
    source: 'homeassistant',
    listed: new Map([['54:D2:72:AB:35:95', { name: 'Front door lock', silentAfterMs: 1_800_000 }]]),
    trackAll: false,
    maxDevices: 200,
    deviceTtlMs: 300_000,
    forgetAfterMs: 86_400_000,
  });
  m.beginSync();
  for (const command of SUBSCRIPTIONS) {
    const events = wire.home_assistant_ws[command]!.responses_in_order.filter((r) => r.type === 'event');
    events.forEach((r, i) => {
      if (upTo(command, i)) applyHaEvent(m, command, r.event, true, NOW);
    });
  }
  m.endSync(NOW);
  return m;
}

describe('bluetooth exposition over the documented HA wire forms', () => {
  it('first events only: scanners added, scanning, slots, one advert', async () => {
    const text = await exposeSamples(bluetooth, replay((_c, i) => i === 0).snapshot(NOW, true), 'home');
    expectGolden(text, new URL('ha-first-events.prom', goldenDir));
    expect(text).toContain('homestation_bluetooth_scanner_scanning{exporter_instance="home",scanner="AC:BC:32:89:0E:AA"} 1');
  });

  it('every event: the proxy stopped scanning (current_mode null) and was removed, the lock declared gone', async () => {
    const text = await exposeSamples(bluetooth, replay(() => true).snapshot(NOW, true), 'home');
    expectGolden(text, new URL('ha-all-events.prom', goldenDir));
    expect(text).toContain('homestation_bluetooth_scanner_present{exporter_instance="home",scanner="AC:BC:32:89:0E:AA"} 0');
    expect(text).toContain('homestation_bluetooth_device_present{exporter_instance="home",address="54:D2:72:AB:35:95"} 0');
  });

  it('the golden files pass promtool check metrics', (ctx) => {
    expect(expectPromtoolClean(ctx, goldenDir).length).toBe(2);
  });
});
