/**
 * Backup tools print time three ways, and every existing exporter gets one wrong:
 * - restic: RFC 3339 with nanoseconds and an offset ("2017-03-11T09:57:43.26630619+01:00");
 * - borg 1.x: naive local time of the machine that ran `borg create`
 *   ("2017-08-07T12:27:20.789123"), with no zone at all;
 * - borg 2: ISO 8601 with an offset.
 * A naive time is only read in the zone the user configured for that source: never
 * silently in this process's own zone.
 */

const ISO = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/i;

/** Thrown for a timestamp that cannot be read as configured; the message says why. */
export class TimestampError extends Error {
  override readonly name = 'TimestampError';
}

/**
 * Seconds since the epoch (with the fraction) for an ISO 8601 / RFC 3339 string.
 * `zone` is an IANA zone name ("Europe/Berlin", "UTC") or "local"; it is used only
 * when the text has no offset, and required then.
 */
export function parseTimestamp(text: string, zone?: string): number {
  const m = ISO.exec(text.trim());
  if (!m) throw new TimestampError(`"${text}" is not an ISO 8601 timestamp`);
  const [, y, mo, d, h, mi, s, frac, offset] = m;
  const fields = [Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)] as const;
  const fraction = frac ? Number(`0${frac}`) : 0;
  const wallAsUtc = Date.UTC(...fields) / 1000;
  if (Number.isNaN(wallAsUtc) || Number(mo) > 12 || Number(d) > 31 || Number(h) > 23 || Number(mi) > 59) {
    throw new TimestampError(`"${text}" is not a valid date and time`);
  }
  if (offset) {
    if (offset.toUpperCase() === 'Z') return wallAsUtc + fraction;
    const sign = offset.startsWith('-') ? -1 : 1;
    const digits = offset.slice(1).replace(':', '');
    const minutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2));
    return wallAsUtc - sign * minutes * 60 + fraction;
  }
  if (!zone) {
    throw new TimestampError(
      `"${text}" has no UTC offset; set the source's \`timezone\` to the zone of the machine that made the backup`,
    );
  }
  return wallClockToEpoch(wallAsUtc, zone) + fraction;
}

/** True for a timestamp written without a zone (borg 1.x). */
export function isNaiveTimestamp(text: string): boolean {
  const m = ISO.exec(text.trim());
  return m !== null && m[8] === undefined;
}

/** Checks that a zone name is one this runtime knows. */
export function isValidZone(zone: string): boolean {
  if (zone === 'local') return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Offset of `zone` from UTC, in seconds, at the instant `epoch` (seconds). */
function zoneOffset(epoch: number, zone: string): number {
  if (zone === 'local') return -new Date(epoch * 1000).getTimezoneOffset() * 60;
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    formatters.set(zone, f);
  }
  const parts: Record<string, number> = {};
  for (const p of f.formatToParts(new Date(Math.floor(epoch) * 1000))) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  const asUtc = Date.UTC(
    parts.year as number,
    (parts.month as number) - 1,
    parts.day as number,
    parts.hour as number,
    parts.minute as number,
    parts.second as number,
  );
  return asUtc / 1000 - Math.floor(epoch);
}

/**
 * The instant at which the clocks of `zone` showed this wall time. In the hour a
 * DST change repeats, the earlier instant; in the hour it skips, the time is read
 * with the offset in force before the change (as `date -d` does).
 */
function wallClockToEpoch(wallAsUtc: number, zone: string): number {
  const firstGuess = wallAsUtc - zoneOffset(wallAsUtc, zone);
  const secondOffset = zoneOffset(firstGuess, zone);
  const candidate = wallAsUtc - secondOffset;
  // Prefer the earlier of two valid readings (repeated hour).
  const earlier = wallAsUtc - Math.max(zoneOffset(firstGuess - 3600, zone), secondOffset);
  if (earlier !== candidate && earlier + zoneOffset(earlier, zone) === wallAsUtc) return earlier;
  if (candidate + zoneOffset(candidate, zone) === wallAsUtc) return candidate;
  // Skipped hour: no reading exists; use the offset before the change.
  return wallAsUtc - zoneOffset(firstGuess - 3600, zone);
}
