/**
 * Pure: what one incident's chat message says, built up from the remediator's
 * events, and how it is written for Telegram (HTML parse mode) and Discord (an
 * embed), within each API's documented limits. One message per incident: each
 * event changes the view, and the message is edited to the new view.
 */

export type ViewState = 'acting' | 'awaiting_approval' | 'recovered' | 'needs_human' | 'refused' | 'resolved';

export interface AlertInfo {
  readonly name: string;
  readonly summary?: string;
  readonly severity?: string;
  /** Alertmanager's externalURL. */
  readonly alertmanagerUrl?: string;
  /** The rule's generatorURL (Prometheus graph). */
  readonly sourceUrl?: string;
}

/** What the engine reports; `kind` says how the incident moved. */
export interface NotifyEvent {
  readonly kind: 'acting' | 'step' | 'awaiting_approval' | 'decided' | 'needs_human' | 'recovered' | 'refused' | 'finished';
  /** finished: the state the incident ended in (a message more telling may follow). */
  readonly state?: ViewState;
  readonly service: string;
  readonly incidentId?: number;
  readonly message: string;
  readonly at?: number;
  /** The alert that opened the incident (acting). */
  readonly alert?: AlertInfo;
  /** When the failure started (acting). */
  readonly failedAt?: number;
  readonly recoverySeconds?: number;
  /** awaiting_approval: the step waiting and until when. */
  readonly approval?: { readonly step: string; readonly until: number };
}

export interface IncidentView {
  readonly incidentId: number;
  readonly service: string;
  readonly state: ViewState;
  readonly alert?: AlertInfo;
  readonly failedAt?: number;
  /** What was done, oldest first (the last MAX_LINES kept). */
  readonly lines: readonly { at: number; text: string }[];
  /** Why it acts and the plan (from the first event): kept when the headline moves on. */
  readonly why?: string;
  /** The latest word: how it recovered, the last error. */
  readonly headline: string;
  readonly recoverySeconds?: number;
  readonly approval?: { readonly step: string; readonly until: number; readonly open: boolean };
  readonly grafanaUrl?: string;
}

const MAX_LINES = 12;

const STATE_OF: Partial<Record<NotifyEvent['kind'], ViewState>> = {
  acting: 'acting',
  awaiting_approval: 'awaiting_approval',
  needs_human: 'needs_human',
  recovered: 'recovered',
  refused: 'refused',
};

/** The view after an event (`view` undefined: the incident's first event). */
export function applyEvent(view: IncidentView | undefined, e: NotifyEvent, now: number, grafanaUrl?: string): IncidentView {
  const at = e.at ?? now;
  const base: IncidentView = view ?? { incidentId: e.incidentId ?? 0, service: e.service, state: 'acting', lines: [], headline: e.message, ...(grafanaUrl ? { grafanaUrl } : {}) };
  const state = e.kind === 'decided' ? 'acting' : e.kind === 'finished' ? (e.state ?? base.state) : (STATE_OF[e.kind] ?? base.state);
  const lines = e.kind === 'step' || e.kind === 'decided' ? [...base.lines, { at, text: e.message }].slice(-MAX_LINES) : base.lines;
  return {
    ...base,
    state,
    lines,
    headline: e.kind === 'step' ? base.headline : e.message,
    ...(e.alert ? { alert: e.alert } : {}),
    ...(e.kind === 'acting' ? { why: e.message } : {}),
    ...(e.failedAt !== undefined ? { failedAt: e.failedAt } : {}),
    ...(e.recoverySeconds !== undefined ? { recoverySeconds: e.recoverySeconds } : {}),
    ...(e.approval ? { approval: { ...e.approval, open: true } } : e.kind === 'decided' && base.approval ? { approval: { ...base.approval, open: false } } : {}),
  };
}

