/**
 * Pure readers of BlueZ's D-Bus properties (doc/org.bluez.Adapter.rst, org.bluez.Device.rst)
 * as dbus-next unmarshals them: a{sv} becomes an object of {signature, value}
 * variants. A property of an unexpected type is skipped and counted, never trusted.
 */
import type { Unparsed } from '../metrics.js';
import { normalizeAddress } from './ha.js';

export const ADAPTER_IFACE = 'org.bluez.Adapter1';
export const DEVICE_IFACE = 'org.bluez.Device1';

export interface VariantLike {
  readonly signature: string;
  readonly value: unknown;
}
export type Props = Readonly<Record<string, VariantLike | undefined>>;

export interface AdapterProps {
  address?: string;
  powered?: boolean;
  discovering?: boolean;
  alias?: string;
}

export interface DeviceProps {
  address?: string;
  name?: string;
  rssi?: number;
  txPower?: number;
  company?: string;
  /** Whether this change carries an advert's contents (RSSI or advertising data). */
  advert: boolean;
}

export interface Read<T> {
  readonly value: T;
  readonly skipped: Unparsed[];
}

const expect = (props: Props, key: string, signature: string, skipped: Unparsed[]): unknown => {
  const v = props[key];
  if (v === undefined) return undefined;
  if (v.signature !== signature) {
    skipped.push('property');
    return undefined;
  }
  return v.value;
};

/** /org/bluez/hci0 -> hci0; /org/bluez/hci0/dev_AA_BB_CC_DD_EE_FF -> hci0. */
export function adapterOfPath(path: string): string | undefined {
  return /^\/org\/bluez\/(hci\d+)(?:\/|$)/.exec(path)?.[1];
}

/** /org/bluez/hci0/dev_AA_BB_CC_DD_EE_FF -> AA:BB:CC:DD:EE:FF (a device's path carries its address). */
export function addressOfPath(path: string): string | undefined {
  const m = /\/dev_((?:[0-9A-Fa-f]{2}_){5}[0-9A-Fa-f]{2})$/.exec(path);
  return m ? normalizeAddress((m[1] as string).replace(/_/g, ':')) : undefined;
}

export function readAdapter(props: Props): Read<AdapterProps> {
  const skipped: Unparsed[] = [];
  const address = expect(props, 'Address', 's', skipped) as string | undefined;
  return {
    value: {
      address: address === undefined ? undefined : normalizeAddress(address),
      powered: expect(props, 'Powered', 'b', skipped) as boolean | undefined,
      discovering: expect(props, 'Discovering', 'b', skipped) as boolean | undefined,
      alias: expect(props, 'Alias', 's', skipped) as string | undefined,
    },
    skipped,
  };
}

export function readDevice(props: Props): Read<DeviceProps> {
  const skipped: Unparsed[] = [];
  const address = expect(props, 'Address', 's', skipped) as string | undefined;
  const rssi = expect(props, 'RSSI', 'n', skipped) as number | undefined;
  const txPower = expect(props, 'TxPower', 'n', skipped) as number | undefined;
  const name = (expect(props, 'Name', 's', skipped) ?? undefined) as string | undefined;
  let company: string | undefined;
  const md = props.ManufacturerData;
  if (md !== undefined) {
    // a{qv}: company id -> variant of ay (bytes)
    const entries = md.signature === 'a{qv}' && typeof md.value === 'object' && md.value !== null ? Object.entries(md.value as Record<string, VariantLike>) : undefined;
    const good = entries?.filter(([id, v]) => /^\d+$/.test(id) && v?.signature === 'ay' && Buffer.isBuffer(v.value));
    if (!entries || !good || good.length !== entries.length) skipped.push('manufacturer_data');
    const first = good?.[0];
    if (first) company = `0x${Number(first[0]).toString(16).padStart(4, '0')}`;
  }
  const sd = props.ServiceData;
  if (sd !== undefined) {
    const values = sd.signature === 'a{sv}' && typeof sd.value === 'object' && sd.value !== null ? Object.values(sd.value as Record<string, VariantLike>) : undefined;
    if (!values || values.some((v) => v?.signature !== 'ay' || !Buffer.isBuffer(v.value))) skipped.push('service_data');
  }
  return {
    value: {
      address: address === undefined ? undefined : normalizeAddress(address),
      name,
      rssi,
      txPower,
      company,
      advert: rssi !== undefined || md !== undefined || sd !== undefined,
    },
    skipped,
  };
}
