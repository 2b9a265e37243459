import { describe, expect, it } from 'vitest';
import { isNaiveTimestamp, isValidZone, parseTimestamp } from './timestamp.js';

describe('backup timestamps', () => {
  it('reads restic RFC 3339 with nanoseconds and an offset', () => {
    // 09:57:43 at +01:00 is 08:57:43 UTC.
    expect(parseTimestamp('2017-03-11T09:57:43.26630619+01:00')).toBeCloseTo(Date.UTC(2017, 2, 11, 8, 57, 43) / 1000 + 0.26630619, 6);
    expect(parseTimestamp('2021-03-28T21:31:44.477122573Z')).toBeCloseTo(Date.UTC(2021, 2, 28, 21, 31, 44) / 1000 + 0.477122573, 6);
    expect(parseTimestamp('2025-03-11T08:00:01-05:30')).toBe(Date.UTC(2025, 2, 11, 13, 30, 1) / 1000);
  });

  it('refuses a naive borg 1.x time without a configured zone instead of guessing one', () => {
    expect(() => parseTimestamp('2017-08-07T12:27:20.789123')).toThrow(/no UTC offset.*timezone/);
    expect(isNaiveTimestamp('2017-08-07T12:27:20.789123')).toBe(true);
    expect(isNaiveTimestamp('2017-08-07T12:27:20+02:00')).toBe(false);
  });

  it('reads a naive time in the configured zone, summer and winter', () => {
    // Berlin is UTC+2 in August and UTC+1 in January.
    expect(parseTimestamp('2017-08-07T12:27:20.000000', 'Europe/Berlin')).toBe(Date.UTC(2017, 7, 7, 10, 27, 20) / 1000);
    expect(parseTimestamp('2024-01-09T04:00:06.000000', 'Europe/Berlin')).toBe(Date.UTC(2024, 0, 9, 3, 0, 6) / 1000);
    expect(parseTimestamp('2024-01-09T04:00:06', 'America/New_York')).toBe(Date.UTC(2024, 0, 9, 9, 0, 6) / 1000);
    expect(parseTimestamp('2024-01-09T04:00:06', 'UTC')).toBe(Date.UTC(2024, 0, 9, 4, 0, 6) / 1000);
  });

  it('reads the repeated hour of a DST change as its first occurrence', () => {
    // 2024-10-27 02:30 happens twice in Berlin: first at +02:00 (00:30 UTC).
    expect(parseTimestamp('2024-10-27T02:30:00', 'Europe/Berlin')).toBe(Date.UTC(2024, 9, 27, 0, 30) / 1000);
    // 2024-03-31 02:30 does not exist in Berlin: read with the offset before the change (+01:00).
    expect(parseTimestamp('2024-03-31T02:30:00', 'Europe/Berlin')).toBe(Date.UTC(2024, 2, 31, 1, 30) / 1000);
  });

  it('refuses what is not a timestamp, quoting it', () => {
    expect(() => parseTimestamp('yesterday', 'UTC')).toThrow(/"yesterday" is not an ISO 8601 timestamp/);
    expect(() => parseTimestamp('2024-13-01T00:00:00Z')).toThrow(/not a valid date/);
  });

  it('knows which zone names exist', () => {
    expect(isValidZone('Europe/Berlin')).toBe(true);
    expect(isValidZone('local')).toBe(true);
    expect(isValidZone('Mars/Olympus')).toBe(false);
  });
});
