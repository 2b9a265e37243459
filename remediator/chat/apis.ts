/**
 * The two chat APIs, as their documentation gives them. Each call resolves with
 * what happened (never throws for an HTTP answer), so the outbox decides: retry a
 * 5xx or a network error with backoff, wait a 429 out as told, give up a 4xx. No
 * token reaches a result: the Telegram token is in the URL path, the Discord one in
 * the webhook URL, and both are scrubbed from every description.
 */
import type { DiscordEmbed } from './view.js';

export interface ApiResult {
  readonly status: number;
  readonly ok: boolean;
  readonly description: string;
  /** 429: how long the server asked to wait. */
  readonly retryAfterMs?: number;
  /** The message created (send). */
  readonly messageId?: string;
  /** An edit that changed nothing (Telegram 400 "message is not modified"): done. */
  readonly unchanged?: boolean;
  /** The message to edit is gone (deleted by someone): send a new one. */
  readonly gone?: boolean;
}

const scrub = (text: string, secret: string) => (secret ? text.split(secret).join('<redacted>') : text);

async function call(url: string, init: RequestInit, secret: string, timeoutMs = 10_000): Promise<{ status: number; body: Record<string, unknown> } | ApiResult> {
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    let body: Record<string, unknown> = {};
    try {
      body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    } catch {
      body = { description: text.slice(0, 200) };
    }
    return { status: res.status, body };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    return { status: 0, ok: false, description: scrub(`${e.name === 'TimeoutError' ? 'timed out' : e.message}${e.cause?.code ? ` (${e.cause.code})` : ''}`, secret) };
  }
}

export interface TelegramUpdate {
  update_id: number;
  callback_query?: {
    id: string;
    from: { id: number; username?: string; first_name?: string };
    message?: { message_id: number; chat: { id: number } };
    data?: string;
  };
}

/** Telegram Bot API: sendMessage, editMessageText (HTML parse mode), getUpdates, answerCallbackQuery. */
export class TelegramApi {
  constructor(
    private readonly apiUrl: string,
    private readonly token: string,
  ) {}

  private async method(name: string, body: unknown, timeoutMs?: number): Promise<ApiResult & { result?: unknown }> {
    const r = await call(`${this.apiUrl.replace(/\/$/, '')}/bot${this.token}/${name}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }, this.token, timeoutMs);
    if (!('body' in r)) return r;
    const b = r.body as { ok?: boolean; description?: string; result?: unknown; parameters?: { retry_after?: number } };
    const description = scrub(b.description ?? (r.status === 200 ? 'ok' : `HTTP ${r.status}`), this.token);
    return {
      status: r.status,
      ok: r.status === 200 && b.ok === true,
      description,
      result: b.result,
      ...(r.status === 429 ? { retryAfterMs: (b.parameters?.retry_after ?? 1) * 1000 } : {}),
      ...(r.status === 400 && /message is not modified/i.test(description) ? { unchanged: true } : {}),
      ...(r.status === 400 && /message to edit not found|message can't be edited/i.test(description) ? { gone: true } : {}),
    };
  }

  async send(chatId: string, m: { text: string; reply_markup: unknown }): Promise<ApiResult> {
    const r = await this.method('sendMessage', { chat_id: chatId, text: m.text, parse_mode: 'HTML', disable_web_page_preview: true, reply_markup: m.reply_markup });
    const id = (r.result as { message_id?: number } | undefined)?.message_id;
    return { ...r, ...(id !== undefined ? { messageId: String(id) } : {}) };
  }

  /** A short message replying to another (a send notifies; an edit does not). */
  async reply(chatId: string, toMessageId: string, text: string): Promise<ApiResult> {
    const r = await this.method('sendMessage', { chat_id: chatId, text, parse_mode: 'HTML', reply_parameters: { message_id: Number(toMessageId), allow_sending_without_reply: true } });
    const id = (r.result as { message_id?: number } | undefined)?.message_id;
    return { ...r, ...(id !== undefined ? { messageId: String(id) } : {}) };
  }

  async edit(chatId: string, messageId: string, m: { text: string; reply_markup: unknown }): Promise<ApiResult> {
    return this.method('editMessageText', { chat_id: chatId, message_id: Number(messageId), text: m.text, parse_mode: 'HTML', disable_web_page_preview: true, reply_markup: m.reply_markup });
  }

  /** Long polling: held by the server up to `timeoutS` seconds while there is nothing new. */
  async getUpdates(offset: number, timeoutS: number): Promise<ApiResult & { updates?: TelegramUpdate[] }> {
    const r = await this.method('getUpdates', { offset, timeout: timeoutS, allowed_updates: ['callback_query'] }, (timeoutS + 10) * 1000);
    return { ...r, ...(r.ok ? { updates: r.result as TelegramUpdate[] } : {}) };
  }

  async answerCallbackQuery(id: string, text: string): Promise<ApiResult> {
    return this.method('answerCallbackQuery', { callback_query_id: id, text });
  }
}

/** Discord channel webhook: execute with ?wait=true (the message back, for its id), then edit it by id. */
export class DiscordApi {
  constructor(private readonly webhookUrl: string) {}

  private async request(method: 'POST' | 'PATCH', url: string, body: unknown): Promise<ApiResult & { body?: Record<string, unknown> }> {
    const r = await call(url, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }, this.webhookUrl);
    if (!('body' in r)) return { ...r, description: scrub(r.description, this.webhookUrl.split('/').pop() ?? '') };
    const b = r.body as { message?: string; retry_after?: number; code?: number };
    return {
      status: r.status,
      ok: r.status >= 200 && r.status < 300,
      description: b.message ?? (r.status < 300 ? 'ok' : `HTTP ${r.status}`),
      body: r.body,
      ...(r.status === 429 ? { retryAfterMs: Math.ceil((b.retry_after ?? 1) * 1000) } : {}),
      // 10008: Unknown Message (deleted from the channel).
      ...(r.status === 404 && b.code === 10008 ? { gone: true } : {}),
    };
  }

  async send(embed: DiscordEmbed): Promise<ApiResult> {
    const url = new URL(this.webhookUrl);
    url.searchParams.set('wait', 'true');
    // No @everyone or role pings from service names or messages.
    const r = await this.request('POST', url.toString(), { username: 'HomeStation', embeds: [embed], allowed_mentions: { parse: [] } });
    const id = r.body?.id;
    return { ...r, ...(typeof id === 'string' ? { messageId: id } : {}) };
  }

  /** A short plain message (a send notifies; an edit does not). */
  async say(content: string): Promise<ApiResult> {
    return this.request('POST', this.webhookUrl, { username: 'HomeStation', content: content.slice(0, 2000), allowed_mentions: { parse: [] } });
  }

  async edit(messageId: string, embed: DiscordEmbed): Promise<ApiResult> {
    const url = new URL(this.webhookUrl);
    url.pathname = `${url.pathname.replace(/\/$/, '')}/messages/${messageId}`;
    return this.request('PATCH', url.toString(), { embeds: [embed], allowed_mentions: { parse: [] } });
  }
}
