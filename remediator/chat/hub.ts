/**
 * One chat message per incident and channel, edited as the incident goes, through
 * a durable outbox in the journal: an event changes the incident's view and stores
 * the new version; a single worker delivers the newest version of each message
 * (sendMessage / webhook execute the first time, edits after), waiting out a 429
 * as told and retrying a 5xx or a network error with backoff, also after a restart.
 * Remediation never waits on it. Past `storm.threshold` new incidents within
 * `storm.window`, a channel gets one summary message, edited, instead of one each.
 */
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { Journal, ChatRow } from '../journal.js';
import type { ChannelRoute, NotifyConfig, NotifyEventKind } from '../schema.js';
import { DiscordApi, TelegramApi, type ApiResult } from './apis.js';
import { applyEvent, discordEmbed, escapeHtml, stormEmbed, stormTelegram, telegramMessage, type IncidentView, type NotifyEvent, type StormView } from './view.js';

export interface Channel {
  readonly name: string;
  readonly route: ChannelRoute;
  readonly telegram?: { readonly api: TelegramApi; readonly chatId: string; readonly approvers?: { user_ids: number[]; chat_ids?: string[] } };
  readonly discord?: { readonly api: DiscordApi };
  blockedUntil: number;
}

type Body = { type: 'incident'; view: IncidentView } | { type: 'storm'; storm: StormView } | { type: 'ping'; text: string; replyTo: string };

/** Channels from the config: telegram: and discord: (named so), then channels:. Secrets read here, once. */
export function channelsOf(config: NotifyConfig | undefined): Channel[] {
  if (!config) return [];
  const out: Channel[] = [];
  const add = (name: string, c: { telegram?: NotifyConfig['telegram']; discord?: NotifyConfig['discord'] }) => {
    if (c.telegram) {
      const { bot_token_file, chat_id, api_url, approvers, ...route } = c.telegram;
      out.push({ name: c.discord ? `${name}-telegram` : name, route, telegram: { api: new TelegramApi(api_url, readFileSync(bot_token_file, 'utf8').trim()), chatId: chat_id, ...(approvers ? { approvers } : {}) }, blockedUntil: 0 });
    }
    if (c.discord) {
      const { webhook_url_file, ...route } = c.discord;
      out.push({ name: c.telegram ? `${name}-discord` : name, route, discord: { api: new DiscordApi(readFileSync(webhook_url_file, 'utf8').trim()) }, blockedUntil: 0 });
    }
  };
  if (config.telegram) add('telegram', { telegram: config.telegram });
  if (config.discord) add('discord', { discord: config.discord });
  for (const c of config.channels ?? []) add(c.name, c);
  return out;
}

const STARTS: Partial<Record<NotifyEvent['kind'], NotifyEventKind>> = { acting: 'acting', needs_human: 'needs_human', recovered: 'recovered', refused: 'refused' };

export class ChatHub {
  private readonly views = new Map<number, IncidentView>();
  private draining: Promise<void> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    readonly channels: readonly Channel[],
    private readonly config: Pick<NotifyConfig, 'events' | 'storm' | 'grafana_url'>,
    private readonly journal: Journal,
    private readonly log: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  /** Delivers what a previous run left undelivered. */
  start(): void {
    const left = this.journal.pendingChats();
    if (left.length) this.log.info({ messages: left.length }, 'chat messages left undelivered by a previous run: delivering');
    this.kick();
  }

  /** Records the event in every channel's message for the incident; delivery happens in the background. */
  update(e: NotifyEvent): void {
    if (e.incidentId === undefined || this.stopped) return;
    const at = this.now();
    const view = applyEvent(this.viewOf(e.incidentId), e, at, this.config.grafana_url);
    this.views.set(e.incidentId, view);
    if (this.views.size > 500) this.views.delete(this.views.keys().next().value as number);
    for (const ch of this.channels) this.put(ch, view, e, at);
    this.kick();
  }

