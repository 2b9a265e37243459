/**
 * The pure readers over the recorded shapes (fixtures/, SOURCE.txt): HA's four
 * bluetooth subscriptions as websocket_api.py sends them, and BlueZ's
 * GetManagedObjects as bluetooth-adapters' test records it, typed as dbus-next
 * unmarshals it. Then what each does with input it does not expect.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAdvertisements, parseAllocations, parseScannerDetails, parseScannerState } from './parse/ha.js';
import { addressOfPath, adapterOfPath, readAdapter, readDevice, type Props, type VariantLike } from './parse/bluez.js';

const wire = JSON.parse(readFileSync(new URL('./fixtures/ha-bluetooth-ws-and-esphome-proxy-wire-forms.derived.json', import.meta.url), 'utf8')) as {
  home_assistant_ws: Record<string, { responses_in_order: { type: string; event?: unknown }[] }>;
};
const events = (command: string) => wire.home_assistant_ws[command]!.responses_in_order.filter((m) => m.type === 'event').map((m) => m.event);

/** The fixture's JSON as dbus-next hands it over: variants with BlueZ's signatures, bytes as Buffers. */
const SIGNATURES: Record<string, string> = { RSSI: 'n', TxPower: 'n', Powered: 'b', Discovering: 'b', Address: 's', Name: 's', Alias: 's' };
function asVariants(props: Record<string, unknown>): Props {
  const out: Record<string, VariantLike> = {};
  for (const [k, v] of Object.entries(props)) {
    if (k === 'ManufacturerData') {
      const md = Object.fromEntries(Object.entries(v as Record<string, { __bytes_hex__: string }>).map(([id, b]) => [id, { signature: 'ay', value: Buffer.from(b.__bytes_hex__, 'hex') }]));
      out[k] = { signature: 'a{qv}', value: md };
    } else if (SIGNATURES[k]) out[k] = { signature: SIGNATURES[k] as string, value: v };
  }
  return out;
}
const managed = (JSON.parse(readFileSync(new URL('./fixtures/bluez-get-managed-objects.bluetooth-adapters-test.json', import.meta.url), 'utf8')) as { GetManagedObjects: Record<string, Record<string, Record<string, unknown>>> }).GetManagedObjects;

describe('Home Assistant bluetooth events (the documented wire forms)', () => {
  it('reads scanner details, add then remove', () => {
    const [add, remove] = events('bluetooth/subscribe_scanner_details').map(parseScannerDetails);
    expect(add?.items).toEqual([
      { action: 'add', details: { source: 'AC:BC:32:89:0E:AA', name: 'living-room-proxy (AC:BC:32:89:0E:AA)', adapter: 'living-room-proxy', type: 'remote', connectable: true } },
      { action: 'add', details: { source: '00:1A:7D:DA:71:04', name: 'hci0 (00:1A:7D:DA:71:04)', adapter: 'hci0', type: 'usb', connectable: true } },
    ]);
    expect(remove?.items.map((i) => [i.action, i.details.source])).toEqual([['remove', 'AC:BC:32:89:0E:AA']]);
  });

  it('reads scanner state: current_mode null is not scanning, though requested', () => {
    const states = events('bluetooth/subscribe_scanner_state').map((e) => parseScannerState(e).items[0]);
    expect(states).toEqual([
      { source: 'AC:BC:32:89:0E:AA', scanning: true, requested: true, currentMode: 'passive', requestedMode: 'passive' },
      { source: 'AC:BC:32:89:0E:AA', scanning: false, requested: true, currentMode: null, requestedMode: 'active' },
    ]);
  });

  it('reads connection allocations', () => {
    expect(parseAllocations(events('bluetooth/subscribe_connection_allocations')[0]).items).toEqual([{ source: 'AC:BC:32:89:0E:AA', slots: 3, free: 2 }]);
  });

  it('reads adverts (company id from the decimal key, epoch seconds to ms) and removals', () => {
    const [add, remove] = events('bluetooth/subscribe_advertisements').map((e) => parseAdvertisements(e, true));
    expect(add?.items).toEqual([
      { advert: { address: '54:D2:72:AB:35:95', source: 'AC:BC:32:89:0E:AA', time: 1767225600120, name: 'Nuki_1EAB3595', rssi: -78, txPower: null, connectable: true, company: '0x004c', live: true } },
    ]);
    expect(add?.skipped).toEqual([]);
    expect(remove?.items).toEqual([{ removed: '54:D2:72:AB:35:95' }]);
  });

  it('skips and counts what it cannot read, keeping the rest of a batch', () => {
    const details = parseScannerDetails({ add: [{ connectable: true }, { source: 'aa:bb:cc:dd:ee:ff', scanner_type: 'zigbee', adapter: 'z' }] });
    expect(details.items.map((i) => [i.details.source, i.details.type, i.details.name])).toEqual([['AA:BB:CC:DD:EE:FF', 'unknown', 'z']]);
    expect(details.skipped).toEqual(['event', 'scanner_type']);
    expect(parseScannerDetails({ change: [] }).skipped).toEqual(['event']);
    expect(parseScannerState({ source: 'x', current_mode: 3, requested_mode: null }).skipped).toEqual(['event']);
    expect(parseAllocations({ source: 'x' }).skipped).toEqual(['event']);
    expect(parseAllocations([{ source: 'x', slots: 3 }, { source: 'y', slots: 3, free: 0, allocated: [] }]).items).toEqual([{ source: 'Y', slots: 3, free: 0 }]);
    const adverts = parseAdvertisements(
      {
        add: [
          { address: 'AA:BB:CC:DD:EE:01', source: 's', time: 1, manufacturer_data: { '76': 'zz', '6': '0102' }, service_data: { u: 12 } },
          { address: 'AA:BB:CC:DD:EE:02', source: 's' },
          { address: 'AA:BB:CC:DD:EE:03', name: 'AA:BB:CC:DD:EE:03', source: 's', time: 2, rssi: -50 },
        ],
      },
      true,
    );
    expect(adverts.skipped).toEqual(['manufacturer_data', 'service_data', 'event']);
    // The good entry of bad manufacturer data still names the company; a name that is the address is no name.
    expect(adverts.items).toEqual([
      { advert: expect.objectContaining({ address: 'AA:BB:CC:DD:EE:01', company: '0x0006', rssi: null }) },
      { advert: expect.objectContaining({ address: 'AA:BB:CC:DD:EE:03', name: null, rssi: -50 }) },
    ]);
  });
});

