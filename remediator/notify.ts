/**
 * Telling a human. Every event is logged; Telegram (Bot API sendMessage) and
 * Discord (channel webhook) get the configured kinds. Sending never blocks a
 * remediation; a 429 is waited out as the server asks, a 5xx retried with backoff,
 * and neither the bot token nor the webhook URL (which holds a token) is logged.
 */
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { NotifyConfig } from './schema.js';

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

const TITLES: Record<NotifyEvent['kind'], string> = {
  needs_human: '🚨 Needs a human',
  recovered: '✅ Recovered',
  refused: '⛔ Not acted on',
};

/** The text both chat channels send. */
export function chatText(e: NotifyEvent, limit: number): string {
  const text = `${TITLES[e.kind]}: ${e.service}\n${e.message}${e.incidentId ? `\n(incident ${e.incidentId})` : ''}`;
  return text.length > limit ? `${text.slice(0, limit - 1)}…` : text;
}

interface Attempt {
  readonly status: number;
  /** Seconds the server asked to wait (429). */
  readonly retryAfter?: number;
  readonly description: string;
}

/** Sends with the retry rules; resolves with the last attempt. */
async function deliver(send: () => Promise<Attempt>, sleep: (ms: number) => Promise<void>): Promise<Attempt> {
  let last: Attempt = { status: 0, description: 'not sent' };
  for (let attempt = 0; attempt < 4; attempt++) {
    try {
      last = await send();
    } catch (err) {
      last = { status: 0, description: (err as Error).message };
    }
    if (last.status >= 200 && last.status < 300) return last;
    if (last.status === 429) await sleep(Math.min(30, last.retryAfter ?? 1) * 1000);
    else if (last.status === 0 || last.status >= 500) await sleep(1000 * 2 ** attempt);
    else return last; // 4xx: retrying will not help
  }
  return last;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export class TelegramNotifier implements Notifier {
  private readonly token: string;
  constructor(
    private readonly config: NonNullable<NotifyConfig['telegram']>,
    private readonly log: Logger,
    private readonly sleep = defaultSleep,
  ) {
    this.token = readFileSync(config.bot_token_file, 'utf8').trim();
  }

  async notify(e: NotifyEvent): Promise<void> {
    const url = `${this.config.api_url.replace(/\/$/, '')}/bot${this.token}/sendMessage`;
    const result = await deliver(async () => {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ chat_id: this.config.chat_id, text: chatText(e, 4096), disable_web_page_preview: true }),
        signal: AbortSignal.timeout(10_000),
      });
      const body = (await res.json().catch(() => ({}))) as { ok?: boolean; description?: string; parameters?: { retry_after?: number } };
      return { status: res.status, retryAfter: body.parameters?.retry_after, description: body.description ?? res.statusText };
    }, this.sleep);
    if (result.status < 200 || result.status >= 300) {
      this.log.error(
        { channel: 'telegram', status: result.status, description: result.description },
        result.status === 401 ? 'Telegram refused the bot token: check bot_token_file' : 'Telegram message not delivered',
      );
    }
  }
}

export class DiscordNotifier implements Notifier {
  private readonly url: string;
  constructor(
    config: NonNullable<NotifyConfig['discord']>,
    private readonly log: Logger,
    private readonly sleep = defaultSleep,
  ) {
    this.url = readFileSync(config.webhook_url_file, 'utf8').trim();
  }

  async notify(e: NotifyEvent): Promise<void> {
    const result = await deliver(async () => {
      const res = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        // No @everyone or role pings from service names or messages.
        body: JSON.stringify({ content: chatText(e, 2000), username: 'HomeStation', allowed_mentions: { parse: [] } }),
        signal: AbortSignal.timeout(10_000),
      });
      const body = (await res.json().catch(() => ({}))) as { message?: string; retry_after?: number };
      return { status: res.status, retryAfter: body.retry_after, description: body.message ?? res.statusText };
    }, this.sleep);
    if (result.status < 200 || result.status >= 300) {
      this.log.error(
        { channel: 'discord', status: result.status, description: result.description },
        result.status === 404 || result.status === 401 ? 'Discord refused the webhook: check webhook_url_file' : 'Discord message not delivered',
      );
    }
  }
}

/** The log plus every configured channel, for the configured event kinds. */
export function buildNotifier(config: NotifyConfig | undefined, log: Logger): Notifier {
  const logger = new LogNotifier(log);
  const channels: Notifier[] = [];
  if (config?.telegram) channels.push(new TelegramNotifier(config.telegram, log));
  if (config?.discord) channels.push(new DiscordNotifier(config.discord, log));
  const events = config?.events ?? [];
  return {
    async notify(e) {
      await logger.notify(e);
      if (!events.includes(e.kind)) return;
      await Promise.all(channels.map((c) => c.notify(e).catch((err: Error) => log.error({ err: err.message }, 'notifier failed'))));
    },
  };
}
