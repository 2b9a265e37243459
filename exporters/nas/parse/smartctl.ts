/**
 * `smartctl --json` (smartmontools 7.x), parsed into what predicts a disk failure,
 * for ATA/SATA (attributes), NVMe (the health log) and SCSI/SAS (defect list, error
 * counters), and `smartctl --scan-open --json`. The exit status is a bit mask
 * (smartctl(8)): each bit is decoded. A RAID volume's placeholder temperature 0 is
 * absent, not 0 °C. A disk whose overall assessment "passes" but that has media
 * errors, pending or reallocated sectors is `atRisk`.
 */

/** smartctl(8) EXIT STATUS, bit by bit. */
export const EXIT_BITS = [
  ['command_line', 0],
  ['open_failed', 1],
  ['command_failed', 2],
  ['failing', 3],
  ['prefail_threshold', 4],
  ['past_threshold', 5],
  ['error_log', 6],
  ['selftest_errors', 7],
] as const;
export type ExitFlag = (typeof EXIT_BITS)[number][0];

export interface DiskReading {
  /** The label: the device, with its type where several disks share one device (megaraid,N). */
  readonly disk: string;
  readonly protocol: string;
  readonly model: string;
  readonly serial: string;
  readonly firmware: string;
  readonly exitStatus: number;
  /** Overall SMART assessment; absent where the device reports none (RAID volumes, some bridges). */
  readonly passed?: boolean;
  readonly temperatureCelsius?: number;
  readonly powerOnHours?: number;
  readonly reallocatedSectors?: number;
  readonly pendingSectors?: number;
  readonly offlineUncorrectable?: number;
  readonly reportedUncorrectable?: number;
  readonly commandTimeouts?: number;
  /** NVMe media and data integrity errors; SCSI total uncorrected errors. */
  readonly mediaErrors?: number;
  readonly nvmeCriticalWarning?: number;
  /** NVMe percentage used, available spare and its threshold, as ratios. */
  readonly percentageUsed?: number;
  readonly availableSpare?: number;
  readonly availableSpareThreshold?: number;
  readonly grownDefects?: number;
  /** The newest self-test: passed or not, and how many power-on hours ago it ran. */
  readonly selfTest?: { readonly passed: boolean; readonly hoursAgo?: number };
  /** Device in a low-power mode and left there (-n standby): no reading was taken. */
  readonly standby: boolean;
  readonly atRisk: boolean;
  /** smartctl's own messages of severity error. */
  readonly errors: string[];
}

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = any;

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && /^\d+(\.\d+)?$/.test(v) ? Number(v) : undefined);

export function diskLabel(name: string, type: string | undefined): string {
  return type && type.includes(',') ? `${name}:${type}` : name;
}

