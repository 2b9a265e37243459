/** The chat notifiers against faithful fakes of the Telegram Bot API and Discord webhooks. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeDiscord, fakeTelegram, type FakeChat } from '../test/fakes/chat-apis.js';
import { memoryLogger } from '../test/helpers/runner.js';
import { buildNotifier, chatText, DiscordNotifier, TelegramNotifier, type NotifyEvent } from './notify.js';

const dir = mkdtempSync(join(tmpdir(), 'hs-notify-'));
const secret = (name: string, value: string) => {
  const p = join(dir, name);
  writeFileSync(p, `${value}\n`);
  return p;
};
const noSleep = async () => undefined;
const event: NotifyEvent = { kind: 'needs_human', service: 'zigbee2mqtt', incidentId: 7, message: 'zigbee2mqtt did not recover after restart x2; needs a human' };
let fakes: FakeChat[] = [];
afterEach(async () => {
  await Promise.all(fakes.map((f) => f.close()));
  fakes = [];
});

describe('Telegram notifier', () => {
  it('sends sendMessage to the chat, waiting out a 429 as asked', async () => {
    const tg = await fakeTelegram('123:ABC', { rateLimited: 1 });
    fakes.push(tg);
    const waits: number[] = [];
    const { log } = memoryLogger();
    const n = new TelegramNotifier({ bot_token_file: secret('tg', '123:ABC'), chat_id: '-1001', api_url: tg.url }, log, async (ms) => void waits.push(ms));
    await n.notify(event);
    expect(tg.requests.map((r) => r.status)).toEqual([429, 200]);
    expect(waits).toEqual([1000]);
    expect(tg.received).toEqual([{ chat_id: '-1001', text: chatText(event, 4096), disable_web_page_preview: true }]);
    expect(tg.received[0]!.text).toContain('Needs a human: zigbee2mqtt');
  });

  it('says to check the token on 401, without logging the token', async () => {
    const tg = await fakeTelegram('123:ABC');
    fakes.push(tg);
    const { log, lines } = memoryLogger();
    await new TelegramNotifier({ bot_token_file: secret('tg2', '999:WRONG'), chat_id: '1', api_url: tg.url }, log, noSleep).notify(event);
    expect(tg.requests).toHaveLength(1); // no retry on 401
    expect(lines.find((l) => l.channel === 'telegram')).toMatchObject({ status: 401, msg: 'Telegram refused the bot token: check bot_token_file' });
    expect(JSON.stringify(lines)).not.toContain('999:WRONG');
  });

  it('cuts messages to the 4096-character limit', async () => {
    const tg = await fakeTelegram('1:A');
    fakes.push(tg);
    const { log } = memoryLogger();
    await new TelegramNotifier({ bot_token_file: secret('tg3', '1:A'), chat_id: '1', api_url: tg.url }, log, noSleep).notify({ ...event, message: 'x'.repeat(5000) });
    expect((tg.received[0]!.text as string).length).toBe(4096);
  });
});

describe('Discord notifier', () => {
  it('posts to the channel webhook without pings, waiting out a 429', async () => {
    const dc = await fakeDiscord('42', 'tok', { rateLimited: 1 });
    fakes.push(dc);
    const waits: number[] = [];
    const { log } = memoryLogger();
    await new DiscordNotifier({ webhook_url_file: secret('dc', `${dc.url}/api/webhooks/42/tok`) }, log, async (ms) => void waits.push(ms)).notify(event);
    expect(dc.requests.map((r) => r.status)).toEqual([429, 204]);
    expect(waits).toEqual([200]);
    expect(dc.received[0]).toEqual({ content: chatText(event, 2000), username: 'HomeStation', allowed_mentions: { parse: [] } });
  });

  it('reports an unknown webhook without logging its URL', async () => {
    const dc = await fakeDiscord('42', 'tok');
    fakes.push(dc);
    const { log, lines } = memoryLogger();
    await new DiscordNotifier({ webhook_url_file: secret('dc2', `${dc.url}/api/webhooks/41/secret-token`) }, log, noSleep).notify(event);
    expect(lines.find((l) => l.channel === 'discord')).toMatchObject({ status: 404, description: 'Unknown Webhook' });
    expect(JSON.stringify(lines)).not.toContain('secret-token');
  });
});

describe('notifier from config', () => {
  it('sends only the configured event kinds to the channels, and logs all', async () => {
    const tg = await fakeTelegram('5:T');
    const dc = await fakeDiscord('9', 'w');
    fakes.push(tg, dc);
    const { log, lines } = memoryLogger();
    const n = buildNotifier(
      {
        events: ['needs_human'],
        telegram: { bot_token_file: secret('tg4', '5:T'), chat_id: '77', api_url: tg.url },
        discord: { webhook_url_file: secret('dc3', `${dc.url}/api/webhooks/9/w`) },
      },
      log,
    );
    await n.notify({ ...event, kind: 'recovered', message: 'back' });
    await n.notify(event);
    expect(tg.received).toHaveLength(1);
    expect(dc.received).toHaveLength(1);
    expect(lines.filter((l) => l.notify)).toHaveLength(2);
  });
});
