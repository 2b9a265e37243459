/**
 * Config schema of the remediator (`remediator:` in the config file): who may call
 * it, which engine it drives, which services it may touch, and which alerts map to
 * which escalation ladder.
 */
import { Type } from '@sinclair/typebox';
import { kubeConnectionFields } from '../collector/kube/connection-schema.js';
import { Duration, Name, SecretFile, StringEnum } from '../collector/config/schema-types.js';

export const ACTIONS = ['restart', 'redeploy', 'migrate'] as const;
/** The name of the engine under `docker:`, the one every service runs on unless its `hosts` say otherwise. */
export const LOCAL_HOST = 'local';

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
    kubernetes: Type.Optional(
      Type.Object(
        {
          namespace: Type.String({ minLength: 1, description: 'The workload\'s namespace.' }),
          kind: Type.Optional(StringEnum(['Deployment', 'StatefulSet', 'DaemonSet'] as const, { default: 'Deployment', description: 'The workload kind.' })),
          name: Type.Optional(Type.String({ minLength: 1, description: 'The workload\'s name.' })),
          selector: Type.Optional(Type.String({ minLength: 1, description: 'Or a label selector that matches exactly one workload of the kind, e.g. app.kubernetes.io/name=zigbee2mqtt.' })),
        },
        { additionalProperties: false, description: 'A Kubernetes workload instead of a container: acted on through the API (remediator.kubernetes).' },
      ),
    ),
    depends_on: Type.Optional(Type.Array(Type.String(), { description: 'Services that must be up first.' })),
    probe: Type.Optional(probe),
    recovery_deadline: Type.Optional(
      Duration({ default: SERVICE_DEFAULTS.recovery_deadline, description: 'How long a recovery check may take after an action.' }),
    ),
    stop_timeout: Type.Optional(Duration({ default: SERVICE_DEFAULTS.stop_timeout, description: 'Grace period before SIGKILL on stop.' })),
    hosts: Type.Optional(
      Type.Array(Type.String(), {
        minItems: 1,
        description: 'The engines it may run on (names under remediator.hosts, or "local" for the docker: one); the first is its home. Default: [local].',
      }),
    ),
    state: Type.Optional(
      Type.Object(
        {
          volumes: Type.Optional(Type.Array(Type.String(), { description: 'Named volumes carried on a migrate.' })),
          binds: Type.Optional(Type.Array(Type.String(), { description: 'Bind-mounted host paths carried on a migrate (the path must exist on the target host).' })),
          skip: Type.Optional(Type.Array(Type.String(), { description: 'Volumes or bind paths not carried (caches): they start empty on the target.' })),
          recomputable: Type.Optional(
            Type.Boolean({
              default: false,
              description: 'Its state can be rebuilt (a cache): nothing is copied, and it may be migrated off a host that is down, from its last recorded configuration.',
            }),
          ),
        },
        { additionalProperties: false, description: 'What a migrate carries. A mount not listed here refuses a migrate unless recomputable.' },
      ),
    ),
    migrate: Type.Optional(
      Type.Object(
        {
          source: Type.Optional(
            StringEnum(['remove', 'keep_stopped'] as const, {
              default: 'remove',
              description: 'The source container once the target passed its check: removed, or kept stopped under <name>-hs-migrated-<time>. Its volumes are never removed.',
            }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
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
    approve: Type.Optional(Type.Boolean({ default: false, description: 'Wait for a human (Telegram buttons, or POST /api/v1/incidents/ID/approve) before this step; see approval.' })),
    action: StringEnum(ACTIONS, {
      description: 'restart: stop and start. redeploy: recreate from its own configuration. migrate: move it, with its state, to another of its hosts.',
    }),
    attempts: Type.Optional(Type.Integer({ minimum: 1, maximum: 10, default: 1 })),
    to: Type.Optional(Type.String({ description: 'migrate: the host to move to; default the first of its hosts it is not on. Kubernetes: the node to move off (default: the node its failing pods are on).' })),
    scope: Type.Optional(
      StringEnum(['rollout', 'pod'] as const, {
        default: 'rollout',
        description: 'Kubernetes restart: a rollout restart of the workload, or delete one failing pod (its controller creates it again; the others keep serving).',
      }),
    ),
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

export const NOTIFY_EVENTS = ['acting', 'needs_human', 'recovered', 'refused'] as const;

const route = {
  events: Type.Optional(Type.Array(StringEnum(NOTIFY_EVENTS, { description: 'An event kind.' }), { description: 'Overrides notify.events for this channel.' })),
  match: Type.Optional(
    Type.Object(
      {
        severity: Type.Optional(Type.Array(Type.String(), { description: 'Alert severities it gets; an incident with none (a crash seen by the fast paths) always passes.' })),
        services: Type.Optional(Type.Array(Type.String(), { description: 'Services it gets.' })),
      },
      { additionalProperties: false, description: 'Which incidents this channel gets (all when absent).' },
    ),
  ),
};

const telegramChannel = Type.Object(
  {
    bot_token_file: SecretFile('A file with the bot token from @BotFather.'),
    chat_id: Type.String({ minLength: 1, description: 'The chat (user, group or channel id) to write to.' }),
    api_url: Type.Optional(Type.String({ default: 'https://api.telegram.org', description: 'The Bot API server.' })),
    approvers: Type.Optional(
      Type.Object(
        {
          user_ids: Type.Array(Type.Integer(), { minItems: 1, description: 'Telegram user ids whose buttons count.' }),
          chat_ids: Type.Optional(Type.Array(Type.String(), { description: 'Chats the buttons may be pressed in; default chat_id.' })),
        },
        { additionalProperties: false, description: 'Approve, deny and silence buttons, read by long polling getUpdates: only from these users in these chats.' },
      ),
    ),
    ...route,
  },
  { additionalProperties: false },
);

const discordChannel = Type.Object(
  {
    webhook_url_file: SecretFile('A file with the channel webhook URL (it contains its token).'),
    ...route,
  },
  { additionalProperties: false, description: 'A channel webhook: messages and edits, but no buttons (webhooks cannot carry them).' },
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
    hosts: Type.Optional(
      Type.Array(
        Type.Object(
          {
            name: Name('How services and `migrate --to` name this engine.'),
            host: Type.String({ description: 'unix:///path/docker.sock, tcp://host:2376 (with ca_file, cert_file, key_file) or ssh://user@host.' }),
            ca_file: Type.Optional(Type.String()),
            cert_file: Type.Optional(Type.String()),
            key_file: Type.Optional(SecretFile('TLS client key for tcp://.')),
            address: Type.Optional(
              Type.String({ description: 'Where its services are reached, for probes written with {host}; default the hostname of a tcp:// or ssh:// engine, else 127.0.0.1.' }),
            ),
          },
          { additionalProperties: false },
        ),
        { default: [], description: 'Further container engines (the docker: one is named "local"): where services may be migrated to.' },
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
            Type.Array(StringEnum(NOTIFY_EVENTS, { description: 'An event kind.' }), {
              default: ['acting', 'needs_human', 'recovered'],
              description:
                'Which events start an incident\'s message (all are logged). Once a channel has an incident\'s message, it is edited on every change; a wait for approval always starts one.',
            }),
          ),
          telegram: Type.Optional(telegramChannel),
          discord: Type.Optional(discordChannel),
          channels: Type.Optional(
            Type.Array(
              Type.Object(
                {
                  name: Name('Names the channel in logs and the journal.'),
                  telegram: Type.Optional(telegramChannel),
                  discord: Type.Optional(discordChannel),
                },
                { additionalProperties: false },
              ),
              { default: [], description: 'More channels, each with its own routing (telegram: and discord: above are channels named telegram and discord).' },
            ),
          ),
          storm: Type.Optional(
            Type.Object(
              {
                threshold: Type.Optional(Type.Integer({ minimum: 1, default: 5, description: 'Incidents starting within the window past which a channel gets one summary message, edited, instead of one each.' })),
                window: Type.Optional(Duration({ default: '2m', description: 'The window the threshold counts over.' })),
              },
              { additionalProperties: false, default: {} },
            ),
          ),
          grafana_url: Type.Optional(Type.String({ description: 'Grafana\'s address: messages link its HomeStation / Remediation dashboard.' })),
        },
        { additionalProperties: false, description: 'Telling people: every event is logged; each channel gets one message per incident, edited as it goes.' },
      ),
    ),
    approval: Type.Optional(
      Type.Object(
        {
          timeout: Type.Optional(Duration({ default: '15m', description: 'How long a step marked approve: true waits for a human.' })),
          default: Type.Optional(StringEnum(['approve', 'deny'] as const, { default: 'deny', description: 'What an unanswered approval becomes.' })),
        },
        { additionalProperties: false, default: {} },
      ),
    ),
    alertmanager: Type.Optional(
      Type.Object(
        {
          url: Type.String({ description: 'Alertmanager\'s address, for the silence button (POST /api/v2/silences).' }),
          bearer_token_file: Type.Optional(SecretFile('A token for Alertmanager, if it wants one.')),
        },
        { additionalProperties: false },
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
    kubernetes: Type.Optional(
      Type.Object(
        {
          enabled: Type.Optional(Type.Boolean({ default: false, description: 'Drive Kubernetes workloads (services with kubernetes:, and alerts carrying kube-state-metrics\' namespace and deployment/statefulset/daemonset/pod labels).' })),
          ...kubeConnectionFields,
        },
        { additionalProperties: false, default: {}, description: 'The Kubernetes target (K3s): restart, redeploy and migrate through the API.' },
      ),
    ),
    leader_election: Type.Optional(
      Type.Object(
        {
          enabled: Type.Optional(Type.Boolean({ default: false, description: 'Act only while holding the Lease: several replicas (or a rolling update\'s overlap) never act twice.' })),
          ...kubeConnectionFields,
          namespace: Type.Optional(Type.String({ description: "The Lease's namespace; unset: the pod's own (or the context's), else default." })),
          lease_name: Type.Optional(Type.String({ default: 'homestation-remediator', description: 'The coordination.k8s.io Lease all replicas share.' })),
          identity: Type.Optional(Type.String({ description: 'This replica in the Lease; unset: $POD_NAME, else the hostname and a random suffix.' })),
          lease_duration: Type.Optional(Duration({ default: '15s', description: 'A standby takes the Lease when its holder has not renewed it for this long.' })),
          renew_deadline: Type.Optional(Duration({ default: '10s', description: 'The leader stops acting (and exits) when it could not renew for this long; shorter than lease_duration.' })),
          retry_period: Type.Optional(Duration({ default: '2s', description: 'How often the leader renews and a standby tries.' })),
        },
        {
          additionalProperties: false,
          default: {},
          description: 'Leader election on a Kubernetes Lease (client-go semantics). Standbys do not listen, so Kubernetes routes webhooks to the leader only.',
        },
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
export interface KubernetesTarget {
  namespace: string;
  kind: 'Deployment' | 'StatefulSet' | 'DaemonSet';
  name?: string;
  selector?: string;
}
export interface ServiceConfig {
  name: string;
  container?: string;
  kubernetes?: KubernetesTarget;
  compose?: { project: string; service: string };
  depends_on?: string[];
  probe?: ProbeConfig;
  recovery_deadline: number;
  stop_timeout: number;
  watch?: { enabled?: boolean; period?: number; failure_threshold?: number };
  hosts?: string[];
  state?: { volumes?: string[]; binds?: string[]; skip?: string[]; recomputable: boolean };
  migrate?: { source: 'remove' | 'keep_stopped' };
}
export interface StepConfig {
  action: ActionName;
  attempts: number;
  to?: string;
  approve?: boolean;
  scope?: 'rollout' | 'pod';
}
export interface HostConfig {
  name: string;
  host: string;
  ca_file?: string;
  cert_file?: string;
  key_file?: string;
  address?: string;
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
  hosts: HostConfig[];
  journal: string;
  dry_run: boolean;
  max_concurrent_actions: number;
  cooldown: number;
  rate_limit: { max_actions: number; window: number };
  notify?: NotifyConfig;
  approval: { timeout: number; default: 'approve' | 'deny' };
  alertmanager?: { url: string; bearer_token_file?: string };
  services: ServiceConfig[];
  policies: PolicyConfig[];
  events: { enabled: boolean };
  watch: { enabled: boolean; period: number; failure_threshold: number };
  kubernetes: { enabled: boolean; kubeconfig?: string; context?: string };
  leader_election: {
    enabled: boolean;
    kubeconfig?: string;
    context?: string;
    namespace?: string;
    lease_name: string;
    identity?: string;
    lease_duration: number;
    renew_deadline: number;
    retry_period: number;
  };
}
export type NotifyEventKind = (typeof NOTIFY_EVENTS)[number];
export interface ChannelRoute {
  events?: NotifyEventKind[];
  match?: { severity?: string[]; services?: string[] };
}
export interface TelegramChannelConfig extends ChannelRoute {
  bot_token_file: string;
  chat_id: string;
  api_url: string;
  approvers?: { user_ids: number[]; chat_ids?: string[] };
}
export interface DiscordChannelConfig extends ChannelRoute {
  webhook_url_file: string;
}
export interface NotifyConfig {
  events: NotifyEventKind[];
  telegram?: TelegramChannelConfig;
  discord?: DiscordChannelConfig;
  channels: { name: string; telegram?: TelegramChannelConfig; discord?: DiscordChannelConfig }[];
  storm: { threshold: number; window: number };
  grafana_url?: string;
}
