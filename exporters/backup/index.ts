/**
 * Backup freshness: is every backup fresh, complete and kept long enough? One
 * instance watches one source (a restic repository, a borg repository, a borgmatic
 * config, dump files by glob, or Velero in a Kubernetes cluster); run as many
 * instances as you have repositories.
 */
import type { ConfigProblem } from '../../collector/contract.js';
import { defineExporter } from '../../collector/contract.js';
import { backupMetrics } from './metrics.js';
import { reviewBackup } from './review.js';
import { isValidZone } from './parse/timestamp.js';
import { backupSchema, type BackupConfig } from './schema.js';

const SOURCES = ['restic', 'borg', 'borgmatic', 'files', 'velero'] as const;

function duplicateSetNames(sets: readonly { name: string }[] | undefined, at: string): ConfigProblem[] {
  const seen = new Set<string>();
  const out: ConfigProblem[] = [];
  (sets ?? []).forEach((s, i) => {
    if (seen.has(s.name)) out.push({ path: [at, 'sets', i, 'name'], message: `duplicate set name "${s.name}"` });
    seen.add(s.name);
  });
  return out;
}

export const backup = defineExporter<BackupConfig>({
  name: 'backup',
  description: 'Backup freshness, completeness and retention of restic and borg repositories, dump files and Velero backups.',
  schema: backupSchema,
  defaults: { interval: '5m', timeout: '2m' },
  metrics: backupMetrics,
  review: reviewBackup,
  validate(config) {
    const problems: ConfigProblem[] = [];
    const present = SOURCES.filter((s) => config[s] !== undefined);
    if (present.length !== 1) {
      problems.push({
        path: present.length > 1 ? [present[1] as string] : [],
        message:
          present.length === 0
            ? 'set one source: restic, borg, borgmatic, files or velero'
            : `one source per instance (found ${present.join(' and ')}); make one instance for each`,
      });
    }
    const r = config.restic;
    if (r) {
      if (r.password !== undefined && r.password_file !== undefined) {
        problems.push({ path: ['restic', 'password'], message: 'set password or password_file, not both' });
      }
      const fromEnv = ['RESTIC_PASSWORD', 'RESTIC_PASSWORD_FILE', 'RESTIC_PASSWORD_COMMAND'].some((k) => r.env?.[k]);
      if (r.password === undefined && r.password_file === undefined && !fromEnv) {
        problems.push({
          path: ['restic'],
          message: 'restic repositories are always encrypted: set password_file (or password, or env RESTIC_PASSWORD_COMMAND)',
        });
      }
      problems.push(...duplicateSetNames(r.sets, 'restic'));
    }
    const b = config.borg;
    if (b) {
      if (b.passphrase !== undefined && b.passphrase_file !== undefined) {
        problems.push({ path: ['borg', 'passphrase'], message: 'set passphrase or passphrase_file, not both' });
      }
      if (b.timezone !== undefined && !isValidZone(b.timezone)) {
        problems.push({
          path: ['borg', 'timezone'],
          message: `unknown time zone "${b.timezone}" (use an IANA name such as Europe/Berlin, UTC, or "local")`,
        });
      }
      problems.push(...duplicateSetNames(b.sets, 'borg'));
    }
    const bm = config.borgmatic;
    if (bm && bm.timezone !== undefined && !isValidZone(bm.timezone)) {
      problems.push({ path: ['borgmatic', 'timezone'], message: `unknown time zone "${bm.timezone}" (use an IANA name such as Europe/Berlin, UTC, or "local")` });
    }
    if (config.files) problems.push(...duplicateSetNames(config.files.sets, 'files'));
    if (config.velero) problems.push(...duplicateSetNames(config.velero.sets, 'velero'));
    return problems;
  },
  // Each source's code (and its libraries) loads only when an instance uses it.
  async create(ctx, config) {
    if (config.restic) return (await import('./restic.js')).createResticSource(ctx, config, config.restic);
    if (config.borg) return (await import('./borg.js')).createBorgSource(ctx, config, config.borg);
    if (config.borgmatic) return (await import('./borgmatic.js')).createBorgmaticSource(ctx, config, config.borgmatic);
    if (config.velero) return (await import('./velero.js')).createVeleroSource(ctx, config, config.velero);
    return (await import('./files.js')).createFilesSource(ctx, config, config.files!);
  },
});
