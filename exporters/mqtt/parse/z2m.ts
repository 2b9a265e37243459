/**
 * Pure: zigbee2mqtt's bridge/devices and bridge/groups, and the age of a device
 * payload. An inventory either parses whole or is refused whole: one that does not
 * (a truncated publish, another tool's message on the topic) must never drive the
 * removal of devices.
 */

export interface InventoryDevice {
  readonly friendlyName: string;
  readonly ieeeAddress: string;
  readonly vendor: string;
  readonly model: string;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };

/**
 * bridge/devices: a JSON array of devices, the Coordinator among them (zigbee2mqtt
 * 1.x and 2.x always list it); every entry has a string friendly_name and
 * ieee_address. The Coordinator is not a device of the homelab and is left out.
 */
function jsonArray(text: string): Parsed<unknown[]> {
  let list: unknown;
  try {
    list = JSON.parse(text);
  } catch {
    return { ok: false, problem: 'not JSON' };
  }
  return Array.isArray(list) ? { ok: true, value: list } : { ok: false, problem: 'not a JSON array' };
}

export function parseInventory(text: string): Parsed<InventoryDevice[]> {
  const parsed = jsonArray(text);
  if (!parsed.ok) return parsed;
  const list = parsed.value;
  const out: InventoryDevice[] = [];
  let coordinator = false;
  for (const [i, raw] of list.entries()) {
    const d = raw as { friendly_name?: unknown; ieee_address?: unknown; type?: unknown; definition?: { vendor?: unknown; model?: unknown } | null } | null;
    if (!d || typeof d !== 'object' || typeof d.friendly_name !== 'string' || d.friendly_name === '' || typeof d.ieee_address !== 'string') {
      return { ok: false, problem: `entry ${i} has no friendly_name and ieee_address` };
    }
    if (d.type === 'Coordinator') {
      coordinator = true;
      continue;
    }
    out.push({
      friendlyName: d.friendly_name,
      ieeeAddress: d.ieee_address,
      vendor: typeof d.definition?.vendor === 'string' ? d.definition.vendor : '',
      model: typeof d.definition?.model === 'string' ? d.definition.model : '',
    });
  }
  if (!coordinator) return { ok: false, problem: 'no Coordinator entry (zigbee2mqtt always lists it)' };
  return { ok: true, value: out };
}

/** bridge/groups: a JSON array of groups with a friendly_name each. */
export function parseGroups(text: string): Parsed<string[]> {
  const parsed = jsonArray(text);
  if (!parsed.ok) return parsed;
  const list = parsed.value;
  const names: string[] = [];
  for (const [i, g] of list.entries()) {
    const name = (g as { friendly_name?: unknown } | null)?.friendly_name;
    if (typeof name !== 'string') return { ok: false, problem: `entry ${i} has no friendly_name` };
    names.push(name);
  }
  return { ok: true, value: names };
}

/**
 * The time a device payload was made, from its own `last_seen` (zigbee2mqtt's
 * advanced.last_seen: ISO 8601, or epoch milliseconds), in ms; undefined without one.
 */
export function payloadTime(obj: Record<string, unknown>): number | undefined {
  const v = obj.last_seen;
  if (typeof v === 'number' && Number.isFinite(v) && v > 946_684_800_000) return v; // after 2000: epoch ms
  if (typeof v === 'string') {
    const t = Date.parse(v);
    if (!Number.isNaN(t) && t > 946_684_800_000) return t;
  }
  return undefined;
}
