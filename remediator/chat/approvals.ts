/**
 * Approval from the phone: a step marked `approve: true` waits here for a human.
 * The answer comes from Telegram's inline buttons, read by long polling
 * `getUpdates` (no inbound port needed at home), accepted only from the configured
 * users in the configured chats; or from the API (`POST /api/v1/incidents/ID/approve`),
 * which is how Discord users answer, since webhooks cannot carry buttons. Unanswered
 * within `approval.timeout`, it becomes the configured default. The Telegram offset
 * is kept in the journal, so a restart neither loses nor replays a press.
 */
import { readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import type { Journal } from '../journal.js';
import type { TelegramApi, TelegramUpdate } from './apis.js';

export type Decision = 'approve' | 'deny' | 'silence';
export interface Verdict {
  readonly decision: Decision | 'timeout';
  /** Who answered: "telegram user 123 (@name)", "api". */
  readonly by?: string;
}

const POLL_S = 25;

export class Approvals {
  private readonly waiting = new Map<number, (v: Verdict) => void>();
  private stopped = false;
  private polling: Promise<void> | undefined;

  constructor(
    private readonly journal: Journal,
    private readonly log: Logger,
    private readonly telegram?: { api: TelegramApi; chatIds: string[]; userIds: number[] },
  ) {}

  /** Whether a human can answer from a phone (Telegram buttons); otherwise only the API can. */
  get hasButtons(): boolean {
    return this.telegram !== undefined;
  }

  start(): void {
    if (this.telegram && !this.polling) this.polling = this.poll();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    // Waits are not answered: their incidents stay acting, and the next start asks again.
    this.waiting.clear();
    await Promise.race([this.polling, new Promise((r) => setTimeout(r, 2000).unref())]);
  }

  /** Waits for a human's answer on this incident, or the timeout. */
  wait(incidentId: number, timeoutMs: number): Promise<Verdict> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(incidentId);
        resolve({ decision: 'timeout' });
      }, timeoutMs);
      timer.unref();
      this.waiting.set(incidentId, (v) => {
        clearTimeout(timer);
        this.waiting.delete(incidentId);
        resolve(v);
      });
    });
  }


  /** An answer from anywhere; false when the incident waits for none. */
  answer(incidentId: number, decision: Decision, by: string): boolean {
    const resolve = this.waiting.get(incidentId);
    if (!resolve) return false;
    resolve({ decision, by });
    return true;
  }

  private async poll(): Promise<void> {
    const tg = this.telegram as NonNullable<typeof this.telegram>;
    let offset = Number(this.journal.getState('telegram_update_offset') ?? 0);
    let backoff = 1000;
    while (!this.stopped) {
      const r = await tg.api.getUpdates(offset, POLL_S);
      if (this.stopped) return;
      if (!r.ok || !r.updates) {
        if (r.status === 409) this.log.error({ description: r.description }, 'Telegram getUpdates conflict: another process (or a webhook) reads this bot\'s updates; approvals cannot be received');
        else this.log.warn({ status: r.status, description: r.description, retryInMs: backoff }, 'Telegram getUpdates failed: retrying');
        await new Promise((res) => setTimeout(res, r.retryAfterMs ?? backoff).unref());
        backoff = Math.min(60_000, backoff * 2);
        continue;
      }
      backoff = 1000;
      for (const u of r.updates) {
        offset = Math.max(offset, u.update_id + 1);
        this.journal.setState('telegram_update_offset', String(offset));
        await this.onUpdate(u);
      }
    }
  }

  private async onUpdate(u: TelegramUpdate): Promise<void> {
    const tg = this.telegram as NonNullable<typeof this.telegram>;
    const q = u.callback_query;
    if (!q) return;
    const m = /^hs:(\d+):(approve|deny|silence)$/.exec(q.data ?? '');
    const chat = String(q.message?.chat.id ?? '');
    const who = `telegram user ${q.from.id}${q.from.username ? ` (@${q.from.username})` : ''}`;
    let reply: string;
    if (!m) reply = 'Not a HomeStation button';
    else if (!tg.chatIds.includes(chat) || !tg.userIds.includes(q.from.id)) {
      this.log.warn({ user: q.from.id, chat, incident: Number(m[1]) }, 'approval button pressed by someone not listed in approvers: ignored');
      reply = 'You are not allowed to answer this';
    } else if (this.answer(Number(m[1]), m[2] as Decision, who)) {
      reply = m[2] === 'approve' ? 'Approved' : m[2] === 'deny' ? 'Denied' : 'Silenced for 1 h';
      this.log.info({ incident: Number(m[1]), decision: m[2], by: who }, `approval: ${m[2]} by ${who}`);
    } else reply = 'This incident no longer waits for an answer';
    await tg.api.answerCallbackQuery(q.id, reply);
  }
}

/** A silence in Alertmanager (API v2) for one service: what the silence button writes. */
export async function silenceInAlertmanager(
  am: { url: string; bearer_token_file?: string },
  service: string,
  durationMs: number,
  by: string,
  comment: string,
): Promise<string> {
  const startsAt = new Date();
  const endsAt = new Date(startsAt.getTime() + durationMs);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (am.bearer_token_file) headers.authorization = `Bearer ${readFileSync(am.bearer_token_file, 'utf8').trim()}`;
  const res = await fetch(`${am.url.replace(/\/$/, '')}/api/v2/silences`, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      matchers: [{ name: 'service', value: service, isRegex: false, isEqual: true }],
      startsAt: startsAt.toISOString(),
      endsAt: endsAt.toISOString(),
      createdBy: `homestation (${by})`,
      comment,
    }),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`Alertmanager refused the silence: ${res.status} ${text.slice(0, 200)}`);
  return (JSON.parse(text) as { silenceID: string }).silenceID;
}
