/**
 * Telling a human. Every event is logged; each configured chat channel gets one
 * message per incident, edited as the incident goes (chat/hub.ts), delivered from
 * a durable outbox so that a failing chat API never blocks a remediation and a
 * message is not lost to a restart. Tokens never reach a log line.
 */
import type { Logger } from 'pino';
import { ChatHub, channelsOf } from './chat/hub.js';
import type { NotifyEvent } from './chat/view.js';
import type { Journal } from './journal.js';
import type { NotifyConfig } from './schema.js';

export type { NotifyEvent } from './chat/view.js';

export interface Notifier {
  notify(event: NotifyEvent): Promise<void>;
}

export class LogNotifier implements Notifier {
  constructor(private readonly log: Logger) {}
  async notify(e: NotifyEvent): Promise<void> {
    // Steps and outcomes are logged where they are taken.
    if (e.kind === 'step' || e.kind === 'finished') return;
    const line = { notify: e.kind, service: e.service, incident: e.incidentId };
    if (e.kind === 'needs_human') this.log.error(line, e.message);
    else this.log.info(line, e.message);
  }
}

export const NOTIFY_DEFAULTS = { events: ['acting', 'needs_human', 'recovered'], storm: { threshold: 5, window: 120_000 } } as const;

/** The log plus the chat channels; `hub` is there to start, stop and wait on delivery. */
export function buildNotifier(config: NotifyConfig | undefined, log: Logger, journal: Journal): Notifier & { readonly hub: ChatHub } {
  const logger = new LogNotifier(log);
  const hub = new ChatHub(
    channelsOf(config),
    { events: config?.events ?? [...NOTIFY_DEFAULTS.events], storm: config?.storm ?? NOTIFY_DEFAULTS.storm, ...(config?.grafana_url ? { grafana_url: config.grafana_url } : {}) },
    journal,
    log.child({ component: 'chat' }),
  );
  return {
    hub,
    async notify(e) {
      await logger.notify(e);
      try {
        hub.update(e);
      } catch (err) {
        // The journal is the outbox: a failure here is logged, the remediation goes on.
        log.error({ err: (err as Error).message, incident: e.incidentId }, 'chat message not recorded');
      }
    },
  };
}
