/**
 * Approval from the phone, end to end: the real remediator on podman, a step marked
 * approve: true, the fake Telegram Bot API (inline buttons, getUpdates long polling,
 * answerCallbackQuery), and the real Alertmanager receiving the silence button's
 * silence through its API v2.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../collector/config/load.js';
import { EXPORTERS } from '../../collector/registry.js';
import { fakeTelegram, type FakeTelegram } from '../../test/fakes/chat-apis.js';
import { alertPayload, TOKEN } from '../../test/helpers/remediator.js';
import { freePort, podman, podmanSuite, runWeb, type WebContainer } from '../../test/helpers/podman.js';
import { memoryLogger } from '../../test/helpers/runner.js';
import { missingToolsMessage } from '../../test/helpers/tools.js';
import { startRemediator, type Remediator } from '../index.js';

const name = `hs-t-approve-${process.pid}`;
const suite = podmanSuite('hs-approve', () => [name]);
const missing = suite.missing ?? missingToolsMessage(['prometheus-alertmanager']);
if (missing && process.env.CI === 'true') throw new Error(missing);

let tg: FakeTelegram;
let am: ChildProcess | undefined;
let amUrl: string;
let rem: Remediator;
let web: WebContainer;
const CHAT = '-100777';

beforeAll(async () => {
  if (missing) return;
  const dir = suite.dir();
  tg = await fakeTelegram('55:APPROVE');
  const amPort = await freePort();
  amUrl = `http://127.0.0.1:${amPort}`;
  writeFileSync(join(dir, 'am.yml'), 'route: { receiver: none }\nreceivers: [{ name: none }]\n');
  am = spawn('prometheus-alertmanager', [`--config.file=${join(dir, 'am.yml')}`, `--web.listen-address=127.0.0.1:${amPort}`, '--cluster.listen-address=', `--storage.path=${join(dir, 'am')}`], { stdio: 'ignore' });
  for (const t0 = Date.now(); !(await fetch(`${amUrl}/-/ready`).then((r) => r.ok).catch(() => false)); ) {
    if (Date.now() - t0 > 20_000) throw new Error('Alertmanager did not get ready in 20 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  web = await runWeb(name);
  writeFileSync(join(dir, 'token'), TOKEN);
  writeFileSync(join(dir, 'tg'), '55:APPROVE\n');
  const yaml = `remediator:
  host: 127.0.0.1
  port: 0
  auth: { bearer_token_file: ${join(dir, 'token')} }
  docker: { host: "${suite.engine().dockerHost}" }
  journal: ${join(dir, 'journal.db')}
  events: { enabled: false }
  watch: { enabled: false }
  cooldown: 0s
  approval: { timeout: 8s, default: deny }
  alertmanager: { url: "${amUrl}" }
  notify:
    telegram: { bot_token_file: ${join(dir, 'tg')}, chat_id: "${CHAT}", api_url: "${tg.url}", approvers: { user_ids: [42] } }
  services:
    - { name: web, container: ${name}, probe: { http: { url: "${web.url}" }, timeout: 1s }, recovery_deadline: 15s, stop_timeout: 1s }
  policies:
    - { match: { alertname: ServiceDown }, ladder: [{ action: restart, approve: true }] }
`;
  const config = parseConfig(yaml, 'approve.yaml', EXPORTERS, { env: {} });
  rem = await startRemediator(config.remediator!, { log: memoryLogger().log, registry: new Registry() });
}, 120_000);

afterAll(async () => {
  if (missing) return;
  await rem?.stop();
  await tg?.close();
  am?.kill('SIGTERM');
}, 30_000);

let seq = 0;
/** Stops the service and fires a new ServiceDown for it; resolves with the incident once it waits for approval. */
async function failAndWait(): Promise<{ id: number; messageId: string }> {
  podman(['stop', '-t', '0', name]);
  const startsAt = new Date(Date.now() - 1000 * ++seq).toISOString();
  await fetch(`${rem.url}/webhook/alertmanager`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify(alertPayload([{ labels: { alertname: 'ServiceDown', service: 'web', severity: 'critical' }, startsAt }])),
  });
  let id = 0;
  await expect.poll(() => (id = rem.journal.incidents(1)[0]?.id ?? 0) && rem.journal.entries(id).some((e) => e.what === 'approval' && e.result === 'waiting'), { timeout: 10_000 }).toBe(true);
  // Its message carries the buttons.
  let messageId = '';
  await expect
    .poll(() => {
      const found = [...tg.messages.entries()].find(([, m]) => (m.text as string).includes(`incident ${id}`) && JSON.stringify(m.reply_markup).includes(`hs:${id}:approve`));
      messageId = found?.[0] ?? '';
      return messageId;
    })
    .not.toBe('');
  return { id, messageId };
}
const final = async (id: number) => {
  await expect.poll(() => rem.journal.incident(id)?.state, { timeout: 30_000 }).not.toBe('acting');
  return rem.journal.incident(id)!;
};

