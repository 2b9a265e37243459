/** Config schema of the backup exporter: one instance watches one source. */
import { Type } from '@sinclair/typebox';
import { kubeConnectionFields } from '../../collector/kube/connection-schema.js';
import { Duration, Name, Secret, SecretFile, StringEnum } from '../../collector/config/schema-types.js';
import { VERIFY_MODES, type VerifyMode } from './verify-file.js';

const expectations = {
  expected_interval: Type.Optional(
    Duration({
      description:
        'How often a new backup should appear; alerts compare the age of the newest one to it. ' +
        '0s: no freshness expectation (files rewritten only when something changed, as dpkg\'s).',
    }),
  ),
  min_retention: Type.Optional(
    Duration({ description: 'The oldest kept backup should be at least this old (retention policy, e.g. 30d).' }),
  ),
};

const check = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean({ default: false, description: 'Run the integrity check at all.' })),
    interval: Type.Optional(Duration({ default: '7d', description: 'How often (also once at start-up).' })),
    timeout: Type.Optional(Duration({ default: '6h', description: 'The check is killed after this long.' })),
    args: Type.Optional(
      Type.Array(Type.String(), {
        default: [],
        description: 'Extra arguments, e.g. ["--read-data-subset=5%"] for restic or ["--repository-only"] for borg.',
      }),
    ),
  },
  {
    additionalProperties: false,
    description: 'The expensive integrity check (restic check / borg check), on its own slow schedule.',
  },
);

const envMap = Type.Record(
  Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }),
  Secret('An environment variable for the tool (cloud credentials, ...).'),
  { description: 'Extra environment for the tool; values are secrets: never printed.' },
);

const restic = Type.Object(
  {
    repository: Type.String({ minLength: 1, description: 'The repository, as for restic -r (path, sftp:, rest:, s3:, b2:, ...).' }),
    password: Type.Optional(Secret('The repository password; prefer password_file or ${ENV}.')),
    password_file: Type.Optional(SecretFile('A file holding the repository password.')),
    env: Type.Optional(envMap),
    command: Type.Optional(Type.String({ default: 'restic', description: 'The restic binary.' })),
    group_by: Type.Optional(
      Type.Array(StringEnum(['host', 'paths', 'tags'] as const, { description: 'A grouping key.' }), {
        default: ['host', 'paths'],
        description: 'Without `sets`: how snapshots are grouped into sets, as restic --group-by.',
      }),
    ),
    sets: Type.Optional(
      Type.Array(
        Type.Object(
          {
            name: Name('The `set` label.'),
            host: Type.Optional(Type.String({ description: 'Snapshots of this host only.' })),
            paths: Type.Optional(Type.Array(Type.String(), { description: 'Snapshots of exactly these paths.' })),
            tags: Type.Optional(Type.Array(Type.String(), { description: 'Snapshots carrying all these tags.' })),
            ...expectations,
          },
          { additionalProperties: false },
        ),
        { description: 'Named sets with their own expectations; only these are reported.' },
      ),
    ),
    check: Type.Optional(check),
  },
  { additionalProperties: false, description: 'A restic repository.' },
);

const borg = Type.Object(
  {
    repository: Type.String({ minLength: 1, description: 'The repository, as for borg (path or ssh://...).' }),
    passphrase: Type.Optional(Secret('The passphrase of an encrypted repository; prefer passphrase_file.')),
    passphrase_file: Type.Optional(SecretFile('A file holding the passphrase.')),
    env: Type.Optional(envMap),
    command: Type.Optional(Type.String({ default: 'borg', description: 'The borg binary.' })),
    timezone: Type.Optional(
      Type.String({
        default: 'UTC',
        description:
          'Borg 1.x prints archive times as naive local times of the process running `borg list`. HomeStation ' +
          'runs borg with TZ set to this zone and reads the times in it. Change it only when `command` is a ' +
          'wrapper that runs borg elsewhere (ssh), to that machine\'s zone (IANA name, or "local" to inherit).',
      }),
    ),
    sizes: Type.Optional(
      Type.Boolean({ default: true, description: 'Read the newest archive size of each set (one borg info per set).' }),
    ),
    sets: Type.Optional(
      Type.Array(
        Type.Object(
          {
            name: Name('The `set` label.'),
            archive: Type.String({ minLength: 1, description: 'Glob on archive names, e.g. "nas-home-*".' }),
            ...expectations,
          },
          { additionalProperties: false },
        ),
        { description: 'Named sets by archive name; without them the whole repository is one set.' },
      ),
    ),
    check: Type.Optional(check),
  },
  { additionalProperties: false, description: 'A borg repository.' },
);

