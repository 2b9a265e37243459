/**
 * FAKES of the two chat APIs the remediator writes to, faithful to their documented
 * wire formats (they cannot be reached from here):
 * - Telegram Bot API, method sendMessage (core.telegram.org/bots/api): POST
 *   /bot<token>/sendMessage with JSON {chat_id, text}; answers {"ok":true,"result":
 *   Message} or {"ok":false,"error_code","description"[, "parameters":
 *   {"retry_after"}]}: 401 "Unauthorized" for a bad token, 400 "Bad Request: message
 *   text is empty" / "Bad Request: message is too long" (over 4096 characters),
 *   429 "Too Many Requests: retry after N".
 * - Discord channel webhooks (discord.com/developers/docs/resources/webhook): POST
 *   /api/webhooks/<id>/<token> with JSON {content, username, allowed_mentions};
 *   204 No Content, 404 {"message":"Unknown Webhook","code":10015},
 *   401 {"message":"Invalid Webhook Token","code":50027}, 400 {"code":50035,
 *   "message":"Invalid Form Body"} over 2000 characters, 429 {"message":"You are
 *   being rate limited.","retry_after":seconds,"global":false}.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

export interface FakeChat {
  readonly url: string;
  /** Accepted messages, as the API received them. */
  readonly received: Record<string, unknown>[];
  /** Every request, accepted or not. */
  readonly requests: { path: string; status: number }[];
  close(): Promise<void>;
}

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function json(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value));
}

async function serve(handler: (req: IncomingMessage, text: string, res: ServerResponse) => number): Promise<FakeChat> {
  const received: Record<string, unknown>[] = [];
  const requests: { path: string; status: number }[] = [];
  const server = createServer((req, res) => {
    void body(req).then((text) => {
      const status = handler(req, text, res);
      requests.push({ path: req.url ?? '', status });
      if (status >= 200 && status < 300) received.push(JSON.parse(text) as Record<string, unknown>);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, received, requests, close: () => new Promise((r) => server.close(() => r())) };
}

/** Telegram; the first `rateLimited` requests get a 429. */
export function fakeTelegram(token: string, options: { rateLimited?: number } = {}): Promise<FakeChat> {
  let limited = options.rateLimited ?? 0;
  let messageId = 1;
  return serve((req, text, res) => {
    const m = /^\/bot([^/]+)\/(\w+)$/.exec(req.url ?? '');
    if (!m || m[1] !== token) return (json(res, 401, { ok: false, error_code: 401, description: 'Unauthorized' }), 401);
    if (m[2] !== 'sendMessage') return (json(res, 404, { ok: false, error_code: 404, description: 'Not Found' }), 404);
    if (limited > 0) {
      limited -= 1;
      json(res, 429, { ok: false, error_code: 429, description: 'Too Many Requests: retry after 1', parameters: { retry_after: 1 } });
      return 429;
    }
    let msg: { chat_id?: unknown; text?: unknown };
    try {
      msg = JSON.parse(text) as typeof msg;
    } catch {
      return (json(res, 400, { ok: false, error_code: 400, description: "Bad Request: can't parse JSON" }), 400);
    }
    if (msg.chat_id === undefined || msg.chat_id === '') return (json(res, 400, { ok: false, error_code: 400, description: 'Bad Request: chat_id is empty' }), 400);
    if (typeof msg.text !== 'string' || msg.text.trim() === '') return (json(res, 400, { ok: false, error_code: 400, description: 'Bad Request: message text is empty' }), 400);
    if (msg.text.length > 4096) return (json(res, 400, { ok: false, error_code: 400, description: 'Bad Request: message is too long' }), 400);
    json(res, 200, { ok: true, result: { message_id: messageId++, chat: { id: Number(msg.chat_id), type: 'private' }, date: Math.floor(Date.now() / 1000), text: msg.text } });
    return 200;
  });
}

/** Discord; the first `rateLimited` requests get a 429. */
export function fakeDiscord(id: string, token: string, options: { rateLimited?: number } = {}): Promise<FakeChat> {
  let limited = options.rateLimited ?? 0;
  return serve((req, text, res) => {
    const m = /^\/api\/webhooks\/([^/]+)\/([^/?]+)/.exec(req.url ?? '');
    if (!m || m[1] !== id) return (json(res, 404, { message: 'Unknown Webhook', code: 10015 }), 404);
    if (m[2] !== token) return (json(res, 401, { message: 'Invalid Webhook Token', code: 50027 }), 401);
    if (limited > 0) {
      limited -= 1;
      json(res, 429, { message: 'You are being rate limited.', retry_after: 0.2, global: false });
      return 429;
    }
    const msg = JSON.parse(text) as { content?: string };
    if (!msg.content) return (json(res, 400, { message: 'Cannot send an empty message', code: 50006 }), 400);
    if (msg.content.length > 2000) return (json(res, 400, { code: 50035, errors: { content: { _errors: [{ code: 'BASE_TYPE_MAX_LENGTH', message: 'Must be 2000 or fewer in length.' }] } }, message: 'Invalid Form Body' }), 400);
    res.writeHead(204).end();
    return 204;
  });
}
