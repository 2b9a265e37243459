/**
 * Config schema of the remediator (`remediator:` in the config file): who may call
 * it, which engine it drives, which services it may touch, and which alerts map to
 * which escalation ladder.
 */
import { Type } from '@sinclair/typebox';
import { Duration, Name, SecretFile, StringEnum } from '../collector/config/schema-types.js';

export const ACTIONS = ['restart', 'redeploy'] as const;

/** Per-service defaults, also used for services that opted in by label without being listed. */
export const SERVICE_DEFAULTS = { recovery_deadline: '60s', stop_timeout: '10s' } as const;
export type ActionName = (typeof ACTIONS)[number];

const probe = Type.Object(
  {
    http: Type.Optional(
      Type.Object(
        {
          url: Type.String({ description: 'URL to GET, e.g. http://127.0.0.1:8080/health.' }),
          expect_status: Type.Optional(
            Type.Array(Type.Integer({ minimum: 100, maximum: 599 }), { description: 'Accepted statuses; default 200-399.' }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    tcp: Type.Optional(
      Type.Object({ host: Type.String(), port: Type.Integer({ minimum: 1, maximum: 65535 }) }, { additionalProperties: false }),
    ),
    exec: Type.Optional(
      Type.Array(Type.String(), { minItems: 1, description: 'Command run inside the container; exit 0 = healthy.' }),
    ),
    timeout: Type.Optional(Duration({ default: '3s', description: 'One probe attempt.' })),
  },
  { additionalProperties: false, description: "The service's own check: one of http, tcp, exec." },
);

const service = Type.Object(
  {
    name: Name('The service name alerts refer to (label `service`).'),
    container: Type.Optional(Type.String({ description: 'Container name.' })),
    compose: Type.Optional(
      Type.Object(
        { project: Type.String(), service: Type.String() },
        { additionalProperties: false, description: 'Found by the com.docker.compose.project/service labels.' },
      ),
    ),
    depends_on: Type.Optional(Type.Array(Type.String(), { description: 'Services that must be up first.' })),
    probe: Type.Optional(probe),
    recovery_deadline: Type.Optional(
      Duration({ default: SERVICE_DEFAULTS.recovery_deadline, description: 'How long a recovery check may take after an action.' }),
    ),
    stop_timeout: Type.Optional(Duration({ default: SERVICE_DEFAULTS.stop_timeout, description: 'Grace period before SIGKILL on stop.' })),
    watch: Type.Optional(
      Type.Object(
        {
          enabled: Type.Optional(Type.Boolean({ description: 'Watch this service (default: the remediator-wide watch.enabled).' })),
          period: Type.Optional(Duration({ description: 'How often (default: watch.period).' })),
          failure_threshold: Type.Optional(Type.Integer({ minimum: 1, description: 'Failed probes in a row (default: watch.failure_threshold).' })),
        },
        { additionalProperties: false, description: "This service's liveness watch, over the remediator-wide defaults." },
      ),
    ),
  },
  { additionalProperties: false },
);

const step = Type.Object(
  {
    action: StringEnum(ACTIONS, { description: 'restart: stop and start. redeploy: recreate from its own configuration.' }),
    attempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 10, default: 1 })),
  },
  { additionalProperties: false },
);

const policy = Type.Object(
  {
    name: Type.Optional(Type.String()),
    match: Type.Record(Type.String(), Type.String(), { description: 'Alert labels that must all be equal.' }),
    service: Type.Optional(Type.String({ description: 'The service to act on; default: the alert label `service`.' })),
    ladder: Type.Array(step, { minItems: 1, description: 'Steps tried in order until the service recovers.' }),
    cooldown: Type.Optional(Duration({ description: 'No new action on the service this long after an incident.' })),
  },
  { additionalProperties: false },
);

export const remediatorSchema = Type.Object(
  {
    host: Type.Optional(Type.String({ default: '127.0.0.1' })),
    port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535, default: 9871 })),
    auth: Type.Optional(
      Type.Object(
        {
          bearer_token_file: Type.Optional(SecretFile("A file with the token Alertmanager sends (http_config.authorization).")),
          basic: Type.Optional(
            Type.Object(
              { username: Type.String({ minLength: 1 }), password_file: SecretFile('A file with the password.') },
              { additionalProperties: false },
            ),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    insecure: Type.Optional(
      Type.Boolean({ default: false, description: 'Run without authentication (binds to loopback only).' }),
    ),
    docker: Type.Optional(
      Type.Object(
        {
          host: Type.Optional(
            Type.String({
              description: 'unix:///var/run/docker.sock, tcp://host:2376 or ssh://user@host; default DOCKER_HOST or the local socket.',
            }),
          ),
          ca_file: Type.Optional(Type.String()),
          cert_file: Type.Optional(Type.String()),
          key_file: Type.Optional(SecretFile('TLS client key for tcp://.')),
        },
        { additionalProperties: false, default: {} },
      ),
    ),
    journal: Type.Optional(
      Type.String({ default: './homestation-remediator.db', description: 'SQLite journal of every alert, decision and action.' }),
    ),
    dry_run: Type.Optional(Type.Boolean({ default: false, description: 'Decide and record, never act.' })),
    max_concurrent_actions: Type.Optional(Type.Integer({ minimum: 1, default: 2 })),
    cooldown: Type.Optional(Duration({ default: '5m', description: 'Default cooldown of policies.' })),
    rate_limit: Type.Optional(
      Type.Object(
        {
          max_actions: Type.Optional(Type.Integer({ minimum: 1, default: 3 })),
          window: Type.Optional(Duration({ default: '1h', description: 'The window the count is over.' })),
        },
        { additionalProperties: false, default: {}, description: 'Per service; past it: stop and ask a human.' },
      ),
    ),
    notify: Type.Optional(
      Type.Object(
        {
          events: Type.Optional(
            Type.Array(StringEnum(['needs_human', 'recovered', 'refused'] as const, { description: 'An event kind.' }), {
              default: ['needs_human', 'recovered'],
              description: 'Which events reach the chat channels (all are logged).',
            }),
          ),
          telegram: Type.Optional(
            Type.Object(
              {
                bot_token_file: SecretFile('A file with the bot token from @BotFather.'),
                chat_id: Type.String({ minLength: 1, description: 'The chat (user, group or channel id) to write to.' }),
                api_url: Type.Optional(Type.String({ default: 'https://api.telegram.org', description: 'The Bot API server.' })),
              },
              { additionalProperties: false },
            ),
          ),
          discord: Type.Optional(
            Type.Object(
              { webhook_url_file: SecretFile('A file with the channel webhook URL (it contains its token).') },
              { additionalProperties: false },
            ),
          ),
        },
        { additionalProperties: false, description: 'Telling people: every event is logged; these channels get the chosen ones.' },
      ),
    ),
    services: Type.Optional(Type.Array(service, { default: [] })),
    policies: Type.Optional(Type.Array(policy, { default: [] })),
    events: Type.Optional(
      Type.Object(
        {
          enabled: Type.Optional(Type.Boolean({ default: true, description: "Follow the engine's /events (die, oom, health unhealthy) of the managed services and act at once." })),
        },
        { additionalProperties: false, default: {}, description: 'The fast path: a crash is acted on seconds after it, not after the alert; the alert that follows joins it.' },
      ),
    ),
    watch: Type.Optional(
      Type.Object(
        {
          enabled: Type.Optional(Type.Boolean({ default: true, description: 'Probe every listed service that has a probe, on its own period.' })),
          period: Type.Optional(Duration({ default: '5s', description: 'How often the remediator probes a service itself.' })),
          failure_threshold: Type.Optional(
            Type.Integer({ minimum: 1, default: 3, description: 'Failed probes in a row that make a failure (5s x 3: a hang is acted on in about 15 s).' }),
          ),
        },
        {
          additionalProperties: false,
          default: {},
          description: "The remediator's own liveness watch, as a Kubernetes liveness probe: it finds the hangs no crash event shows. The Prometheus alert stays the backstop.",
        },
      ),
    ),
  },
  { additionalProperties: false, description: 'The remediator: Alertmanager webhooks in, verified recoveries out.' },
);

// As the remediator receives it (durations in milliseconds).

export interface ProbeConfig {
  http?: { url: string; expect_status?: number[] };
  tcp?: { host: string; port: number };
  exec?: string[];
  timeout: number;
}
export interface ServiceConfig {
  name: string;
  container?: string;
  compose?: { project: string; service: string };
  depends_on?: string[];
  probe?: ProbeConfig;
  recovery_deadline: number;
  stop_timeout: number;
  watch?: { enabled?: boolean; period?: number; failure_threshold?: number };
}
export interface StepConfig {
  action: ActionName;
  attempts: number;
}
export interface PolicyConfig {
  name?: string;
  match: Record<string, string>;
  service?: string;
  ladder: StepConfig[];
  cooldown?: number;
}
export interface RemediatorConfig {
  host: string;
  port: number;
  auth?: { bearer_token_file?: string; basic?: { username: string; password_file: string } };
  insecure: boolean;
  docker: { host?: string; ca_file?: string; cert_file?: string; key_file?: string };
  journal: string;
  dry_run: boolean;
  max_concurrent_actions: number;
  cooldown: number;
  rate_limit: { max_actions: number; window: number };
  notify?: NotifyConfig;
  services: ServiceConfig[];
  policies: PolicyConfig[];
  events: { enabled: boolean };
  watch: { enabled: boolean; period: number; failure_threshold: number };
}
export interface NotifyConfig {
  events: ('needs_human' | 'recovered' | 'refused')[];
  telegram?: { bot_token_file: string; chat_id: string; api_url: string };
  discord?: { webhook_url_file: string };
}
