/** Backups: freshness against each set's expected interval, retention, completeness, checks. */
import { RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { dashboard, instant, problemCount, query, table, timeseries } from './common.js';

export const backups = () =>
  dashboard('HomeStation / Backups', 'homestation-backups', 'Is every backup fresh, complete and kept long enough?')
    .withRow(new RowBuilder('Status'))
    .withPanel(
      problemCount('Sets overdue', 'time() - homestation_backup_last_timestamp_seconds > 1.5 * homestation_backup_expected_interval_seconds', 'Sets whose newest backup is older than 1.5 times their expected interval.'),
    )
    .withPanel(problemCount('Sets never backed up', 'homestation_backup_snapshots == 0', 'Configured sets with no backup at all.'))
    .withPanel(problemCount('Incomplete newest backups', 'homestation_backup_last_complete == 0', 'Sets whose newest backup did not complete: a file that failed its completeness check, a Velero backup that ended PartiallyFailed or Failed.'))
    .withRow(new RowBuilder('Sets'))
    .withPanel(
      table(
        'Backup sets',
        'One row per set: age of the newest backup, its expected interval, how many are kept and the newest size.',
        instant('time() - homestation_backup_last_timestamp_seconds').refId('age'),
        instant('homestation_backup_expected_interval_seconds').refId('interval'),
        instant('homestation_backup_snapshots').refId('kept'),
        instant('homestation_backup_last_size_bytes').refId('size'),
      ),
    )
    .withPanel(
      timeseries(
        'Age relative to the expected interval',
        'percentunit',
        'Above 150% the BackupStale alert is pending.',
        query('(time() - homestation_backup_last_timestamp_seconds) / homestation_backup_expected_interval_seconds', '{{exporter_instance}}/{{set}}'),
      ),
    )
    .withPanel(
      timeseries(
        'History kept',
        's',
        'Age of the oldest kept backup (retention).',
        query('time() - homestation_backup_oldest_timestamp_seconds', '{{exporter_instance}}/{{set}}'),
      ),
    )
    .withRow(new RowBuilder('Integrity checks and exporter'))
    .withPanel(
      timeseries('Integrity checks', 'short', '1 = the last restic/borg check passed.', query('homestation_backup_check_success', '{{exporter_instance}}')),
    )
    .withPanel(
      timeseries(
        'Collection errors',
        'short',
        'Failed collections of the backup exporter by reason.',
        query('sum by (exporter_instance, reason) (increase(homestation_exporter_errors_total{exporter="backup"}[1h]))', '{{exporter_instance}} {{reason}}'),
      ),
    );
