/**
 * The collector's HTTP API as a fastify instance (not listening: server.ts does
 * that, tests use inject()). Every route has its response schema.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger } from 'pino';
import type { Host } from '../host.js';
import { ERROR_REASONS } from '../contract.js';
import { health, type RemediatorView } from '../health.js';
import { sendExposition } from './exposition-body.js';
import { statusPage } from './status-page.js';
import { VERSION } from '../version.js';

const InstanceView = Type.Object({
  exporter: Type.String(),
  instance: Type.String(),
  mode: Type.String(),
  up: Type.Boolean(),
  settled: Type.Boolean(),
  last_success: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  last_attempt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  last_duration_seconds: Type.Union([Type.Number(), Type.Null()]),
  last_error: Type.Union([
    Type.Object({
      reason: Type.Unsafe<string>({ type: 'string', enum: [...ERROR_REASONS] }),
      message: Type.String(),
      hint: Type.Optional(Type.String()),
      at: Type.String({ format: 'date-time' }),
    }),
    Type.Null(),
  ]),
  series: Type.Integer({ minimum: 0 }),
});

const FindingView = Type.Object({
  severity: Type.Union([Type.Literal('critical'), Type.Literal('warning')]),
  source: Type.String(),
  subject: Type.String(),
  problem: Type.String(),
  since: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

const Status = Type.Object({
  version: Type.String(),
  config: Type.String(),
  /** What is wrong right now, worst and oldest first; empty when all is well. */
  findings: Type.Array(FindingView),
  /** What is fine, one line per source. */
  fine: Type.Array(Type.Object({ source: Type.String(), text: Type.String() })),
  instances: Type.Array(InstanceView),
});

export interface AppOptions {
  readonly host: Host;
  readonly log: Logger;
  /** Where the config came from, for the status page. */
  readonly configSource: string;
  /** The remediator of `homestation run`, when the config has one. */
  readonly remediator?: RemediatorView;
}

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

export function buildApp(options: AppOptions): FastifyInstance {
  const { host } = options;
  const app = Fastify({
    loggerInstance: options.log.child({ component: 'http' }) as FastifyBaseLogger,
    // A scrape every 15 s is no news: no log line per request.
    logController: new LogController({ disableRequestLogging: true }),
  }).withTypeProvider<TypeBoxTypeProvider>();

  const view = (now = Date.now()) => {
    // One status read per instance and request: a stream's snapshot is not free.
    const statuses = host.runners.map((r) => ({ status: r.status(), kind: r.kind }));
    const h = health(statuses, options.remediator, now);
    return {
    version: VERSION,
    config: options.configSource,
    findings: h.findings.map((f) => ({ severity: f.severity, source: f.source, subject: f.subject, problem: f.problem, since: iso(f.since) })),
    fine: [...h.fine],
    instances: statuses.map(({ status: st }) => {
      return {
        exporter: st.exporter,
        instance: st.instance,
        mode: st.mode,
        up: st.up,
        settled: st.settled,
        last_success: iso(st.lastSuccess),
        last_attempt: iso(st.lastAttempt),
        last_duration_seconds: st.lastDurationMs === undefined ? null : st.lastDurationMs / 1000,
        last_error: st.lastError
          ? {
              reason: st.lastError.reason,
              message: st.lastError.message,
              ...(st.lastError.hint ? { hint: st.lastError.hint } : {}),
              at: new Date(st.lastError.at).toISOString(),
            }
          : null,
        series: st.samples.length,
      };
    }),
    };
  };

  // The pooled body's bytes, or their gzip (Buffers, sent as they are, not serialized).
  app.get('/metrics', { schema: { response: { 200: Type.String() } } }, async (req, reply) => sendExposition(req, reply, await host.exposition.body(), host.exposition.contentType));

  app.get('/healthz', { schema: { response: { 200: Type.Object({ status: Type.Literal('ok') }) } } }, async () => ({
    status: 'ok' as const,
  }));

  app.get(
    '/readyz',
    {
      schema: {
        response: {
          200: Type.Object({ status: Type.Literal('ready') }),
          503: Type.Object({ status: Type.Literal('starting'), pending: Type.Array(Type.String()) }),
        },
      },
    },
    async (_req, reply) => {
      const r = host.readiness();
      const pending = [...r.pending];
      if (options.remediator) {
        const engine = options.remediator.engine();
        if (!engine) pending.push('remediator (starting)');
        else if (!engine.connected) pending.push(`remediator (container engine unreachable: ${engine.error ?? 'unknown'})`);
      }
      if (pending.length === 0) return reply.code(200).send({ status: 'ready' as const });
      return reply.code(503).send({ status: 'starting' as const, pending });
    },
  );

  app.get('/api/v1/status', { schema: { response: { 200: Status } } }, async () => view());

  app.get('/', async (_req, reply) => {
    const now = Date.now();
    return reply.type('text/html; charset=utf-8').send(statusPage(view(now), now));
  });

  return app as unknown as FastifyInstance;
}