const ICON: Record<ViewState, string> = {
  acting: '🔧',
  awaiting_approval: '✋',
  recovered: '✅',
  needs_human: '🚨',
  refused: '⛔',
  resolved: '☑️',
};
const WORD: Record<ViewState, string> = {
  acting: 'acting',
  awaiting_approval: 'waiting for your approval',
  recovered: 'recovered',
  needs_human: 'needs a human',
  refused: 'not acted on',
  resolved: 'resolved',
};
/** Discord embed colours by state. */
export const COLOUR: Record<ViewState, number> = {
  acting: 0xf1c40f,
  awaiting_approval: 0xe67e22,
  recovered: 0x2ecc71,
  needs_human: 0xe74c3c,
  refused: 0x95a5a6,
  resolved: 0x3498db,
};

const time = (ms: number) => new Date(ms).toISOString().slice(11, 19);

/** Telegram's HTML parse mode needs <, > and & escaped (and " inside attributes). */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function links(v: IncidentView): { label: string; url: string }[] {
  const out: { label: string; url: string }[] = [];
  if (v.alert?.alertmanagerUrl) out.push({ label: 'Alertmanager', url: v.alert.alertmanagerUrl });
  if (v.alert?.sourceUrl) out.push({ label: 'Prometheus', url: v.alert.sourceUrl });
  if (v.grafanaUrl) out.push({ label: 'Grafana', url: `${v.grafanaUrl.replace(/\/$/, '')}/d/homestation-remediation?var-service=${encodeURIComponent(v.service)}` });
  return out.filter((l) => /^https?:\/\//.test(l.url));
}

export const TELEGRAM_LIMIT = 4096;

/** The Telegram message (parse_mode HTML) and its inline keyboard while an approval is open. */
export function telegramMessage(v: IncidentView): { text: string; reply_markup: { inline_keyboard: { text: string; callback_data: string }[][] } } {
  const head = [
    `${ICON[v.state]} <b>${escapeHtml(v.service)}</b>: ${WORD[v.state]}`,
    ...(v.alert ? [`<i>${escapeHtml(v.alert.name)}</i>${v.alert.severity ? ` (${escapeHtml(v.alert.severity)})` : ''}${v.alert.summary ? `: ${escapeHtml(v.alert.summary)}` : ''}`] : []),
    ...(v.failedAt ? [`failed at ${time(v.failedAt)} UTC`] : []),
    ...(v.why && v.why !== v.headline ? [escapeHtml(v.why)] : []),
  ];
  const tail = [
    escapeHtml(v.headline),
    ...(v.approval?.open ? [`Approve <b>${escapeHtml(v.approval.step)}</b>? Until ${time(v.approval.until)} UTC, then the configured default.`] : []),
    [...links(v).map((l) => `<a href="${escapeHtml(l.url)}">${l.label}</a>`), `incident ${v.incidentId}`].join(' · '),
  ];
  // Steps dropped oldest first until it fits (the limit counts the text after entity parsing: this is conservative).
  let steps = v.lines.map((l) => `• ${time(l.at)} ${escapeHtml(l.text)}`);
  let text = [...head, ...steps, ...tail].join('\n');
  while (text.length > TELEGRAM_LIMIT && steps.length) {
    steps = steps.slice(1);
    text = [...head, '…', ...steps, ...tail].join('\n');
  }
  if (text.length > TELEGRAM_LIMIT) text = `${text.slice(0, TELEGRAM_LIMIT - 1)}…`.replace(/<[^>]*…$/, '…');
  const keyboard = v.approval?.open
    ? [
        [
          { text: '✅ Approve', callback_data: `hs:${v.incidentId}:approve` },
          { text: '❌ Deny', callback_data: `hs:${v.incidentId}:deny` },
        ],
        [{ text: '🔕 Silence 1 h', callback_data: `hs:${v.incidentId}:silence` }],
      ]
    : [];
  return { text, reply_markup: { inline_keyboard: keyboard } };
}

/** Discord's documented embed limits. */
export const DISCORD = { title: 256, description: 4096, fields: 25, fieldName: 256, fieldValue: 1024, footer: 2048, total: 6000 } as const;

const cut = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

export interface DiscordEmbed {
  title: string;
  description: string;
  color: number;
  fields: { name: string; value: string; inline?: boolean }[];
  footer: { text: string };
  timestamp?: string;
}

/** One embed: colour by state, the steps in the description, the facts as fields. */
export function discordEmbed(v: IncidentView): DiscordEmbed {
  const fields: DiscordEmbed['fields'] = [{ name: 'State', value: WORD[v.state], inline: true }];
  if (v.alert) fields.push({ name: 'Alert', value: cut(`${v.alert.name}${v.alert.severity ? ` (${v.alert.severity})` : ''}`, DISCORD.fieldValue), inline: true });
  if (v.failedAt) fields.push({ name: 'Failed at', value: `${time(v.failedAt)} UTC`, inline: true });
  if (v.recoverySeconds !== undefined) fields.push({ name: 'Back after', value: `${v.recoverySeconds.toFixed(1)} s`, inline: true });
  if (v.approval?.open) fields.push({ name: 'Approval', value: cut(`${v.approval.step}: approve from Telegram (webhooks carry no buttons) until ${time(v.approval.until)} UTC`, DISCORD.fieldValue) });
  const l = links(v);
  if (l.length) fields.push({ name: 'Links', value: cut(l.map((x) => `[${x.label}](${x.url})`).join(' · '), DISCORD.fieldValue) });
  const title = cut(`${ICON[v.state]} ${v.service}: ${WORD[v.state]}`, DISCORD.title);
  const footer = { text: `HomeStation incident ${v.incidentId}` };
  const fixed = title.length + footer.text.length + fields.reduce((n, f) => n + f.name.length + f.value.length, 0);
  const summary = `${v.alert?.summary ? `${v.alert.summary}\n` : ''}${v.why && v.why !== v.headline ? `${v.why}\n` : ''}`;
  let steps = v.lines.map((x) => `• ${time(x.at)} ${x.text}`);
  const room = Math.min(DISCORD.description, DISCORD.total - fixed);
  let description = `${summary}${[...steps, v.headline].join('\n')}`;
  while (description.length > room && steps.length) {
    steps = steps.slice(1);
    description = `${summary}…\n${[...steps, v.headline].join('\n')}`;
  }
  return { title, description: cut(description, room), color: COLOUR[v.state], fields: fields.slice(0, DISCORD.fields), footer };
}

/** Several incidents at once: one summary message instead of one each. */
export interface StormView {
  readonly since: number;
  readonly incidents: readonly { incidentId: number; service: string; state: ViewState }[];
}

export function stormTelegram(s: StormView): string {
  const rows = s.incidents.map((i) => `${ICON[i.state]} ${escapeHtml(i.service)}: ${WORD[i.state]} (incident ${i.incidentId})`);
  let text = [`🌩 <b>${s.incidents.length} incidents</b> since ${time(s.since)} UTC`, ...rows].join('\n');
  if (text.length > TELEGRAM_LIMIT) text = `${text.slice(0, TELEGRAM_LIMIT - 1)}…`;
  return text;
}

export function stormEmbed(s: StormView): DiscordEmbed {
  const worst = s.incidents.some((i) => i.state === 'needs_human') ? 'needs_human' : s.incidents.every((i) => i.state === 'recovered' || i.state === 'resolved') ? 'recovered' : 'acting';
  const rows = s.incidents.map((i) => `${ICON[i.state]} ${i.service}: ${WORD[i.state]} (incident ${i.incidentId})`).join('\n');
  return { title: cut(`🌩 ${s.incidents.length} incidents since ${time(s.since)} UTC`, DISCORD.title), description: cut(rows, DISCORD.description), color: COLOUR[worst], fields: [], footer: { text: 'HomeStation alert storm' } };
}
