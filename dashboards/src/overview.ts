/** Overview: what is down, what was healed, the recovery SLO, backups overdue, storage filling. */
import { RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { GREEN_RED, dashboard, instant, problemCount, query, stat, table, timeseries } from './common.js';

export const overview = () =>
  dashboard('HomeStation / Overview', 'homestation-overview', 'What is down, what was healed, and what needs a human.')
    .withRow(new RowBuilder('Now'))
    .withPanel(problemCount('Services down', 'probe_success{job="blackbox"} == 0', 'Probed services failing their blackbox probe.'))
    .withPanel(problemCount('Exporters failing', 'homestation_exporter_up == 0', 'Exporter instances whose last collection failed.'))
    .withPanel(
      problemCount('Backups overdue', 'time() - homestation_backup_last_timestamp_seconds > 1.5 * homestation_backup_expected_interval_seconds', 'Backup sets whose newest backup is older than 1.5 times their expected interval.'),
    )
    .withPanel(
      stat('Healed (24 h)', 'sum(increase(homestation_remediator_incidents_total{outcome="recovered"}[24h])) or vector(0)', 'short', [{ value: null, color: 'blue' }], 'Incidents the remediator resolved in the last day.'),
    )
    .withPanel(
      stat('Needed a human (24 h)', 'sum(increase(homestation_remediator_escalations_total[24h])) or vector(0)', 'short', GREEN_RED, 'Times the remediator gave up and asked a person.'),
    )
    .withPanel(
      stat(
        'Recovered within 2 min (30 d)',
        'homestation:recovery_slo:ratio_30d',
        'percentunit',
        [
          { value: null, color: 'red' },
          { value: 0.9, color: 'orange' },
          { value: 0.95, color: 'green' },
        ],
        'Share of incidents recovered within 120 s over 30 days; the target is 95%. See the Remediation dashboard.',
      ),
    )
    .withRow(new RowBuilder('Firing alerts'))
    .withPanel(table('Firing alerts', 'Alerts firing in Prometheus now.', instant('ALERTS{alertstate="firing"}')))
    .withRow(new RowBuilder('Trends'))
    .withPanel(timeseries('Service probes', 'short', '1 = the service answers its probe.', query('probe_success{job="blackbox"}', '{{service}}')))
    .withPanel(
      timeseries(
        'Fullest filesystems',
        'percentunit',
        'Used share of the five fullest local filesystems.',
        query('topk(5, 1 - homestation_filesystem_avail_bytes / homestation_filesystem_size_bytes)', '{{instance}} {{mountpoint}}'),
      ),
    );
