/** The backup exporter's metric catalogue. */
import type { MetricSpec } from '../../collector/contract.js';

const set = ['set'] as const;

export const M = {
  last: 'homestation_backup_last_timestamp_seconds',
  oldest: 'homestation_backup_oldest_timestamp_seconds',
  count: 'homestation_backup_snapshots',
  size: 'homestation_backup_last_size_bytes',
  complete: 'homestation_backup_last_complete',
  interval: 'homestation_backup_expected_interval_seconds',
  retention: 'homestation_backup_min_retention_seconds',
  checkOk: 'homestation_backup_check_success',
  checkTime: 'homestation_backup_check_last_timestamp_seconds',
  checkDuration: 'homestation_backup_check_duration_seconds',
  errors: 'homestation_backup_last_errors',
  warnings: 'homestation_backup_last_warnings',
} as const;

export const backupMetrics: readonly MetricSpec[] = [
  {
    name: M.last,
    type: 'gauge',
    unit: 'seconds',
    labels: set,
    help: 'When the newest backup of the set was taken (snapshot time, archive start, file mtime or Velero start time), as a Unix time.',
  },
  {
    name: M.oldest,
    type: 'gauge',
    unit: 'seconds',
    labels: set,
    help: 'When the oldest backup still kept in the set was taken, as a Unix time (retention).',
  },
  {
    name: M.count,
    type: 'gauge',
    labels: set,
    help: 'Backups kept in the set: restic snapshots, borg archives, matching files, or Velero backups that ended Completed or PartiallyFailed. 0 = never succeeded.',
  },
  {
    name: M.size,
    type: 'gauge',
    unit: 'bytes',
    labels: set,
    help: 'Size of the newest backup where the tool reports it (restic >= 0.17 summary, borg original size, file size).',
  },
  {
    name: M.complete,
    type: 'gauge',
    labels: set,
    help:
      'Files sets: 1 if the newest file passed its completeness check (non-empty, gzip, pg_dump trailer), else 0. ' +
      'Velero sets: 1 if the newest finished backup ended Completed, 0 if PartiallyFailed, Failed or FailedValidation.',
  },
  {
    name: M.errors,
    type: 'gauge',
    labels: set,
    help: 'Velero sets: errors Velero counted in the newest finished backup (its log in object storage has them).',
  },
  {
    name: M.warnings,
    type: 'gauge',
    labels: set,
    help: 'Velero sets: warnings Velero counted in the newest finished backup.',
  },
  {
    name: M.interval,
    type: 'gauge',
    unit: 'seconds',
    labels: set,
    help: 'How often a new backup is expected in the set (from the config), so that one alert fits every set.',
  },
  {
    name: M.retention,
    type: 'gauge',
    unit: 'seconds',
    labels: set,
    help: 'Minimum age the oldest kept backup should have (from the config); only for sets that set one.',
  },
  {
    name: M.checkOk,
    type: 'gauge',
    labels: [],
    help: '1 if the last integrity check (restic check / borg check) passed, 0 if it failed; absent before the first.',
  },
  {
    name: M.checkTime,
    type: 'gauge',
    unit: 'seconds',
    labels: [],
    help: 'When the last integrity check finished, as a Unix time.',
  },
  {
    name: M.checkDuration,
    type: 'gauge',
    unit: 'seconds',
    labels: [],
    help: 'How long the last integrity check ran.',
  },
];
