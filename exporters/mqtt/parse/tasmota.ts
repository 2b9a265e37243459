/**
 * Pure: Tasmota's telemetry (tele/<device>/STATE and SENSOR), as its firmware
 * writes it (docs: tasmota.github.io/docs/JSON-Status-Responses and the sensor
 * pages). Everything is read into base units; what is not understood is left out
 * and counted by the caller, never guessed.
 */

export interface TasmotaState {
  readonly uptimeSeconds?: number;
  /** Wifi.Signal, dBm (Wifi.RSSI is Tasmota's 0-100 quality, not dBm). */
  readonly wifiSignalDbm?: number;
  /** POWER, POWER1..n: relay -> on. */
  readonly relays: ReadonlyMap<string, boolean>;
  /** false when the device clock says 1970 (no NTP sync yet); undefined without a Time. */
  readonly clockSynced?: boolean;
}

export interface TasmotaReading {
  /** The key of the sensor in SENSOR: AM2301, BME280, DS18B20-1, ... */
  readonly sensor: string;
  readonly temperatureCelsius?: number;
  readonly humidityRatio?: number;
}

export interface TasmotaSensor {
  readonly energy?: { readonly totalJoules?: number; readonly powerWatts?: number; readonly voltageVolts?: number; readonly currentAmperes?: number };
  readonly readings: readonly TasmotaReading[];
  readonly clockSynced?: boolean;
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** Tasmota's "Time": local time without a zone; a year of 1970 means the clock was never set. */
function clockSynced(obj: Record<string, unknown>): boolean | undefined {
  return typeof obj.Time === 'string' ? !obj.Time.startsWith('1970-') : undefined;
}

export function parseTasmotaState(obj: Record<string, unknown>): TasmotaState {
  const relays = new Map<string, boolean>();
  for (const [k, v] of Object.entries(obj)) {
    if (/^POWER\d*$/.test(k) && (v === 'ON' || v === 'OFF')) relays.set(k === 'POWER' ? '1' : k.slice(5), v === 'ON');
  }
  const wifi = obj.Wifi as { Signal?: unknown } | undefined;
  return {
    uptimeSeconds: num(obj.UptimeSec),
    wifiSignalDbm: num(wifi?.Signal),
    relays,
    clockSynced: clockSynced(obj),
  };
}

export function parseTasmotaSensor(obj: Record<string, unknown>): TasmotaSensor {
  const fahrenheit = obj.TempUnit === 'F';
  const celsius = (t: number) => (fahrenheit ? ((t - 32) * 5) / 9 : t);
  const readings: TasmotaReading[] = [];
  let energy: TasmotaSensor['energy'];
  for (const [key, value] of Object.entries(obj)) {
    if (!value || typeof value !== 'object' || Array.isArray(value)) continue;
    const v = value as Record<string, unknown>;
    if (key === 'ENERGY') {
      const total = num(v.Total);
      // Power may be an array on multi-channel meters: their sum is the device's draw.
      const power = Array.isArray(v.Power) ? v.Power.map(num).reduce<number | undefined>((a, b) => (a === undefined || b === undefined ? undefined : a + b), 0) : num(v.Power);
      energy = {
        ...(total !== undefined ? { totalJoules: total * 3_600_000 } : {}), // kWh
        ...(power !== undefined ? { powerWatts: power } : {}),
        ...(num(v.Voltage) !== undefined ? { voltageVolts: num(v.Voltage) } : {}),
        ...(num(v.Current) !== undefined ? { currentAmperes: num(v.Current) } : {}),
      };
      continue;
    }
    const t = num(v.Temperature);
    const h = num(v.Humidity);
    if (t === undefined && h === undefined) continue;
    readings.push({
      sensor: key,
      ...(t !== undefined ? { temperatureCelsius: celsius(t) } : {}),
      ...(h !== undefined && h >= 0 && h <= 100 ? { humidityRatio: h / 100 } : {}),
    });
  }
  return { ...(energy ? { energy } : {}), readings, clockSynced: clockSynced(obj) };
}
