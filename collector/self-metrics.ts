/** The host's own metrics: one set per exporter instance, plus build info. */
import type { MetricSpec } from './contract.js';

export const SELF = {
  up: 'homestation_exporter_up',
  lastSuccess: 'homestation_exporter_last_success_timestamp_seconds',
  duration: 'homestation_exporter_collect_duration_seconds',
  errors: 'homestation_exporter_errors_total',
  build: 'homestation_build_info',
} as const;

/**
 * Catalogue entries of the host's metrics. Unlike exporter metrics their labels are
 * listed in full: they carry `exporter` besides `exporter_instance`.
 */
export const selfMetrics: readonly MetricSpec[] = [
  {
    name: SELF.up,
    type: 'gauge',
    labels: ['exporter', 'exporter_instance'],
    help: '1 if the last collection of the exporter instance succeeded (streams: connected and current), else 0.',
  },
  {
    name: SELF.lastSuccess,
    type: 'gauge',
    unit: 'seconds',
    labels: ['exporter', 'exporter_instance'],
    help: 'When the exporter instance last collected successfully, as a Unix time; absent before the first success.',
  },
  {
    name: SELF.duration,
    type: 'gauge',
    unit: 'seconds',
    labels: ['exporter', 'exporter_instance'],
    help: 'How long the last collection of the exporter instance took, successful or not.',
  },
  {
    name: SELF.errors,
    type: 'counter',
    labels: ['exporter', 'exporter_instance', 'reason'],
    help: 'Failed collections by reason: timeout, auth, unreachable, locked, parse, command_missing, other.',
  },
  {
    name: SELF.build,
    type: 'gauge',
    labels: ['version', 'node_version'],
    help: 'Always 1; the labels say which HomeStation and Node.js versions are running.',
  },
];