const borgmatic = Type.Object(
  {
    config: Type.Optional(
      Type.String({ default: '/etc/borgmatic/config.yaml', description: "borgmatic's config file: each of its repositories becomes a set." }),
    ),
    json_file: Type.Optional(
      Type.String({ description: 'Instead of running borgmatic: a file where your own job writes `borgmatic list --json` (read at each collection).' }),
    ),
    command: Type.Optional(Type.String({ default: 'borgmatic', description: 'The borgmatic binary.' })),
    timezone: Type.Optional(
      Type.String({ default: 'UTC', description: 'As for borg: the zone borg 1.x prints archive times in (borgmatic passes TZ on to borg).' }),
    ),
    sizes: Type.Optional(Type.Boolean({ default: true, description: 'Read the newest archive size of each repository (`borgmatic info --json --last 1`).' })),
    ...expectations,
  },
  { additionalProperties: false, description: 'The repositories of a borgmatic config, each its own set (by label, else by location).' },
);

const files = Type.Object(
  {
    sets: Type.Array(
      Type.Object(
        {
          name: Name('The `set` label.'),
          glob: Type.String({ minLength: 1, description: 'Files of this set, e.g. "/srv/backups/pg/*.sql.gz".' }),
          optional: Type.Optional(
            Type.Boolean({
              default: false,
              description:
                'Say nothing while the glob matches no file (a place that may legitimately stay empty); once files appear they are watched as any set. ' +
                'Without it, an empty set reports 0 backups (BackupNeverSucceeded).',
            }),
          ),
          verify: Type.Optional(
            StringEnum(VERIFY_MODES, {
              default: 'auto',
              description:
                'Completeness check of the newest file: gzip integrity, pg_dump trailer, PGDMP magic; ' +
                'auto = gzip for .gz/.tgz/.snap, else non-empty.',
            }),
          ),
          ...expectations,
        },
        { additionalProperties: false },
      ),
      { minItems: 1 },
    ),
  },
  { additionalProperties: false, description: 'Backup files on disk: database dumps, Vault snapshots, archives.' },
);

const velero = Type.Object(
  {
    ...kubeConnectionFields,
    namespace: Type.Optional(Type.String({ default: 'velero', description: "Velero's namespace (where its Backups and Schedules are)." })),
    sets: Type.Optional(
      Type.Array(
        Type.Object(
          {
            name: Name('The `set` label.'),
            schedule: Type.String({ minLength: 1, description: 'The Velero Schedule whose backups form the set.' }),
            ...expectations,
          },
          { additionalProperties: false },
        ),
        {
          description:
            'Named sets with their own expectations; only these are reported. Without them: one set per Schedule (expected interval from its cron) and "manual" for backups made by hand.',
        },
      ),
    ),
  },
  { additionalProperties: false, description: "Velero's Backups and Schedules in a Kubernetes cluster, followed by a watch." },
);

export const backupSchema = Type.Object({
  restic: Type.Optional(restic),
  borg: Type.Optional(borg),
  borgmatic: Type.Optional(borgmatic),
  files: Type.Optional(files),
  velero: Type.Optional(velero),
  expected_interval: Type.Optional(
    Duration({ default: '1d', description: 'Default expected interval of every set of this instance.' }),
  ),
  min_retention: Type.Optional(Duration({ description: 'Default minimum retention of every set of this instance.' })),
});

// The config as the exporter receives it (durations in milliseconds).

export interface Expectation {
  expected_interval?: number;
  min_retention?: number;
}
export interface CheckConfig {
  enabled: boolean;
  interval: number;
  timeout: number;
  args: string[];
}
export interface ResticConfig {
  repository: string;
  password?: string;
  password_file?: string;
  env?: Record<string, string>;
  command: string;
  group_by: ('host' | 'paths' | 'tags')[];
  sets?: (Expectation & { name: string; host?: string; paths?: string[]; tags?: string[] })[];
  check?: CheckConfig;
}
export interface BorgConfig {
  repository: string;
  passphrase?: string;
  passphrase_file?: string;
  env?: Record<string, string>;
  command: string;
  timezone: string;
  sizes: boolean;
  sets?: (Expectation & { name: string; archive: string })[];
  check?: CheckConfig;
}
export interface BorgmaticConfig extends Expectation {
  config: string;
  json_file?: string;
  command: string;
  timezone: string;
  sizes: boolean;
}
export interface FilesConfig {
  sets: (Expectation & { name: string; glob: string; optional: boolean; verify: VerifyMode })[];
}
export interface VeleroConfig {
  kubeconfig?: string;
  context?: string;
  namespace: string;
  sets?: (Expectation & { name: string; schedule: string })[];
}
export interface BackupConfig {
  restic?: ResticConfig;
  borg?: BorgConfig;
  borgmatic?: BorgmaticConfig;
  files?: FilesConfig;
  velero?: VeleroConfig;
  expected_interval: number;
  min_retention?: number;
}
