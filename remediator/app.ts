/**
 * The remediator's HTTP API (fastify): Alertmanager's webhook, incidents, the pause
 * switch, maintenance silences and manual remediation. Every route has its schema;
 * bodies over 1 MiB get 413, malformed ones 400 naming the field, and a webhook is
 * answered 200 as soon as it is recorded: acting happens in the background.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Authenticator } from './auth.js';
import type { Engine } from './engine.js';
import type { EngineLinkStatus } from './engine-link.js';
import type { Journal } from './journal.js';
import { ACTIONS } from './schema.js';
import { WebhookSchema } from './webhook-schema.js';
import { parseDuration } from '../collector/duration.js';
import { sendExposition } from '../collector/http/exposition-body.js';

export const BODY_LIMIT = 1024 * 1024;
/** An oversize body is read and thrown away up to this, so that its sender gets the 413 (not EPIPE). */
const DRAIN_LIMIT = 64 * 1024 * 1024;

/** Reads what is left of a request body and throws it away; resolves at its end, past `limit` bytes, or after 10 s. */
function drain(raw: import('node:http').IncomingMessage, limit: number): Promise<number> {
  return new Promise((resolve) => {
    let bytes = 0;
    if (raw.readableEnded || raw.destroyed) return resolve(bytes);
    const done = () => {
      clearTimeout(timer);
      raw.removeListener('data', onData);
      resolve(bytes);
    };
    const onData = (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > limit) done();
    };
    const timer = setTimeout(done, 10_000);
    raw.on('data', onData);
    raw.once('end', done);
    raw.once('error', done);
    raw.resume();
  });
}

const ErrorBody = Type.Object({ error: Type.String(), message: Type.String(), field: Type.Optional(Type.String()) });

export interface RemediatorAppOptions {
  readonly engine: Engine;
  readonly journal: Journal;
  readonly authenticate: Authenticator;
  readonly registry: Registry;
  readonly log: Logger;
  /** The link to the container engine; without one, webhooks are answered 503 (Alertmanager retries). */
  readonly engineStatus: () => EngineLinkStatus;
}

