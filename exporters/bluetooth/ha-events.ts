/** What each of HA's bluetooth subscriptions does to the model: one place, for the source and the golden files. */
import type { Unparsed } from './metrics.js';
import type { BluetoothModel } from './model.js';
import { parseAdvertisements, parseAllocations, parseScannerDetails, parseScannerState } from './parse/ha.js';

export const SUBSCRIPTIONS = [
  'bluetooth/subscribe_scanner_details',
  'bluetooth/subscribe_scanner_state',
  'bluetooth/subscribe_connection_allocations',
  'bluetooth/subscribe_advertisements',
] as const;
export type Subscription = (typeof SUBSCRIPTIONS)[number];

/**
 * Applies one event; returns what was skipped and why. `live` is false for the
 * advert history HA replays right after subscribing (known, not received now).
 */
export function applyHaEvent(model: BluetoothModel, type: Subscription, event: unknown, live: boolean, now: number): { skipped: Unparsed[]; problems: string[] } {
  switch (type) {
    case 'bluetooth/subscribe_scanner_details': {
      const p = parseScannerDetails(event);
      for (const { action, details } of p.items) {
        if (action === 'add') model.scannerAdded(details);
        else model.scannerRemoved(details.source, now);
      }
      return p;
    }
    case 'bluetooth/subscribe_scanner_state': {
      const p = parseScannerState(event);
      for (const s of p.items) model.scannerState(s.source, s.scanning, s.requested);
      return p;
    }
    case 'bluetooth/subscribe_connection_allocations': {
      const p = parseAllocations(event);
      for (const a of p.items) model.allocations(a.source, a.slots, a.free);
      return p;
    }
    case 'bluetooth/subscribe_advertisements': {
      const p = parseAdvertisements(event, live);
      for (const item of p.items) {
        if ('removed' in item) model.deviceRemoved(item.removed);
        else model.advert(item.advert, now);
      }
      return p;
    }
  }
}
