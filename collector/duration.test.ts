import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from './duration.js';

describe('durations', () => {
  it('reads the forms Prometheus accepts', () => {
    expect(parseDuration('30s')).toBe(30_000);
    expect(parseDuration('250ms')).toBe(250);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('7d')).toBe(604_800_000);
    expect(parseDuration('2w')).toBe(1_209_600_000);
  });

  it('refuses what is not a duration, quoting it', () => {
    expect(() => parseDuration('5 minutes')).toThrow(/"5 minutes" is not a duration/);
    expect(() => parseDuration('10')).toThrow(/not a duration/);
    expect(() => parseDuration('')).toThrow(/not a duration/);
  });

  it('writes durations back in their shortest form', () => {
    expect(formatDuration(5_400_000)).toBe('1h30m');
    expect(formatDuration(604_800_000)).toBe('1w');
    expect(formatDuration(1_500)).toBe('1s500ms');
  });
});
