/**
 * One message per incident, edited as it goes, delivered from the journal's outbox,
 * against faithful fakes of the Telegram Bot API and Discord webhooks (exact request
 * bodies), with their documented failures: 429, 5xx, "message is not modified", a
 * message deleted meanwhile, a bad token; routing, an alert storm, and a restart with
 * messages still undelivered.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fakeDiscord, fakeTelegram, type FakeChat } from '../../test/fakes/chat-apis.js';
import { memoryLogger } from '../../test/helpers/runner.js';
import { Journal } from '../journal.js';
import type { NotifyConfig } from '../schema.js';
import { ChatHub, channelsOf } from './hub.js';
import type { NotifyEvent } from './view.js';

const dir = mkdtempSync(join(tmpdir(), 'hs-chat-'));
let n = 0;
const secret = (value: string) => {
  const p = join(dir, `secret-${n++}`);
  writeFileSync(p, `${value}\n`);
  return p;
};
let fakes: FakeChat[] = [];
let hubs: ChatHub[] = [];
afterEach(async () => {
  await Promise.all(hubs.map((h) => h.stop(100)));
  await Promise.all(fakes.map((f) => f.close()));
  fakes = [];
  hubs = [];
});

const STORM = { threshold: 100, window: 120_000 };

async function setup(notify: Partial<NotifyConfig>, journalPath = join(dir, `j-${n++}.db`)) {
  const journal = await Journal.open(journalPath);
  const { log, lines } = memoryLogger();
  const config: NotifyConfig = { events: ['acting', 'needs_human', 'recovered'], channels: [], storm: STORM, ...notify };
  const hub = new ChatHub(channelsOf(config), config, journal, log);
  hubs.push(hub);
  hub.start();
  return { hub, journal, lines, journalPath };
}

const ev = (incidentId: number, kind: NotifyEvent['kind'], message: string, extra: Partial<NotifyEvent> = {}): NotifyEvent => ({ kind, service: 'zigbee2mqtt', incidentId, message, ...extra });
const story = (id: number): NotifyEvent[] => [
  ev(id, 'acting', 'acting on zigbee2mqtt: zigbee2mqtt is down; plan: restart', { alert: { name: 'ServiceDown', severity: 'critical', summary: 'Zigbee bridge down' }, failedAt: Date.parse('2026-11-26T10:00:00Z') }),
  ev(id, 'step', 'restart: started (attempt 1 on zigbee2mqtt)'),
  ev(id, 'step', 'after: ok (GET http://127.0.0.1:8080/: 200)'),
  ev(id, 'recovered', 'zigbee2mqtt is back after restart, 4.1 s after it failed', { recoverySeconds: 4.1 }),
];

describe('one chat message per incident', () => {
  it('Telegram: sendMessage once, then editMessageText, HTML parse mode, the same message ending recovered', async () => {
    const tg = await fakeTelegram('123:ABC');
    fakes.push(tg);
    const { hub } = await setup({ telegram: { bot_token_file: secret('123:ABC'), chat_id: '-1001', api_url: tg.url } });
    for (const e of story(7)) {
      hub.update(e);
      await hub.idle();
    }
    expect(tg.requests.map((r) => `${r.path.replace('/bot123:ABC/', '')} ${r.status}`)).toEqual(['sendMessage 200', 'editMessageText 200', 'editMessageText 200', 'editMessageText 200']);
    expect(tg.messages.size).toBe(1);
    const first = tg.requests[0]!.body;
    expect(Object.keys(first).sort()).toEqual(['chat_id', 'disable_web_page_preview', 'parse_mode', 'reply_markup', 'text']);
    expect(first).toMatchObject({ chat_id: '-1001', parse_mode: 'HTML', disable_web_page_preview: true, reply_markup: { inline_keyboard: [] } });
    expect(tg.requests[1]!.body).toMatchObject({ chat_id: '-1001', message_id: 1, parse_mode: 'HTML' });
    const shown = tg.messages.get('1')!.text as string;
    expect(shown.split('\n')[0]).toBe('✅ <b>zigbee2mqtt</b>: recovered');
    expect(shown).toContain('<i>ServiceDown</i> (critical): Zigbee bridge down');
    expect(shown).toContain('restart: started (attempt 1 on zigbee2mqtt)');
    expect(shown).toContain('zigbee2mqtt is back after restart, 4.1 s after it failed');
  });

  it('Discord: executes the webhook with wait=true for the message id, then PATCHes that message; colour by state, no pings', async () => {
    const dc = await fakeDiscord('42', 'tok');
    fakes.push(dc);
    const { hub } = await setup({ discord: { webhook_url_file: secret(`${dc.url}/api/webhooks/42/tok`) } });
    for (const e of story(8)) {
      hub.update(e);
      await hub.idle();
    }
    expect(dc.requests.map((r) => `${r.method} ${r.path} ${r.status}`)).toEqual([
      'POST /api/webhooks/42/tok?wait=true 200',
      ...Array.from({ length: 3 }, () => 'PATCH /api/webhooks/42/tok/messages/1100000000000000000 200'),
    ]);
    expect(dc.requests[0]!.body).toMatchObject({ username: 'HomeStation', allowed_mentions: { parse: [] }, embeds: [{ title: '🔧 zigbee2mqtt: acting', color: 0xf1c40f }] });
    expect(dc.messages.size).toBe(1);
    const [embed] = dc.messages.get('1100000000000000000')!.embeds as { title: string; color: number; description: string }[];
    expect(embed).toMatchObject({ title: '✅ zigbee2mqtt: recovered', color: 0x2ecc71 });
    expect(embed!.description).toContain('zigbee2mqtt is back after restart');
  });

  it('waits out a 429 as told, retries a 5xx, and takes "message is not modified" as done', async () => {
    const tg = await fakeTelegram('1:A');
    fakes.push(tg);
    const { hub, journal } = await setup({ telegram: { bot_token_file: secret('1:A'), chat_id: '5', api_url: tg.url } });
    tg.fail(429);
    tg.fail(502);
    const t0 = Date.now();
    hub.update(story(9)[0]!);
    await hub.idle(20_000);
    expect(tg.requests.map((r) => r.status)).toEqual([429, 502, 200]);
    // retry_after 1 s, then the 5xx backoff (1 s).
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1900);
    // The same view again (as after a restart that resends): Telegram answers 400 not modified, which is delivery.
    journal.putChat('incident:9', 'telegram', journal.chatRow('incident:9', 'telegram')!.body, Date.now());
    hub.start();
    await hub.idle();
    expect(tg.requests.at(-1)).toMatchObject({ status: 400, path: '/bot1:A/editMessageText' });
    expect(journal.pendingChats()).toEqual([]);
    expect(journal.chatRow('incident:9', 'telegram')?.lastError).toBeNull();
  }, 30_000);

  it('sends a new message when the old one was deleted from the chat', async () => {
    const dc = await fakeDiscord('42', 'tok');
    fakes.push(dc);
    const { hub } = await setup({ discord: { webhook_url_file: secret(`${dc.url}/api/webhooks/42/tok`) } });
    hub.update(story(10)[0]!);
    await hub.idle();
    dc.messages.clear(); // someone deleted it
    hub.update(story(10)[3]!);
    await hub.idle();
    expect(dc.requests.map((r) => `${r.method} ${r.status}`)).toEqual(['POST 200', 'PATCH 404', 'POST 200']);
    expect([...dc.messages.values()].map((m) => (m.embeds as { title: string }[])[0]!.title)).toEqual(['✅ zigbee2mqtt: recovered']);
  });

  it('keeps undelivered messages in the journal and delivers them after a restart', async () => {
    const tg = await fakeTelegram('9:Z');
    fakes.push(tg);
    const path = join(dir, 'restart.db');
    const first = await setup({ telegram: { bot_token_file: secret('9:Z'), chat_id: '5', api_url: tg.url } }, path);
    tg.fail(503, 100);
    for (const e of story(11)) first.hub.update(e);
    await new Promise((r) => setTimeout(r, 300));
    await first.hub.stop();
    first.journal.close();
    expect(tg.messages.size).toBe(0);
    // The API is back; a new process on the same journal delivers the newest view.
    const failedTries = tg.requests.length;
    expect(failedTries).toBeGreaterThan(0);
    tg.heal();
    const second = await setup({ telegram: { bot_token_file: secret('9:Z'), chat_id: '5', api_url: tg.url } }, path);
    await second.hub.idle(10_000);
    expect(tg.messages.size).toBe(1);
    expect((tg.messages.get('1')!.text as string).split('\n')[0]).toBe('✅ <b>zigbee2mqtt</b>: recovered');
  }, 30_000);

  it('says to check the token on 401 and never logs it; gives that version up (4xx)', async () => {
    const tg = await fakeTelegram('123:ABC');
    fakes.push(tg);
    const { hub, lines, journal } = await setup({ telegram: { bot_token_file: secret('999:WRONG'), chat_id: '1', api_url: tg.url } });
    hub.update(story(12)[0]!);
    await hub.idle();
    expect(tg.requests).toHaveLength(1);
    expect(lines.find((l) => l.channel === 'telegram')).toMatchObject({ status: 401, msg: 'Telegram refused the bot token: check bot_token_file' });
    expect(JSON.stringify(lines)).not.toContain('999:WRONG');
    expect(journal.chatRow('incident:12', 'telegram')?.lastError).toBe('401 Unauthorized');
  });

  it('routes by severity and service; an incident with no severity (a crash) is never dropped', async () => {
    const pager = await fakeTelegram('1:P');
    const media = await fakeDiscord('7', 'm');
    fakes.push(pager, media);
    const { hub } = await setup({
      channels: [
        { name: 'pager', telegram: { bot_token_file: secret('1:P'), chat_id: '1', api_url: pager.url, match: { severity: ['critical'] }, events: ['needs_human'] } },
        { name: 'media', discord: { webhook_url_file: secret(`${media.url}/api/webhooks/7/m`), match: { services: ['jellyfin'] } } },
      ],
    });
    const warning = { alert: { name: 'DiskFilling', severity: 'warning' } };
    hub.update({ ...ev(20, 'acting', 'acting', warning), service: 'jellyfin' });
    hub.update({ ...ev(20, 'needs_human', 'jellyfin needs a human'), service: 'jellyfin' });
    hub.update(ev(21, 'acting', 'acting', { alert: { name: 'ServiceDown', severity: 'critical' } }));
    hub.update(ev(21, 'recovered', 'back'));
    hub.update(ev(22, 'acting', 'acting on a crash seen by the container events'));
    hub.update(ev(22, 'needs_human', 'zigbee2mqtt needs a human'));
    await hub.idle();
    // The pager: needs_human of critical or unknown severity only; jellyfin's warning not.
    expect([...pager.messages.values()].map((m) => (m.text as string).split('\n')[0])).toEqual(['🚨 <b>zigbee2mqtt</b>: needs a human']);
    expect([...media.messages.values()].map((m) => (m.embeds ? (m.embeds as { title: string }[])[0]!.title : m.content))).toEqual(['🚨 jellyfin: needs a human', '🚨 jellyfin needs a human']);
  });

  it('a human needed is never only an edit: a reply to the incident message follows (edits notify nobody)', async () => {
    const tg = await fakeTelegram('1:U');
    const dc = await fakeDiscord('3', 'u');
    fakes.push(tg, dc);
    const { hub } = await setup({ telegram: { bot_token_file: secret('1:U'), chat_id: '9', api_url: tg.url }, discord: { webhook_url_file: secret(`${dc.url}/api/webhooks/3/u`) } });
    hub.update(story(30)[0]!);
    await hub.idle();
    hub.update(ev(30, 'needs_human', 'zigbee2mqtt did not recover after restart x2; needs a human'));
    await hub.idle();
    expect(tg.requests.map((r) => r.path.split('/').pop())).toEqual(['sendMessage', 'editMessageText', 'sendMessage']);
    expect(tg.requests[2]!.body).toEqual({ chat_id: '9', text: '🚨 zigbee2mqtt needs a human', parse_mode: 'HTML', reply_parameters: { message_id: 1, allow_sending_without_reply: true } });
    expect(dc.requests.map((r) => `${r.method} ${r.status}`)).toEqual(['POST 200', 'PATCH 200', 'POST 204']);
    expect(dc.requests[2]!.body).toEqual({ username: 'HomeStation', content: '🚨 zigbee2mqtt needs a human', allowed_mentions: { parse: [] } });
  });

  it('takes an incident that needs a human out of the storm summary, into a message of its own', async () => {
    const tg = await fakeTelegram('1:T');
    fakes.push(tg);
    const { hub } = await setup({ telegram: { bot_token_file: secret('1:T'), chat_id: '1', api_url: tg.url }, storm: { threshold: 2, window: 60_000 } });
    for (let i = 0; i < 4; i++) hub.update({ ...ev(200 + i, 'acting', 'acting'), service: `svc${i}` });
    await hub.idle();
    expect(tg.messages.size).toBe(3); // two of their own, one summary of two
    hub.update({ ...ev(203, 'needs_human', 'svc3 needs a human'), service: 'svc3' });
    await hub.idle();
    const texts = [...tg.messages.values()].map((m) => (m.text as string).split('\n')[0]);
    expect(texts).toContain('🚨 <b>svc3</b>: needs a human');
    const summary = [...tg.messages.values()].map((m) => m.text as string).find((t) => t.startsWith('🌩'))!;
    expect(summary).toContain('🚨 svc3: needs a human (incident 203)');
  });

  it('collapses an alert storm into one summary message, edited as it grows', async () => {
    const tg = await fakeTelegram('1:S');
    fakes.push(tg);
    const { hub } = await setup({ telegram: { bot_token_file: secret('1:S'), chat_id: '1', api_url: tg.url }, storm: { threshold: 3, window: 60_000 } });
    for (let i = 0; i < 50; i++) hub.update({ ...ev(100 + i, 'acting', 'acting'), service: `svc${i}` });
    for (let i = 0; i < 50; i++) hub.update({ ...ev(100 + i, 'recovered', 'back'), service: `svc${i}` });
    await hub.idle();
    expect(tg.messages.size).toBe(4);
    const summary = [...tg.messages.values()].map((m) => m.text as string).find((t) => t.startsWith('🌩'))!;
    expect(summary.split('\n')[0]).toMatch(/^🌩 <b>47 incidents<\/b> since \d\d:\d\d:\d\d UTC$/);
    expect(summary).toContain('✅ svc49: recovered (incident 149)');
    expect(summary).not.toContain('svc2:');
  });
});

