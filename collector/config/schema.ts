/**
 * The root config schema, composed from the exporter registry: `exporters.<kind>`
 * is a list of that kind's instances. Published as homestation.schema.json so that
 * editors complete and check a user's file.
 */
import { Type, type TObject } from '@sinclair/typebox';
import type { ExporterKind } from '../contract.js';
import { Duration, Name, StringEnum } from './schema-types.js';
import { remediatorSchema } from '../../remediator/schema.js';

export const DEFAULT_PORT = 9870;
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;

/** One instance of a kind: the common settings plus the kind's own options. */
export function instanceSchema(kind: ExporterKind): TObject {
  return Type.Object(
    {
      name: Name('Instance name, unique within this exporter; the `exporter_instance` label of its series.'),
      interval: Type.Optional(
        Duration({ default: kind.defaults.interval, description: 'How often to collect, in the background.' }),
      ),
      timeout: Type.Optional(
        Duration({
          default: kind.defaults.timeout,
          description: 'A collection running longer is aborted and counted as reason="timeout".',
        }),
      ),
      ...kind.schema.properties,
    },
    { additionalProperties: false, description: kind.description },
  );
}

/**
 * The root config schema. `remediator: false` leaves the remediator's section out: a
 * config without one is validated without compiling it (see load.ts).
 */
export function rootSchema(kinds: readonly ExporterKind[], options: { remediator?: boolean } = {}): TObject {
  const exporters: Record<string, ReturnType<typeof Type.Optional>> = {};
  for (const kind of kinds) {
    exporters[kind.name] = Type.Optional(
      Type.Array(instanceSchema(kind), { description: `Instances of the ${kind.name} exporter: ${kind.description}` }),
    );
  }
  return Type.Object(
    {
      server: Type.Optional(
        Type.Object(
          {
            host: Type.Optional(Type.String({ default: '0.0.0.0', description: 'Address to listen on.' })),
            port: Type.Optional(
              Type.Integer({ minimum: 0, maximum: 65535, default: DEFAULT_PORT, description: 'TCP port; 0 picks a free one.' }),
            ),
          },
          { additionalProperties: false, default: {}, description: 'The HTTP server: /metrics, /healthz, /readyz, /.' },
        ),
      ),
      log: Type.Optional(
        Type.Object(
          {
            level: Type.Optional(StringEnum(LOG_LEVELS, { default: 'info', description: 'Least severe level logged.' })),
            format: Type.Optional(
              StringEnum(['auto', 'json', 'pretty'] as const, {
                default: 'auto',
                description: 'auto: readable on a terminal, JSON otherwise.',
              }),
            ),
          },
          { additionalProperties: false, default: {} },
        ),
      ),
      exporters: Type.Optional(
        Type.Object(exporters, {
          additionalProperties: false,
          default: {},
          description: 'Exporter instances by kind. A kind that is not listed is not loaded.',
        }),
      ),
      ...(options.remediator === false ? {} : { remediator: Type.Optional(remediatorSchema) }),
      shutdown_timeout: Type.Optional(
        Duration({ default: '10s', description: 'Longest a graceful shutdown may take before the process exits anyway.' }),
      ),
    },
    {
      additionalProperties: false,
      $id: 'urn:homestation:config',
      title: 'HomeStation configuration',
    },
  );
}
