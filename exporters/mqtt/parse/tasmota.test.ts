/** Tasmota telemetry as its documentation gives it (fixtures/tasmota-telemetry.json). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseTasmotaSensor, parseTasmotaState } from './tasmota.js';

const f = JSON.parse(readFileSync(new URL('../fixtures/tasmota-telemetry.json', import.meta.url), 'utf8')) as Record<string, string>;
const obj = (k: string) => JSON.parse(f[k] as string) as Record<string, unknown>;

describe('Tasmota telemetry', () => {
  it('STATE: uptime, Wi-Fi signal in dBm (not the 0-100 RSSI), relays, clock', () => {
    expect(parseTasmotaState(obj('state'))).toEqual({ uptimeSeconds: 631, wifiSignalDbm: -60, relays: new Map([['1', true]]), clockSynced: true });
    expect(parseTasmotaState(obj('state_after_reboot')).relays).toEqual(new Map([['1', false], ['2', true]]));
  });

  it('SENSOR: energy in base units, each DS18B20 probe by its key, Fahrenheit to Celsius, a 1970 clock', () => {
    expect(parseTasmotaSensor(obj('sensor_energy')).energy).toEqual({ totalJoules: 12.345 * 3_600_000, powerWatts: 45, voltageVolts: 230, currentAmperes: 0.196 });
    expect(parseTasmotaSensor(obj('sensor_ds18b20_three')).readings.map((r) => [r.sensor, r.temperatureCelsius])).toEqual([
      ['DS18B20-1', 21.4],
      ['DS18B20-2', 19.9],
      ['DS18B20-3', 4.5],
    ]);
    const am = parseTasmotaSensor(obj('sensor_am2301_no_time_sync_fahrenheit'));
    expect(am.readings).toHaveLength(1);
    expect(am.readings[0]!.temperatureCelsius).toBeCloseTo(22);
    expect(am.readings[0]!.humidityRatio).toBeCloseTo(0.452);
    expect(am.clockSynced).toBe(false);
  });
});
