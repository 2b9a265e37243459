/**
 * FAKES of the two chat APIs the remediator writes to, faithful to their documented
 * wire formats (they cannot be reached from here):
 * - Telegram Bot API (core.telegram.org/bots/api): POST /bot<token>/<method> with
 *   JSON; answers {"ok":true,"result":...} or {"ok":false,"error_code","description"
 *   [,"parameters":{"retry_after"}]}. sendMessage (400 "Bad Request: message text is
 *   empty", "Bad Request: message is too long" over 4096 characters, "Bad Request:
 *   can't parse entities: ..." for HTML that parse_mode HTML refuses), editMessageText
 *   (400 "Bad Request: message to edit not found", "Bad Request: message is not
 *   modified: specified new message content and reply markup are exactly the same as a
 *   current content and reply markup of the message"), getUpdates (long polling: held
 *   up to `timeout` seconds until an update exists; `offset` confirms earlier ones),
 *   answerCallbackQuery; 401 "Unauthorized" for a bad token; 429 "Too Many Requests:
 *   retry after N" with parameters.retry_after.
 * - Discord channel webhooks (discord.com/developers/docs/resources/webhook): POST
 *   /api/webhooks/<id>/<token>[?wait=true] (204, or 200 with the message when
 *   wait=true), PATCH /api/webhooks/<id>/<token>/messages/<message id> (200 with the
 *   message; 404 {"message":"Unknown Message","code":10008}); 404 {"message":"Unknown
 *   Webhook","code":10015}; 401 {"message":"Invalid Webhook Token","code":50027}; 400
 *   {"code":50035,"message":"Invalid Form Body"} past the embed limits (title 256,
 *   description 4096, 25 fields, field name 256 / value 1024, footer 2048, 6000 in
 *   all) or content over 2000; 429 {"message":"You are being rate limited.",
 *   "retry_after":seconds,"global":false}.
 * Failures can be queued (`fail`): the next requests get that status.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

export interface FakeChat {
  readonly url: string;
  /** Accepted sends and edits, as the API received them. */
  readonly received: Record<string, unknown>[];
  /** Every request, accepted or not (method name or HTTP verb + path). */
  readonly requests: { path: string; method: string; status: number; body: Record<string, unknown> }[];
  /** The messages as they stand now, by id: what a person sees in the chat. */
  readonly messages: Map<string, Record<string, unknown>>;
  /** The next requests (of sends and edits) answer this status. */
  fail(status: 429 | 500 | 502 | 503, times?: number): void;
  /** Forgets the failures still queued: the API is back. */
  heal(): void;
  close(): Promise<void>;
}

