/**
 * Pure: what an availability or LWT payload says. zigbee2mqtt 1.x writes plain
 * "online"/"offline", 2.x {"state":"online"} (seen capitalised too), Tasmota
 * "Online"/"Offline"; an empty retained payload clears a topic (a renamed or
 * removed device).
 */

export type Availability = 'online' | 'offline' | 'cleared' | 'unknown';

export function parseAvailability(payload: string, online: readonly string[] = ['online'], offline: readonly string[] = ['offline']): Availability {
  const text = payload.trim();
  if (text === '') return 'cleared';
  let state = text;
  if (text.startsWith('{')) {
    try {
      const obj = JSON.parse(text) as { state?: unknown };
      if (typeof obj.state !== 'string') return 'unknown';
      state = obj.state;
    } catch {
      return 'unknown';
    }
  }
  const lower = state.toLowerCase();
  if (online.some((o) => o.toLowerCase() === lower)) return 'online';
  if (offline.some((o) => o.toLowerCase() === lower)) return 'offline';
  return 'unknown';
}
