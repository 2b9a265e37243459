/** What a bluetooth source (Home Assistant or BlueZ) gives its instance. */
import type { ExporterError } from '../../collector/contract.js';

export interface BluetoothSource {
  /** Connects and keeps reconnecting; resolves once the first attempt is under way. */
  start(): Promise<void>;
  /** Removes every listener, closes the connection, stops any discovery it started. */
  stop(): Promise<void>;
  /** Connected, and everything the source had was read since the last (re)connect. */
  synced(): boolean;
  /** Why it is not synced. */
  error(): ExporterError;
}