export interface FakeTelegram extends FakeChat {
  /** A user pressing an inline button of a message, delivered to getUpdates. */
  press(o: { messageId: string; data: string; userId: number; chatId: string | number; username?: string }): void;
  /** Answers given to callback queries. */
  readonly answers: { callback_query_id: string; text?: string }[];
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function json(res: ServerResponse, status: number, value: unknown): number {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
  return status;
}

interface Base {
  received: Record<string, unknown>[];
  requests: FakeChat['requests'];
  messages: Map<string, Record<string, unknown>>;
  failures: number[];
}

async function serve(base: Base, handler: (req: IncomingMessage, text: string, res: ServerResponse) => Promise<number> | number): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req, res) => {
    void readBody(req).then(async (text) => {
      const status = await handler(req, text, res);
      let body: Record<string, unknown> = {};
      try {
        body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
      } catch {
        // Kept empty.
      }
      base.requests.push({ path: req.url ?? '', method: req.method ?? '', status, body });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** The tags Telegram's HTML parse mode accepts (those the remediator uses and a few more). */
const TG_TAGS = new Set(['b', 'strong', 'i', 'em', 'u', 'ins', 's', 'strike', 'del', 'a', 'code', 'pre', 'tg-spoiler', 'blockquote']);

/** What parse_mode HTML refuses: an unknown tag, an unclosed one, a bare < or an unknown entity. */
function htmlProblem(text: string): string | undefined {
  const stack: string[] = [];
  const re = /<(\/?)([a-z-]+)((?:\s+[a-z]+="[^"]*")*)\s*>|<|&(?!(?:lt|gt|amp|quot);)/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (m[0] === '<') return `can't parse entities: Unexpected end tag at byte offset ${m.index}`;
    if (m[0].startsWith('&')) return `can't parse entities: Unsupported entity at byte offset ${m.index}`;
    const [, close, tag = ''] = m;
    if (!TG_TAGS.has(tag)) return `can't parse entities: Unsupported start tag "${tag}" at byte offset ${m.index}`;
    if (close) {
      if (stack.pop() !== tag) return `can't parse entities: Unmatched end tag at byte offset ${m.index}, expected "</${stack.at(-1) ?? ''}>", found "</${tag}>"`;
    } else stack.push(tag);
  }
  return stack.length ? `can't parse entities: Can't find end tag corresponding to start tag "${stack.at(-1)}"` : undefined;
}

/** The visible length: tags removed, entities as one character (what the 4096 limit counts). */
const visible = (text: string) => text.replace(/<[^>]+>/g, '').replace(/&(lt|gt|amp|quot);/g, '_').length;

/** Telegram. `rateLimited`: the first N requests get a 429. */
export async function fakeTelegram(token: string, options: { rateLimited?: number } = {}): Promise<FakeTelegram> {
  const base: Base = { received: [], requests: [], messages: new Map(), failures: Array.from({ length: options.rateLimited ?? 0 }, () => 429) };
  const answers: FakeTelegram['answers'] = [];
  const updates: { update_id: number; callback_query: Record<string, unknown> }[] = [];
  const waiters: (() => void)[] = [];
  let messageId = 1;
  let updateId = 100;
  const server = await serve(base, async (req, text, res) => {
    const m = /^\/bot([^/]+)\/(\w+)$/.exec(req.url ?? '');
    if (!m || m[1] !== token) return json(res, 401, { ok: false, error_code: 401, description: 'Unauthorized' });
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(text || '{}') as Record<string, unknown>;
    } catch {
      return json(res, 400, { ok: false, error_code: 400, description: "Bad Request: can't parse JSON" });
    }
    const bad = (description: string) => json(res, 400, { ok: false, error_code: 400, description: `Bad Request: ${description}` });
    const method = m[2] as string;
    if (method === 'getUpdates') {
      const offset = Number(msg.offset ?? 0);
      // Confirmed updates are forgotten, as the real server does.
      while (updates.length && (updates[0] as { update_id: number }).update_id < offset) updates.shift();
      if (!updates.length && Number(msg.timeout ?? 0) > 0) {
        await new Promise<void>((r) => {
          const t = setTimeout(r, Number(msg.timeout) * 1000);
          waiters.push(() => {
            clearTimeout(t);
            r();
          });
        });
      }
      return json(res, 200, { ok: true, result: updates.filter((u) => u.update_id >= offset) });
    }
    if (method === 'answerCallbackQuery') {
      answers.push(msg as { callback_query_id: string; text?: string });
      return json(res, 200, { ok: true, result: true });
    }
    if (method !== 'sendMessage' && method !== 'editMessageText') return json(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
    const failure = base.failures.shift();
    if (failure === 429) return json(res, 429, { ok: false, error_code: 429, description: 'Too Many Requests: retry after 1', parameters: { retry_after: 1 } });
    if (failure) return json(res, failure, { ok: false, error_code: failure, description: 'Internal Server Error' });
    if (msg.chat_id === undefined || msg.chat_id === '') return bad('chat_id is empty');
    if (typeof msg.text !== 'string' || msg.text.trim() === '') return bad('message text is empty');
    if (msg.parse_mode === 'HTML') {
      const problem = htmlProblem(msg.text);
      if (problem) return bad(problem);
    }
    if (visible(msg.text) > 4096) return bad('message is too long');
    const shown = { text: msg.text, reply_markup: msg.reply_markup ?? { inline_keyboard: [] } };
    if (method === 'editMessageText') {
      const id = String(msg.message_id);
      const current = base.messages.get(id);
      if (!current || String(current.chat_id) !== String(msg.chat_id)) return bad('message to edit not found');
      if (current.text === shown.text && JSON.stringify(current.reply_markup) === JSON.stringify(shown.reply_markup)) {
        return bad('message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message');
      }
      base.messages.set(id, { ...current, ...shown });
      base.received.push(msg);
      return json(res, 200, { ok: true, result: { message_id: Number(id), chat: { id: Number(msg.chat_id), type: 'private' }, date: Math.floor(Date.now() / 1000), edit_date: Math.floor(Date.now() / 1000), text: msg.text } });
    }
    const id = messageId++;
    base.messages.set(String(id), { chat_id: msg.chat_id, ...shown });
    base.received.push(msg);
    return json(res, 200, { ok: true, result: { message_id: id, chat: { id: Number(msg.chat_id), type: 'private' }, date: Math.floor(Date.now() / 1000), text: msg.text } });
  });
  return {
    ...server,
    received: base.received,
    requests: base.requests,
    messages: base.messages,
    answers,
    fail: (status, times = 1) => base.failures.push(...Array.from({ length: times }, () => status)),
    heal: () => void base.failures.splice(0),
    press: ({ messageId: mid, data, userId, chatId, username }) => {
      updates.push({
        update_id: updateId++,
        callback_query: { id: `cq${updateId}`, from: { id: userId, is_bot: false, first_name: 'Test', ...(username ? { username } : {}) }, message: { message_id: Number(mid), chat: { id: Number(chatId), type: 'private' } }, chat_instance: '1', data },
      });
      for (const w of waiters.splice(0)) w();
    },
  };
}

const EMBED = { title: 256, description: 4096, fields: 25, fieldName: 256, fieldValue: 1024, footer: 2048, total: 6000 };

function embedProblem(embeds: unknown): string | undefined {
  if (!Array.isArray(embeds)) return undefined;
  if (embeds.length > 10) return 'embeds: Must be 10 or fewer in length.';
  for (const e of embeds as { title?: string; description?: string; fields?: { name: string; value: string }[]; footer?: { text?: string } }[]) {
    const fields = e.fields ?? [];
    if ((e.title ?? '').length > EMBED.title) return 'embeds.0.title: Must be 256 or fewer in length.';
    if ((e.description ?? '').length > EMBED.description) return 'embeds.0.description: Must be 4096 or fewer in length.';
    if (fields.length > EMBED.fields) return 'embeds.0.fields: Must be 25 or fewer in length.';
    for (const f of fields) {
      if (!f.name || f.name.length > EMBED.fieldName) return 'embeds.0.fields.name: Must be between 1 and 256 in length.';
      if (!f.value || f.value.length > EMBED.fieldValue) return 'embeds.0.fields.value: Must be between 1 and 1024 in length.';
    }
    if ((e.footer?.text ?? '').length > EMBED.footer) return 'embeds.0.footer.text: Must be 2048 or fewer in length.';
    const total = (e.title ?? '').length + (e.description ?? '').length + (e.footer?.text ?? '').length + fields.reduce((n, f) => n + f.name.length + f.value.length, 0);
    if (total > EMBED.total) return 'embeds: Embed size exceeds maximum size of 6000';
  }
  return undefined;
}

/** Discord. `rateLimited`: the first N requests get a 429. */
export async function fakeDiscord(id: string, token: string, options: { rateLimited?: number } = {}): Promise<FakeChat> {
  const base: Base = { received: [], requests: [], messages: new Map(), failures: Array.from({ length: options.rateLimited ?? 0 }, () => 429) };
  let messageId = 1_100_000_000_000_000_000n;
  const server = await serve(base, (req, text, res) => {
    const url = new URL(req.url ?? '', 'http://x');
    const m = /^\/api\/webhooks\/([^/]+)\/([^/]+)(?:\/messages\/([^/]+))?$/.exec(url.pathname);
    if (!m || m[1] !== id) return json(res, 404, { message: 'Unknown Webhook', code: 10015 });
    if (m[2] !== token) return json(res, 401, { message: 'Invalid Webhook Token', code: 50027 });
    const failure = base.failures.shift();
    if (failure === 429) return json(res, 429, { message: 'You are being rate limited.', retry_after: 0.2, global: false });
    if (failure) return json(res, failure, { message: '500: Internal Server Error', code: 0 });
    const msg = JSON.parse(text || '{}') as { content?: string; embeds?: unknown[] };
    const invalid = (why: string) => json(res, 400, { code: 50035, errors: { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH', message: why }] }, message: 'Invalid Form Body' });
    if ((msg.content ?? '').length > 2000) return invalid('content: Must be 2000 or fewer in length.');
    const embedBad = embedProblem(msg.embeds);
    if (embedBad) return invalid(embedBad);
    if (req.method === 'PATCH' && m[3]) {
      const current = base.messages.get(m[3]);
      if (!current) return json(res, 404, { message: 'Unknown Message', code: 10008 });
      const next = { ...current, ...msg };
      base.messages.set(m[3], next);
      base.received.push(msg);
      return json(res, 200, { id: m[3], type: 0, channel_id: '1', webhook_id: id, edited_timestamp: new Date().toISOString(), ...next });
    }
    if (req.method !== 'POST' || m[3]) return json(res, 405, { message: '405: Method Not Allowed', code: 0 });
    if (!msg.content && !(msg.embeds && msg.embeds.length)) return json(res, 400, { message: 'Cannot send an empty message', code: 50006 });
    const mid = String(messageId++);
    base.messages.set(mid, msg as Record<string, unknown>);
    base.received.push(msg);
    if (url.searchParams.get('wait') !== 'true') {
      res.writeHead(204).end();
      return 204;
    }
    return json(res, 200, { id: mid, type: 0, channel_id: '1', webhook_id: id, timestamp: new Date().toISOString(), ...msg });
  });
  return {
    ...server,
    received: base.received,
    requests: base.requests,
    messages: base.messages,
    fail: (status, times = 1) => base.failures.push(...Array.from({ length: times }, () => status)),
    heal: () => void base.failures.splice(0),
  };
}