export function buildRemediatorApp(o: RemediatorAppOptions): FastifyInstance {
  const app = Fastify({
    loggerInstance: o.log.child({ component: 'remediator-http' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT,
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.addHook('onRequest', async (req, reply) => {
    if (req.url === '/healthz' || req.url === '/readyz') return;
    if (!o.authenticate(req.headers.authorization)) {
      o.log.warn({ url: req.url, ip: req.ip }, 'unauthenticated request refused');
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer realm="homestation-remediator"')
        .send({ error: 'unauthorized', message: 'a valid bearer token or basic auth is required' });
    }
  });

  app.setErrorHandler(async (err: FastifyError, req, reply) => {
    if (err.statusCode === 413) {
      // Fastify answers before reading: the sender, still writing, would get EPIPE and
      // retry. Read it out (bounded), then answer, so the sender sees the 413.
      const drained = await drain(req.raw, DRAIN_LIMIT);
      const declared = Number(req.headers['content-length'] ?? Number.NaN);
      o.log.warn(
        { bytes: Number.isFinite(declared) ? declared : drained, limit: BODY_LIMIT, sender: req.ip, userAgent: req.headers['user-agent'] },
        'webhook body too large: refused with 413 (lower max_alerts in Alertmanager)',
      );
      if (drained > DRAIN_LIMIT) void reply.header('connection', 'close');
      return reply.code(413).send({ error: 'payload_too_large', message: `the body is over ${BODY_LIMIT} bytes` });
    }
    if (err.validation) {
      const first = err.validation[0];
      const field = `${err.validationContext ?? 'body'}${first?.instancePath ?? ''}`;
      return reply.code(400).send({ error: 'bad_request', message: err.message, field });
    }
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) o.log.error({ err: err.message }, 'request failed');
    return reply.code(status).send({ error: err.code ?? 'error', message: status === 500 ? 'internal error' : err.message });
  });

  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (_req, reply) => {
    const engine = o.engineStatus();
    if (engine.connected) return { status: 'ready' };
    return reply.code(503).send({ status: 'degraded', reason: `container engine unreachable: ${engine.error ?? 'unknown'}` });
  });

  app.get('/metrics', async (req, reply) => sendExposition(req, reply, await o.registry.metrics(), o.registry.contentType));

  app.post(
    '/webhook/alertmanager',
    {
      schema: {
        body: WebhookSchema,
        response: { 200: Type.Object({ accepted: Type.Integer(), duplicates: Type.Integer() }), 400: ErrorBody, 401: ErrorBody, 413: ErrorBody, 503: ErrorBody },
      },
    },
    async (req, reply) => {
      const engine = o.engineStatus();
      // Not recorded: Alertmanager retries a 5xx, so the alert is acted on once the engine is back.
      if (!engine.connected) {
        return reply.code(503).send({ error: 'engine_unavailable', message: `the container engine cannot be reached (${engine.error ?? 'unknown'}); retry later` });
      }
      return o.engine.receive(req.body);
    },
  );

  app.get(
    '/api/v1/incidents',
    { schema: { querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 50 })) }) } },
    async (req) => ({
      paused: o.engine.paused,
      incidents: o.journal.incidents(req.query.limit).map((i) => ({ ...i, steps: o.journal.entries(i.id) })),
    }),
  );

  app.get('/api/v1/incidents/:id', { schema: { params: Type.Object({ id: Type.Integer({ minimum: 1 }) }) } }, async (req, reply) => {
    const incident = o.journal.incident(req.params.id);
    if (!incident) return reply.code(404).send({ error: 'not_found', message: `no incident ${req.params.id}` });
    return { ...incident, steps: o.journal.entries(incident.id), migrations: o.journal.migrationsOf(incident.id) };
  });

  app.get('/api/v1/services', async () => o.engine.servicesView());

  app.post(
    '/api/v1/incidents/:id/:decision',
    { schema: { params: Type.Object({ id: Type.Integer({ minimum: 1 }), decision: Type.Unsafe<'approve' | 'deny' | 'silence'>({ type: 'string', enum: ['approve', 'deny', 'silence'] }) }) } },
    async (req, reply) => {
      // The answer to a step marked approve: true (how Discord users answer: webhooks carry no buttons).
      if (!o.engine.approvals?.answer(req.params.id, req.params.decision, `api (${req.ip})`)) {
        return reply.code(409).send({ error: 'not_waiting', message: `incident ${req.params.id} waits for no approval` });
      }
      return { incident: req.params.id, decision: req.params.decision };
    },
  );

  app.post('/api/v1/pause', async () => {
    o.engine.setPaused(true, 'api');
    return { paused: true };
  });
  app.post('/api/v1/resume', async () => {
    o.engine.setPaused(false, 'api');
    return { paused: false };
  });

  app.get('/api/v1/silences', async () => ({ silences: o.engine.silences() }));
  app.post(
    '/api/v1/silences',
    { schema: { body: Type.Object({ service: Type.String({ minLength: 1 }), duration: Type.String({ pattern: '^([0-9]+(ms|s|m|h|d|w))+$' }) }, { additionalProperties: false }) } },
    async (req) => {
      const until = Date.now() + parseDuration(req.body.duration);
      o.engine.silence(req.body.service, until, 'api');
      return { service: req.body.service, until: new Date(until).toISOString() };
    },
  );

  app.post(
    '/api/v1/remediate',
    {
      schema: {
        body: Type.Object(
          {
            service: Type.String({ minLength: 1 }),
            action: Type.Unsafe<(typeof ACTIONS)[number]>({ type: 'string', enum: [...ACTIONS] }),
            dry_run: Type.Optional(Type.Boolean({ default: false })),
            to: Type.Optional(Type.String({ minLength: 1, description: 'migrate: the host to move to.' })),
          },
          { additionalProperties: false },
        ),
      },
    },
    async (req, reply) => {
      const now = Date.now();
      // The same guarded path as an alert, with a key of its own.
      if (req.body.to !== undefined && req.body.action !== 'migrate') {
        return reply.code(400).send({ error: 'bad_request', message: 'to is for the migrate action', field: 'body/to' });
      }
      if (req.body.to !== undefined && !o.engine.hosts.names.includes(req.body.to)) {
        return reply.code(400).send({ error: 'bad_request', message: `unknown host "${req.body.to}" (known: ${o.engine.hosts.names.join(', ')})`, field: 'body/to' });
      }
      const incident = o.engine.decide(req.body.service, [{ action: req.body.action, attempts: 1, ...(req.body.to ? { to: req.body.to } : {}) }], {
        key: `manual:${now}:${req.body.service}`,
        name: 'manual',
        startsAt: now,
        since: 'manual',
        cooldown: 0,
        dryRun: req.body.dry_run,
      });
      return { incident: incident ?? null, suppressed: incident === undefined };
    },
  );

  return app as unknown as FastifyInstance;
}
