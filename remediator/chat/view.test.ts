import { describe, expect, it } from 'vitest';
import { DISCORD, TELEGRAM_LIMIT, applyEvent, discordEmbed, escapeHtml, telegramMessage, type IncidentView } from './view.js';

const T0 = Date.parse('2026-11-26T10:00:00Z');
const acting = applyEvent(undefined, {
  kind: 'acting',
  service: 'zigbee<2>mqtt',
  incidentId: 7,
  message: 'acting on zigbee<2>mqtt: Zigbee & MQTT bridge down; plan: restart, then redeploy',
  failedAt: T0,
  alert: { name: 'ServiceDown', severity: 'critical', summary: 'zigbee2mqtt <b>down</b>', alertmanagerUrl: 'http://am:9093', sourceUrl: 'http://prom:9090/graph?g0.expr=up&g0.tab=1' },
}, T0 + 1000, 'http://grafana:3000');

describe('an incident message', () => {
  it('is written for Telegram HTML with everything user-written escaped', () => {
    const { text, reply_markup } = telegramMessage(acting);
    expect(text).toBe(
      [
        '🔧 <b>zigbee&lt;2&gt;mqtt</b>: acting',
        '<i>ServiceDown</i> (critical): zigbee2mqtt &lt;b&gt;down&lt;/b&gt;',
        'failed at 10:00:00 UTC',
        'acting on zigbee&lt;2&gt;mqtt: Zigbee &amp; MQTT bridge down; plan: restart, then redeploy',
        '<a href="http://am:9093">Alertmanager</a> · <a href="http://prom:9090/graph?g0.expr=up&amp;g0.tab=1">Prometheus</a> · <a href="http://grafana:3000/d/homestation-remediation?var-service=zigbee%3C2%3Emqtt">Grafana</a> · incident 7',
      ].join('\n'),
    );
    expect(reply_markup).toEqual({ inline_keyboard: [] });
    expect(escapeHtml('a "b" <c> & d')).toBe('a &quot;b&quot; &lt;c&gt; &amp; d');
  });

  it('keeps the steps and ends with the outcome, as it is edited', () => {
    let v: IncidentView = applyEvent(acting, { kind: 'step', service: 'zigbee<2>mqtt', incidentId: 7, message: 'restart: started (attempt 1)', at: T0 + 2000 }, T0 + 2000);
    v = applyEvent(v, { kind: 'recovered', service: 'zigbee<2>mqtt', incidentId: 7, message: 'back after restart, 4.2 s after it failed', recoverySeconds: 4.2 }, T0 + 5000);
    const { text } = telegramMessage(v);
    expect(text.split('\n')[0]).toBe('✅ <b>zigbee&lt;2&gt;mqtt</b>: recovered');
    // Why it acted stays on the message once the outcome replaces the headline.
    expect(text.split('\n')[3]).toBe('acting on zigbee&lt;2&gt;mqtt: Zigbee &amp; MQTT bridge down; plan: restart, then redeploy');
    expect(text).toContain('• 10:00:02 restart: started (attempt 1)\nback after restart, 4.2 s after it failed');
    const embed = discordEmbed(v);
    expect(embed).toMatchObject({ title: '✅ zigbee<2>mqtt: recovered', color: 0x2ecc71, footer: { text: 'HomeStation incident 7' } });
    expect(embed.fields).toContainEqual({ name: 'Back after', value: '4.2 s', inline: true });
  });

  it('offers approve, deny and silence while a step waits, and says the webhook cannot', () => {
    const v = applyEvent(acting, { kind: 'awaiting_approval', service: 'zigbee<2>mqtt', incidentId: 7, message: 'migrate to nas waits for your approval', approval: { step: 'migrate to nas', until: T0 + 900_000 } }, T0 + 3000);
    expect(telegramMessage(v).reply_markup.inline_keyboard).toEqual([
      [
        { text: '✅ Approve', callback_data: 'hs:7:approve' },
        { text: '❌ Deny', callback_data: 'hs:7:deny' },
      ],
      [{ text: '🔕 Silence 1 h', callback_data: 'hs:7:silence' }],
    ]);
    expect(discordEmbed(v).fields.find((f) => f.name === 'Approval')?.value).toMatch(/approve from Telegram \(webhooks carry no buttons\)/);
    const decided = applyEvent(v, { kind: 'decided', service: 'zigbee<2>mqtt', incidentId: 7, message: 'migrate to nas: approve (telegram user 42)' }, T0 + 4000);
    expect(telegramMessage(decided).reply_markup.inline_keyboard).toEqual([]);
  });

  it('stays within Telegram 4096 and Discord embed limits however long the story, dropping the oldest steps', () => {
    let v = acting;
    for (let i = 0; i < 200; i++) v = applyEvent(v, { kind: 'step', service: v.service, incidentId: 7, message: `check after: failed (${'x'.repeat(900)} ${i})` }, T0 + i);
    const { text } = telegramMessage(v);
    expect(text.length).toBeLessThanOrEqual(TELEGRAM_LIMIT);
    expect(text).toContain(' 199)');
    expect(text).toContain('incident 7');
    const e = discordEmbed(v);
    const total = e.title.length + e.description.length + e.footer.text.length + e.fields.reduce((n, f) => n + f.name.length + f.value.length, 0);
    expect(total).toBeLessThanOrEqual(DISCORD.total);
    expect(e.description.length).toBeLessThanOrEqual(DISCORD.description);
    expect(e.description).toContain(' 199)');
  });
});