  private viewOf(incidentId: number): IncidentView | undefined {
    const cached = this.views.get(incidentId);
    if (cached) return cached;
    // After a restart: the view as the last message held it.
    for (const ch of this.channels) {
      const row = this.journal.chatRow(`incident:${incidentId}`, ch.name);
      if (row) return (JSON.parse(row.body) as Extract<Body, { type: 'incident' }>).view;
    }
    return undefined;
  }

  private routed(ch: Channel, view: IncidentView): boolean {
    const m = ch.route.match;
    if (m?.services && !m.services.includes(view.service)) return false;
    // No severity known (a crash seen by the fast paths): never dropped for want of a label.
    if (m?.severity && view.alert?.severity && !m.severity.includes(view.alert.severity)) return false;
    return true;
  }

  private put(ch: Channel, view: IncidentView, e: NotifyEvent, at: number): void {
    const key = `incident:${view.incidentId}`;
    // A person is needed: an edit notifies nobody (on Telegram or Discord), so this is
    // never only an edit of a message, nor a line of a storm summary.
    const urgent = e.kind === 'needs_human' || e.kind === 'awaiting_approval';
    const stormKey = this.journal.getState(`storm_of:${ch.name}:${view.incidentId}`);
    if (stormKey) {
      this.putStorm(ch, stormKey, view, at);
      if (!urgent) return;
      // Out of the summary, into a message of its own (a send notifies).
      this.journal.setState(`storm_of:${ch.name}:${view.incidentId}`, undefined);
    }
    const existing = this.journal.chatRow(key, ch.name);
    if (!existing && !stormKey) {
      const kind = STARTS[e.kind];
      const starts = e.kind === 'awaiting_approval' || (kind !== undefined && (ch.route.events ?? this.config.events).includes(kind));
      if (!starts || !this.routed(ch, view)) return;
      const { threshold, window } = this.config.storm;
      if (!urgent && this.journal.chatsStartedSince(ch.name, at - window) >= threshold) {
        const current = JSON.parse(this.journal.getState(`storm_current:${ch.name}`) ?? 'null') as { key: string; lastAt: number } | null;
        const storm = current && at - current.lastAt < window ? current.key : `storm:${ch.name}:${at}`;
        this.journal.setState(`storm_current:${ch.name}`, JSON.stringify({ key: storm, lastAt: at }));
        this.journal.setState(`storm_of:${ch.name}:${view.incidentId}`, storm);
        return this.putStorm(ch, storm, view, at);
      }
    }
    this.journal.putChat(key, ch.name, JSON.stringify({ type: 'incident', view } satisfies Body), at);
    // Its message existed already (it said "acting"): a short reply, which does notify.
    if (urgent && existing) {
      const text = e.kind === 'needs_human' ? `🚨 ${view.service} needs a human` : `✋ ${view.service}: ${view.approval?.step ?? 'a step'} waits for your approval`;
      this.journal.putChat(`ping:${view.incidentId}:${at}`, ch.name, JSON.stringify({ type: 'ping', text, replyTo: key } satisfies Body), at);
    }
  }

  private putStorm(ch: Channel, key: string, view: IncidentView, at: number): void {
    const row = this.journal.chatRow(key, ch.name);
    const storm: StormView = row ? (JSON.parse(row.body) as Extract<Body, { type: 'storm' }>).storm : { since: at, incidents: [] };
    const entry = { incidentId: view.incidentId, service: view.service, state: view.state };
    const incidents = storm.incidents.some((i) => i.incidentId === view.incidentId) ? storm.incidents.map((i) => (i.incidentId === view.incidentId ? entry : i)) : [...storm.incidents, entry];
    this.journal.putChat(key, ch.name, JSON.stringify({ type: 'storm', storm: { ...storm, incidents } } satisfies Body), at);
  }

  // --- delivery ---------------------------------------------------------------

