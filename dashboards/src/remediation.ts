/** Remediation: incidents, actions, suppressions and the time to recovery. */
import { RowBuilder } from '@grafana/grafana-foundation-sdk/dashboard';
import { GREEN_RED, dashboard, query, stat, timeseries } from './common.js';

export const remediation = () =>
  dashboard('HomeStation / Remediation', 'homestation-remediation', 'What the remediator did, what it refused, and how fast services came back.')
    .withRow(new RowBuilder('Recovery SLO: 95% within 120 s'))
    .withPanel(
      stat('Within 2 min (1 h)', 'homestation:recovery_slo:ratio_1h', 'percentunit', [{ value: null, color: 'red' }, { value: 0.95, color: 'green' }], 'Share of the last hour\'s incidents recovered within 120 s.'),
    )
    .withPanel(
      stat('Within 2 min (1 d)', 'homestation:recovery_slo:ratio_1d', 'percentunit', [{ value: null, color: 'red' }, { value: 0.95, color: 'green' }], 'Share of the last day\'s incidents recovered within 120 s.'),
    )
    .withPanel(
      stat('Within 2 min (30 d)', 'homestation:recovery_slo:ratio_30d', 'percentunit', [{ value: null, color: 'red' }, { value: 0.95, color: 'green' }], 'Share of the last 30 days\' incidents recovered within 120 s.'),
    )
    .withPanel(stat('Actions running', 'sum(homestation_remediator_actions_in_progress)', 'short', [{ value: null, color: 'blue' }], 'Incidents being acted on now.'))
    .withPanel(stat('Paused', 'max(homestation_remediator_paused)', 'short', GREEN_RED, '1 = automatic remediation is paused (homestation resume).'))
    .withRow(new RowBuilder('Time to recovery'))
    .withPanel(
      timeseries(
        'Time to recovery',
        's',
        'From the alert start to the verified recovery: median and 95th percentile per service.',
        query('histogram_quantile(0.5, sum by (le, service) (rate(homestation_recovery_seconds_bucket[1h])))', 'p50 {{service}}'),
        query('histogram_quantile(0.95, sum by (le, service) (rate(homestation_recovery_seconds_bucket[1h])))', 'p95 {{service}}'),
      ),
    )
    .withPanel(
      timeseries(
        'Incidents by outcome',
        'short',
        'recovered, failed (a human was asked), refused, resolved.',
        query('sum by (outcome) (increase(homestation_remediator_incidents_total[1h]))', '{{outcome}}'),
      ),
    )
    .withRow(new RowBuilder('Actions and refusals'))
    .withPanel(
      timeseries('Actions', 'short', 'Restarts and redeploys by result.', query('sum by (service, action, result) (increase(homestation_remediator_actions_total[1h]))', '{{service}} {{action}} {{result}}')),
    )
    .withPanel(
      timeseries('Suppressed alerts', 'short', 'Alerts not acted on, by reason.', query('sum by (reason) (increase(homestation_remediator_suppressions_total[1h]))', '{{reason}}')),
    )
    .withPanel(
      timeseries('Escalations', 'short', 'Times a human was asked, by service and reason.', query('sum by (service, reason) (increase(homestation_remediator_escalations_total[1h]))', '{{service}} {{reason}}')),
    );