describe.runIf(!missing)('approval from the phone', () => {
  it('acts once an approver presses Approve; a stranger\'s press is refused and changes nothing', async () => {
    const { id, messageId } = await failAndWait();
    tg.press({ messageId, data: `hs:${id}:approve`, userId: 99, chatId: CHAT, username: 'stranger' });
    await expect.poll(() => tg.answers.length).toBe(1);
    expect(tg.answers[0]!.text).toBe('You are not allowed to answer this');
    expect(rem.journal.incident(id)?.state).toBe('acting');
    tg.press({ messageId, data: `hs:${id}:approve`, userId: 42, chatId: CHAT, username: 'owner' });
    const incident = await final(id);
    expect(incident.state).toBe('recovered');
    expect(tg.answers.at(-1)?.text).toBe('Approved');
    expect(rem.journal.entries(id).find((e) => e.what === 'approval' && e.result === 'approve')?.detail).toBe('telegram user 42 (@owner)');
    await expect.poll(() => (tg.messages.get(messageId)!.text as string).split('\n')[0]).toBe('✅ <b>web</b>: recovered');
    expect(tg.messages.get(messageId)!.reply_markup).toEqual({ inline_keyboard: [] });
    // getUpdates confirmed what it read: a restart would not replay the press.
    expect(Number(rem.journal.getState('telegram_update_offset'))).toBeGreaterThan(100);
  }, 60_000);

  it('Silence 1 h writes a silence to Alertmanager and the remediator\'s own, and acts on nothing', async () => {
    const { id, messageId } = await failAndWait();
    tg.press({ messageId, data: `hs:${id}:silence`, userId: 42, chatId: CHAT });
    const incident = await final(id);
    expect(incident).toMatchObject({ state: 'refused', reason: 'silenced for 1 h by telegram user 42' });
    const silences = (await (await fetch(`${amUrl}/api/v2/silences`)).json()) as { status: { state: string }; matchers: { name: string; value: string; isEqual: boolean }[]; createdBy: string; endsAt: string }[];
    const mine = silences.find((s) => s.matchers.some((m) => m.name === 'service' && m.value === 'web'));
    expect(mine).toMatchObject({ status: { state: 'active' }, createdBy: 'homestation (telegram user 42)' });
    expect(Date.parse(mine!.endsAt) - Date.now()).toBeGreaterThan(3_500_000);
    expect(rem.engine.silences().web).toBeGreaterThan(Date.now() + 3_500_000);
    expect(rem.journal.entries(id).some((e) => e.kind === 'action' && e.what === 'restart')).toBe(false);
    rem.engine.silence('web', Date.now() - 1, 'test'); // lifted for the next test
    podman(['start', name]);
  }, 60_000);

  it('unanswered, becomes the default (deny): nothing done, the incident failed', async () => {
    const { id } = await failAndWait();
    const incident = await final(id);
    expect(incident.state).toBe('failed');
    expect(incident.reason).toBe('denied: no answer in 8 s: the default, deny');
    expect(rem.journal.entries(id).some((e) => e.kind === 'action' && e.what === 'restart')).toBe(false);
    podman(['start', name]);
  }, 60_000);

  it('is answered through the API too (how Discord users answer); 409 when nothing waits', async () => {
    const { id } = await failAndWait();
    const post = (decision: string) => fetch(`${rem.url}/api/v1/incidents/${id}/${decision}`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    expect((await post('approve')).status).toBe(200);
    expect((await final(id)).state).toBe('recovered');
    expect((await post('approve')).status).toBe(409);
  }, 60_000);
});