  private kick(): void {
    if (this.stopped) return;
    if (this.draining) {
      this.again = true;
      return;
    }
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
      if (this.again) {
        this.again = false;
        this.kick();
      } else this.schedule();
    });
  }

  /** Wakes up for the earliest retry still pending. */
  private schedule(): void {
    clearTimeout(this.timer);
    const pending = this.journal.pendingChats();
    if (!pending.length || this.stopped) return;
    const next = Math.min(...pending.map((r) => Math.max(r.nextAt, this.channels.find((c) => c.name === r.channel)?.blockedUntil ?? 0)));
    this.timer = setTimeout(() => this.kick(), Math.max(50, next - this.now()));
    this.timer.unref();
  }

  private async drain(): Promise<void> {
    for (const row of this.journal.pendingChats(this.now())) {
      if (this.stopped) return;
      const ch = this.channels.find((c) => c.name === row.channel);
      if (!ch) {
        this.journal.chatDelivered(row.key, row.channel, row.version, null, 'channel no longer configured');
        continue;
      }
      if (ch.blockedUntil > this.now()) continue;
      await this.deliver(ch, row);
    }
  }

  private async deliver(ch: Channel, row: ChatRow): Promise<void> {
    const body = JSON.parse(row.body) as Body;
    let r: ApiResult;
    if (body.type === 'ping') {
      // A reply to the incident's message: once that one exists.
      const parent = this.journal.chatRow(body.replyTo, ch.name);
      if (!parent?.messageId) {
        this.journal.chatRetry(row.key, row.channel, this.now() + 1000, 'waiting for the incident message');
        return;
      }
      r = ch.telegram
        ? await ch.telegram.api.reply(ch.telegram.chatId, parent.messageId, escapeHtml(body.text))
        : ch.discord
          ? await ch.discord.api.say(body.text)
          : { status: 0, ok: true, description: '' };
    } else if (ch.telegram) {
      const m = body.type === 'incident' ? telegramMessage(body.view) : { text: stormTelegram(body.storm), reply_markup: { inline_keyboard: [] } };
      r = row.messageId ? await ch.telegram.api.edit(ch.telegram.chatId, row.messageId, m) : await ch.telegram.api.send(ch.telegram.chatId, m);
    } else if (ch.discord) {
      const embed = body.type === 'incident' ? discordEmbed(body.view) : stormEmbed(body.storm);
      r = row.messageId ? await ch.discord.api.edit(row.messageId, embed) : await ch.discord.api.send(embed);
    } else return;
    const now = this.now();
    if (r.ok || r.unchanged) {
      this.journal.chatDelivered(row.key, row.channel, row.version, r.messageId ?? null);
      return;
    }
    const where = { channel: ch.name, message: row.key, status: r.status, description: r.description, attempts: row.attempts + 1 };
    if (r.gone) {
      this.log.warn(where, 'the chat message to edit is gone: sending a new one');
      this.journal.chatRetry(row.key, row.channel, now, r.description, true);
    } else if (r.status === 429) {
      ch.blockedUntil = now + (r.retryAfterMs ?? 1000);
      this.journal.chatRetry(row.key, row.channel, ch.blockedUntil, r.description);
    } else if (r.status === 0 || r.status >= 500) {
      const delay = Math.min(300_000, 1000 * 2 ** Math.min(row.attempts, 9));
      if (row.attempts === 0 || row.attempts % 5 === 4) this.log.warn({ ...where, retryInMs: delay }, 'chat message not delivered: retrying');
      this.journal.chatRetry(row.key, row.channel, now + delay, r.description);
    } else {
      // 4xx: retrying the same request will not help; the journal keeps why.
      this.log.error(where, ch.telegram && r.status === 401 ? 'Telegram refused the bot token: check bot_token_file' : ch.discord && (r.status === 401 || r.status === 404) ? 'Discord refused the webhook: check webhook_url_file' : 'chat message refused');
      this.journal.chatDelivered(row.key, row.channel, row.version, null, `${r.status} ${r.description}`);
    }
  }

  /** Waits for what is being delivered now (bounded), then stops. */
  async stop(waitMs = 3000): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.draining) await Promise.race([this.draining, new Promise((r) => setTimeout(r, waitMs).unref())]);
  }

  /** Resolves once nothing is left to deliver, retries included (for tests), or at the timeout. */
  async idle(timeoutMs = 30_000): Promise<void> {
    const end = this.now() + timeoutMs;
    while (this.now() < end && (this.draining || this.journal.pendingChats().length)) {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
