/** The MQTT state's snapshots, written into two kept arrays: what a caller holds stays whole. */
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../collector/logging.js';
import { MqttState } from './state.js';

const names = (samples: readonly { labels?: Readonly<Record<string, string>> }[]) => [...new Set(samples.map((s) => s.labels?.device).filter(Boolean))].sort();

describe('MqttState.snapshot', () => {
  it('leaves the previous snapshot whole while making the next, and lets go of what is gone', () => {
    const state = new MqttState(60_000, 10_000, silentLogger());
    for (const d of ['a', 'b', 'c']) state.setValue('zigbee2mqtt', d, 'homestation_mqtt_temperature_celsius', {}, 20, 1000);
    const first = state.snapshot(2000);
    expect(names(first)).toEqual(['a', 'b', 'c']);
    const firstCopy = [...first];
    state.removeDevice('zigbee2mqtt', 'b');
    const second = state.snapshot(2000);
    expect(second).not.toBe(first);
    expect(first).toEqual(firstCopy); // untouched by the second
    expect(names(second)).toEqual(['a', 'c']);
    expect(second.length).toBe(first.length - 1);
    // The third reuses the first's array: shorter now, with nothing of b left at its end.
    const third = state.snapshot(2000);
    expect(third).toBe(first);
    expect(third.length).toBe(second.length);
    expect(names(third)).toEqual(['a', 'c']);
    // A value past its TTL leaves the next snapshot.
    expect(names(state.snapshot(62_000))).toEqual([]);
  });
});
