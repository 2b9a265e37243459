/**
 * Durations as Prometheus writes them ("30s", "5m", "1h30m", "7d", "250ms"), so a
 * user writes the same thing in HomeStation's config as in prometheus.yml.
 */
const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
  y: 365 * 86_400_000,
};

/** JSON Schema pattern for a duration string (used by the config schema). */
export const DURATION_PATTERN = '^([0-9]+(ms|s|m|h|d|w|y))+$';
const PART = /([0-9]+)(ms|s|m|h|d|w|y)/g;
const WHOLE = new RegExp(DURATION_PATTERN);

/** Milliseconds in a duration string; throws on anything else. */
export function parseDuration(text: string): number {
  if (!WHOLE.test(text)) {
    throw new Error(`"${text}" is not a duration such as 30s, 5m, 1h30m or 7d`);
  }
  let ms = 0;
  for (const [, n, unit] of text.matchAll(PART)) ms += Number(n) * (UNIT_MS[unit as string] as number);
  return ms;
}

/** The shortest exact duration string for a number of milliseconds. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  let rest = ms;
  let out = '';
  for (const unit of ['w', 'd', 'h', 'm', 's', 'ms']) {
    const size = UNIT_MS[unit] as number;
    if (rest >= size) {
      out += `${Math.floor(rest / size)}${unit}`;
      rest %= size;
    }
  }
  return out;
}
