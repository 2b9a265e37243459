/** Velero's resources as sets: which backups count, intervals from cron, what is reported. */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { cronInterval, goDuration, summarizeVelero, type VeleroBackup, type VeleroSchedule } from './velero.js';

const H = 3_600_000;
const NOW = new Date('2026-11-26T12:00:00Z');
const backup = (name: string, schedule: string | undefined, phase: string, start: string, extra: Partial<NonNullable<VeleroBackup['status']>> = {}): VeleroBackup => ({
  metadata: { name, ...(schedule ? { labels: { 'velero.io/schedule-name': schedule, 'velero.io/storage-location': 'default' } } : {}) },
  status: { phase, startTimestamp: start, completionTimestamp: new Date(Date.parse(start) + 60_000).toISOString(), ...extra },
});
const schedule = (name: string, cron: string, extra: Partial<VeleroSchedule> = {}): VeleroSchedule => ({ metadata: { name }, spec: { schedule: cron, template: { ttl: '720h0m0s' } }, status: { phase: 'Enabled' }, ...extra });

describe('cronInterval', () => {
  it('is the longest wait between two runs, as Velero\'s cron runs them', () => {
    expect(cronInterval('0 3 * * *', NOW)).toBe(24 * H);
    expect(cronInterval('@daily', NOW)).toBe(24 * H);
    expect(cronInterval('0 3 * * 1-5', NOW)).toBe(72 * H); // Friday to Monday
    expect(cronInterval('*/15 * * * *', NOW)).toBe(0.25 * H);
    expect(cronInterval('0 1 * * 0', NOW)).toBe(7 * 24 * H);
    expect(cronInterval('@every 6h', NOW)).toBe(6 * H);
    expect(cronInterval('@every 1h30m', NOW)).toBe(1.5 * H);
    expect(cronInterval('CRON_TZ=Europe/Berlin 0 3 * * *', NOW)).toBe(25 * H); // the night the clocks go back
    expect(cronInterval('0 0 1 * *', NOW)).toBe(31 * 24 * H);
  });

  it('says what is wrong with a schedule it cannot read', () => {
    expect(cronInterval('0 0 3 * * *', NOW)).toEqual(new Error('"0 0 3 * * *": a Velero schedule has five fields (minute hour day-of-month month day-of-week) or a descriptor such as @daily'));
    expect((cronInterval('61 3 * * *', NOW) as Error).message).toMatch(/^"61 3 \* \* \*": /);
    expect(cronInterval('@every soon', NOW)).toEqual(new Error('"@every soon": @every needs a duration such as 6h or 30m'));
  });

  it('reads Go durations as Velero writes TTLs', () => {
    expect(goDuration('720h0m0s')).toBe(720 * H);
    expect(goDuration('24h')).toBe(24 * H);
    expect(goDuration('1.5h')).toBe(1.5 * H);
    expect(goDuration('30 days')).toBeUndefined();
  });
});