/** One device's `smartctl --json ...` output. Throws when it is not smartctl JSON at all. */
export function parseSmartctl(text: string): DiskReading {
  let d: Json;
  try {
    d = JSON.parse(text);
  } catch (err) {
    throw new Error(`not JSON: ${(err as Error).message}`);
  }
  if (!d || typeof d !== 'object' || !d.smartctl) throw new Error('not smartctl --json output (no "smartctl" object)');
  const exitStatus = num(d.smartctl.exit_status) ?? 0;
  const messages: { string: string; severity?: string }[] = Array.isArray(d.smartctl.messages) ? d.smartctl.messages : [];
  const standby = messages.some((m) => /in (STANDBY|SLEEP|IDLE\S*) mode/i.test(m.string ?? ''));
  const attr = (id: number): number | undefined => {
    const a = (d.ata_smart_attributes?.table ?? []).find((x: Json) => x.id === id);
    // The raw value's low 32 bits: some drives pack extra data above (temperature min/max, Seagate counters).
    const raw = num(a?.raw?.value);
    return raw === undefined ? undefined : raw % 2 ** 32;
  };
  const nvme = d.nvme_smart_health_information_log;
  const scsiErrors = d.scsi_error_counter_log;
  const scsiUncorrected = scsiErrors ? ['read', 'write', 'verify'].map((k) => num(scsiErrors[k]?.total_uncorrected_errors) ?? 0).reduce((a, b) => a + b, 0) : undefined;
  const powerOnHours = num(d.power_on_time?.hours) ?? num(nvme?.power_on_hours);
  const temp = num(d.temperature?.current) ?? num(nvme?.temperature);
  const table = d.ata_smart_self_test_log?.standard?.table ?? d.nvme_self_test_log?.table;
  const newest = Array.isArray(table) && table.length ? table[0] : undefined;
  const testHours = num(newest?.lifetime_hours) ?? num(newest?.power_on_hours);
  const selfTest =
    newest && typeof newest.status?.passed === 'boolean'
      ? { passed: newest.status.passed as boolean, ...(testHours !== undefined && powerOnHours !== undefined ? { hoursAgo: Math.max(0, powerOnHours - testHours) } : {}) }
      : undefined;
  const r: Omit<DiskReading, 'atRisk'> = {
    disk: diskLabel(d.device?.name ?? '', d.device?.type),
    protocol: d.device?.protocol ?? '',
    model: d.model_name ?? ([d.vendor, d.product].filter(Boolean).join(' ') || (d.model_family ?? '')),
    serial: d.serial_number ?? '',
    firmware: d.firmware_version ?? d.revision ?? '',
    exitStatus,
    ...(typeof d.smart_status?.passed === 'boolean' ? { passed: d.smart_status.passed as boolean } : {}),
    // 0 °C is what RAID volumes and some bridges report when they have no sensor.
    ...(temp !== undefined && temp !== 0 ? { temperatureCelsius: temp } : {}),
    ...(powerOnHours !== undefined ? { powerOnHours } : {}),
    ...opt('reallocatedSectors', attr(5)),
    ...opt('reportedUncorrectable', attr(187)),
    ...opt('commandTimeouts', attr(188)),
    ...opt('pendingSectors', attr(197)),
    ...opt('offlineUncorrectable', attr(198)),
    ...opt('mediaErrors', num(nvme?.media_errors) ?? scsiUncorrected),
    ...opt('nvmeCriticalWarning', num(nvme?.critical_warning)),
    ...opt('percentageUsed', num(nvme?.percentage_used) !== undefined ? (num(nvme?.percentage_used) as number) / 100 : undefined),
    ...opt('availableSpare', num(nvme?.available_spare) !== undefined ? (num(nvme?.available_spare) as number) / 100 : undefined),
    ...opt('availableSpareThreshold', num(nvme?.available_spare_threshold) !== undefined ? (num(nvme?.available_spare_threshold) as number) / 100 : undefined),
    ...opt('grownDefects', num(d.scsi_grown_defect_list)),
    ...(selfTest ? { selfTest } : {}),
    standby,
    errors: messages.filter((m) => m.severity === 'error').map((m) => m.string),
  };
  const atRisk =
    r.passed === false ||
    (exitStatus & (1 << 3)) !== 0 ||
    (r.reallocatedSectors ?? 0) > 0 ||
    (r.pendingSectors ?? 0) > 0 ||
    (r.offlineUncorrectable ?? 0) > 0 ||
    (r.mediaErrors ?? 0) > 0 ||
    (r.nvmeCriticalWarning ?? 0) !== 0 ||
    (r.availableSpare !== undefined && r.availableSpareThreshold !== undefined && r.availableSpare <= r.availableSpareThreshold) ||
    r.selfTest?.passed === false;
  return { ...r, atRisk };
}

function opt<K extends string>(key: K, value: number | undefined): Partial<Record<K, number>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, number>);
}

/** `smartctl --scan-open --json`: the devices and the -d type each needs. */
export function parseScan(text: string): { name: string; type: string }[] {
  const d = JSON.parse(text) as Json;
  return (Array.isArray(d?.devices) ? d.devices : []).filter((x: Json) => typeof x?.name === 'string').map((x: Json) => ({ name: x.name as string, type: (x.type as string) ?? 'auto' }));
}