describe('BlueZ properties (GetManagedObjects as recorded)', () => {
  it('reads the adapters and the devices, with the company of the manufacturer data', () => {
    const adapters = Object.entries(managed).filter(([, i]) => i['org.bluez.Adapter1']).map(([p, i]) => [adapterOfPath(p), readAdapter(asVariants(i['org.bluez.Adapter1']!)).value]);
    expect(adapters).toEqual([
      ['hci0', { address: '00:1A:7D:DA:71:04', powered: true, discovering: true, alias: 'homeassistant' }],
      ['hci2', { address: '00:00:00:00:00:00', powered: true, discovering: true, alias: 'homeassistant' }],
      ['hci3', { address: '00:1A:7D:DA:71:05', powered: true, discovering: true, alias: 'homeassistant' }],
    ]);
    const device = readDevice(asVariants(managed['/org/bluez/hci0/dev_54_D2_72_AB_35_95']!['org.bluez.Device1']!));
    expect(device).toEqual({ value: { address: '54:D2:72:AB:35:95', name: 'Nuki_1EAB3595', rssi: -78, txPower: undefined, company: '0x004c', advert: true }, skipped: [] });
    expect(addressOfPath('/org/bluez/hci1/dev_54_D2_72_AB_35_95')).toBe('54:D2:72:AB:35:95');
    expect(adapterOfPath('/org/bluez/hci1/dev_54_D2_72_AB_35_95')).toBe('hci1');
    expect(adapterOfPath('/other')).toBeUndefined();
  });

  it('skips a property of the wrong type and undecodable advertising data', () => {
    const r = readDevice({
      RSSI: { signature: 's', value: '-50' },
      TxPower: { signature: 'n', value: 4 },
      ManufacturerData: { signature: 'a{qv}', value: { '76': { signature: 's', value: 'x' } } },
      ServiceData: { signature: 'a{sv}', value: { '0000fcd2-0000-1000-8000-00805f9b34fb': { signature: 'ay', value: Buffer.from('40', 'hex') } } },
    });
    expect(r.skipped).toEqual(['property', 'manufacturer_data']);
    expect(r.value).toEqual({ address: undefined, name: undefined, rssi: undefined, txPower: 4, company: undefined, advert: true });
  });
});
