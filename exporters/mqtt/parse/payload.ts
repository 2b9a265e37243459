/**
 * Pure: numbers out of device payloads. A JSON object gives its fields (a dotted
 * path reaches nested ones); a bare number is its own value. Anything else is
 * counted by reason by the caller, never turned into a series.
 */

export type ValueResult = { ok: true; value: number } | { ok: false; reason: 'not_json' | 'not_number' | 'missing' };

export function parseJsonObject(payload: string): Record<string, unknown> | undefined {
  if (!payload.trimStart().startsWith('{')) return undefined;
  try {
    const v = JSON.parse(payload) as unknown;
    return v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** A finite number, or true/false and ON/OFF as 1/0 (switch states). */
export function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') {
    const s = v.trim();
    if (/^(on|true|online)$/i.test(s)) return 1;
    if (/^(off|false|offline)$/i.test(s)) return 0;
    if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) {
      const n = Number(s);
      return Number.isFinite(n) ? n : undefined; // "1e400" is not a number here
    }
  }
  return undefined;
}

/** A value through the user's string mapping first (exact, then case-insensitive), else as a number. */
function mapped(v: unknown, values: Readonly<Record<string, number>> | undefined): number | undefined {
  if (values && typeof v === 'string') {
    const s = v.trim();
    if (s in values) return values[s];
    const key = Object.keys(values).find((k) => k.toLowerCase() === s.toLowerCase());
    if (key !== undefined) return values[key];
  }
  return toNumber(v);
}

export function fieldValue(obj: Record<string, unknown>, path: string, values?: Readonly<Record<string, number>>): ValueResult {
  let v: unknown = obj;
  for (const part of path.split('.')) {
    if (!v || typeof v !== 'object') return { ok: false, reason: 'missing' };
    v = (v as Record<string, unknown>)[part];
  }
  if (v === undefined || v === null) return { ok: false, reason: 'missing' };
  const n = mapped(v, values);
  return n === undefined ? { ok: false, reason: 'not_number' } : { ok: true, value: n };
}

/** The value of a message for a declared metric: a field of a JSON payload, or the payload itself. */
export function payloadValue(payload: string, field: string | undefined, values?: Readonly<Record<string, number>>): ValueResult {
  if (field) {
    const obj = parseJsonObject(payload);
    return obj ? fieldValue(obj, field, values) : { ok: false, reason: 'not_json' };
  }
  const n = mapped(payload, values);
  return n === undefined ? { ok: false, reason: 'not_number' } : { ok: true, value: n };
}

/** MQTT topic filter matching (+ one level, # the rest); the matched topic's levels. */
export function matchTopic(filter: string, topic: string): string[] | undefined {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return t;
    if (i >= t.length) return undefined;
    if (f[i] !== '+' && f[i] !== t[i]) return undefined;
  }
  return f.length === t.length ? t : undefined;
}
