/**
 * Telling a human. Every event is logged; chat channels (Telegram, Discord) plug in
 * as further notifiers with their issue.
 */
import type { Logger } from 'pino';

export interface NotifyEvent {
  readonly kind: 'needs_human' | 'recovered' | 'refused';
  readonly service: string;
  readonly incidentId?: number;
  readonly message: string;
}

export interface Notifier {
  notify(event: NotifyEvent): Promise<void>;
}

export class LogNotifier implements Notifier {
  constructor(private readonly log: Logger) {}
  async notify(e: NotifyEvent): Promise<void> {
    const line = { notify: e.kind, service: e.service, incident: e.incidentId };
    if (e.kind === 'needs_human') this.log.error(line, e.message);
    else this.log.info(line, e.message);
  }
}