describe('summarizeVelero', () => {
  it('reads the documented Backup example (Velero docs, api-types/backup) as a manual backup of unknown phase', () => {
    const doc = parse(readFileSync(new URL('../fixtures/velero/velero-docs__api-types-backup__main.yaml', import.meta.url), 'utf8')) as VeleroBackup;
    const out = summarizeVelero([doc], [], { defaultInterval: 24 * H }, NOW);
    // phase "" (the example's): not finished, not usable; no warning (empty is Velero's "New").
    expect(out.sets).toEqual([{ name: 'manual', count: 0, expectedInterval: 0 }]);
    expect(out.warnings).toEqual([]);
  });

  it('makes one set per schedule with its cron interval, counts Completed and PartiallyFailed, and reads the newest finished run', () => {
    const out = summarizeVelero(
      [
        backup('nightly-20261124030000', 'nightly', 'Completed', '2026-11-24T03:00:00Z'),
        backup('nightly-20261125030000', 'nightly', 'PartiallyFailed', '2026-11-25T03:00:00Z', { errors: 2, warnings: 5 }),
        backup('nightly-20261126030000', 'nightly', 'InProgress', '2026-11-26T03:00:00Z'),
        backup('weekdays-20261125', 'weekdays', 'Failed', '2026-11-25T04:00:00Z', { failureReason: 'error checking if backup already exists in object storage' }),
        backup('weekdays-20261124', 'weekdays', 'Completed', '2026-11-24T04:00:00Z'),
        backup('before-upgrade', undefined, 'Completed', '2026-11-01T10:00:00Z'),
      ],
      [schedule('nightly', '0 3 * * *'), schedule('weekdays', '0 4 * * 1-5'), schedule('fresh', '@every 6h')],
      { defaultInterval: 24 * H, minRetention: 720 * H },
      NOW,
    );
    const t = (iso: string) => Date.parse(iso) / 1000;
    expect(out.sets).toEqual([
      { name: 'fresh', count: 0, expectedInterval: 6 * H, minRetention: 720 * H },
      {
        name: 'manual',
        count: 1,
        expectedInterval: 0,
        minRetention: 720 * H,
        newest: { time: t('2026-11-01T10:00:00Z'), name: 'before-upgrade' },
        oldest: { time: t('2026-11-01T10:00:00Z'), name: 'before-upgrade' },
        complete: 1,
        errors: 0,
        warnings: 0,
        lastFinished: { name: 'before-upgrade', phase: 'Completed' },
      },
      {
        name: 'nightly',
        count: 2,
        expectedInterval: 24 * H,
        minRetention: 720 * H,
        newest: { time: t('2026-11-25T03:00:00Z'), name: 'nightly-20261125030000' },
        oldest: { time: t('2026-11-24T03:00:00Z'), name: 'nightly-20261124030000' },
        complete: 0,
        errors: 2,
        warnings: 5,
        lastFinished: { name: 'nightly-20261125030000', phase: 'PartiallyFailed' },
      },
      {
        name: 'weekdays',
        count: 1,
        expectedInterval: 72 * H,
        minRetention: 720 * H,
        newest: { time: t('2026-11-24T04:00:00Z'), name: 'weekdays-20261124' },
        oldest: { time: t('2026-11-24T04:00:00Z'), name: 'weekdays-20261124' },
        complete: 0,
        errors: 0,
        warnings: 0,
        lastFinished: { name: 'weekdays-20261125', phase: 'Failed', failureReason: 'error checking if backup already exists in object storage' },
      },
    ]);
    expect(out.warnings).toEqual([]);
  });

  it('reports what is wrong in the cluster and keeps the rest: a schedule Velero refused, a TTL under the retention, an unreadable cron, an unknown phase', () => {
    const out = summarizeVelero(
      [backup('a', 'broken-cron', 'Completed', '2026-11-25T00:00:00Z'), backup('b', 'broken-cron', 'Archived', '2026-11-26T00:00:00Z')],
      [
        schedule('refused', '0 3 * * *', { status: { phase: 'FailedValidation', validationErrors: ['Invalid schedule: expected exactly 5 fields, found 6'] } }),
        schedule('short', '0 3 * * *', { spec: { schedule: '0 3 * * *', template: { ttl: '168h0m0s' } } }),
        schedule('broken-cron', 'every night'),
      ],
      { defaultInterval: 24 * H, minRetention: 720 * H },
      NOW,
    );
    expect(out.warnings).toEqual([
      'backup b: unknown phase "Archived" (not counted)',
      'schedule refused failed Velero\'s validation and makes no backups: Invalid schedule: expected exactly 5 fields, found 6',
      'schedule short keeps its backups 168h0m0s (spec.template.ttl), less than the minimum retention: they are deleted before it is reached',
      'schedule broken-cron: "every night": a Velero schedule has five fields (minute hour day-of-month month day-of-week) or a descriptor such as @daily; expecting a backup every 24 h',
    ]);
    expect(out.sets.map((s) => [s.name, s.count, s.expectedInterval])).toEqual([
      ['broken-cron', 1, 24 * H],
      ['refused', 0, 24 * H],
      ['short', 0, 24 * H],
    ]);
  });

  it('reports declared sets only, with their own expectations, and says when a schedule is not there', () => {
    const out = summarizeVelero(
      [backup('n1', 'nightly', 'Completed', '2026-11-25T03:00:00Z'), backup('x', 'other', 'Completed', '2026-11-25T03:00:00Z')],
      [schedule('nightly', '0 3 * * *')],
      { sets: [{ name: 'cluster', schedule: 'nightly', minRetention: 7 * 24 * H }, { name: 'gone', schedule: 'removed' }], defaultInterval: 24 * H, minRetention: 720 * H },
      NOW,
    );
    expect(out.sets.map((s) => [s.name, s.count, s.expectedInterval, s.minRetention])).toEqual([
      ['cluster', 1, 24 * H, 7 * 24 * H],
      ['gone', 0, 24 * H, 720 * H],
    ]);
    expect(out.warnings).toEqual(['set gone: no schedule named "removed" in the namespace']);
  });
});
