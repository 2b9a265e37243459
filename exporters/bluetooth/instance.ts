/** One bluetooth instance: the model, fed by its one source, read at scrape time. */
import type { InstanceBase, InstanceContext, StreamInstance } from '../../collector/contract.js';
import { WarnOnce } from '../../collector/warn-once.js';
import type { BluetoothConfig } from './index.js';
import { BluetoothModel, type ListedDevice } from './model.js';
import { normalizeAddress } from './parse/ha.js';
import type { BluetoothSource } from './source.js';

export async function createBluetoothInstance(ctx: InstanceContext, config: BluetoothConfig & InstanceBase): Promise<StreamInstance> {
  const listed = new Map<string, ListedDevice>(config.devices.map((d) => [normalizeAddress(d.address), { name: d.name, silentAfterMs: d.silent_after }]));
  const model = new BluetoothModel({
    source: config.homeassistant ? 'homeassistant' : 'bluez',
    listed,
    trackAll: config.track_all,
    maxDevices: config.max_devices,
    deviceTtlMs: config.device_ttl,
    forgetAfterMs: config.forget_after,
  });
  const warn = new WarnOnce(ctx.log);
  let source: BluetoothSource;
  if (config.homeassistant) {
    const { HaBluetoothSource } = await import('./ha-source.js');
    source = new HaBluetoothSource(ctx, config.homeassistant, model, warn);
  } else {
    const { BluezSource } = await import('./bluez-source.js');
    source = new BluezSource(ctx, config.bluez ?? { adapters: [], discovery: false }, model, warn);
  }
  let loggedOverBudget = false;
  return {
    mode: 'stream',
    start: () => source.start(),
    stop: () => source.stop(),
    snapshot() {
      const up = source.synced();
      const samples = model.snapshot(ctx.now(), up);
      // Read from the model, not by scanning the samples: this runs at every scrape.
      const over = config.track_all && model.untrackedCount() > 0;
      if (over !== loggedOverBudget) {
        if (over) ctx.log.warn({ maxDevices: config.max_devices }, 'over max_devices: further devices are counted (devices{set="untracked"}), not exported; list the ones that matter under devices');
        loggedOverBudget = over;
      }
      return up ? { up, samples } : { up, samples, error: source.error() };
    },
  };
}
