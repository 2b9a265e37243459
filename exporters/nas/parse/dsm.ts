/**
 * Synology DSM's storage report (`SYNO.Storage.CGI.Storage` `load_info`, the one the
 * DSM Storage Manager reads; its shape as DSM 6 and 7 return it): volumes, storage
 * pools and disks with their status. Numbers arrive as strings ("8001563222016").
 * DSM's placeholders are absent values: temperature 0 (a device without a sensor,
 * M.2 cache drives) and size 0.
 */
import type { Sample } from '../../../collector/contract.js';
import { M } from '../metrics.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
type Json = any;

const n = (v: unknown): number | undefined => {
  const x = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : undefined;
  return x !== undefined && Number.isFinite(x) ? x : undefined;
};
const positive = (v: unknown) => {
  const x = n(v);
  return x !== undefined && x > 0 ? x : undefined;
};
const str = (v: unknown) => (typeof v === 'string' ? v.trim() : '');

/** Samples of one load_info answer (`data`); throws when it is not one. */
export function dsmStorageSamples(data: Json): Sample[] {
  if (!data || typeof data !== 'object' || !Array.isArray(data.volumes) || !Array.isArray(data.disks)) {
    throw new Error('not a SYNO.Storage.CGI.Storage load_info answer (no volumes and disks)');
  }
  const out: Sample[] = [];
  for (const v of data.volumes as Json[]) {
    const volume = str(v.vol_path) || str(v.id);
    const status = str(v.status);
    out.push({ metric: M.dsmVolumeInfo, labels: { volume, status, fs_type: str(v.fs_type), pool: str(v.pool_path) }, value: 1 });
    out.push({ metric: M.dsmVolumeHealthy, labels: { volume }, value: status === 'normal' ? 1 : 0 });
    const total = positive(v.size?.total);
    const used = n(v.size?.used);
    if (total !== undefined) out.push({ metric: M.dsmVolumeSize, labels: { volume }, value: total });
    if (total !== undefined && used !== undefined) out.push({ metric: M.dsmVolumeUsed, labels: { volume }, value: used });
  }
  for (const p of (data.storagePools ?? []) as Json[]) {
    const pool = str(p.id);
    const status = str(p.status);
    out.push({ metric: M.dsmPoolInfo, labels: { pool, status, raid: str(p.desc) || str(p.device_type) }, value: 1 });
    out.push({ metric: M.dsmPoolHealthy, labels: { pool }, value: status === 'normal' ? 1 : 0 });
    const failed = n(p.disk_failure_number);
    if (failed !== undefined) out.push({ metric: M.dsmPoolFailedDisks, labels: { pool }, value: failed });
  }
  for (const d of data.disks as Json[]) {
    const disk = str(d.id);
    const status = str(d.status);
    const smart = str(d.smart_status);
    out.push({
      metric: M.dsmDiskInfo,
      labels: { disk, slot: str(d.longName) || str(d.name), model: str(d.model), serial: str(d.serial), firmware: str(d.firm), status, smart_status: smart },
      value: 1,
    });
    out.push({ metric: M.dsmDiskHealthy, labels: { disk }, value: status === 'normal' && (smart === '' || smart === 'normal') && d.exceed_bad_sector_thr !== true ? 1 : 0 });
    const temp = positive(d.temp);
    if (temp !== undefined) out.push({ metric: M.dsmDiskTemperature, labels: { disk }, value: temp });
    const unc = n(d.unc);
    if (unc !== undefined) out.push({ metric: M.dsmDiskUncorrectable, labels: { disk }, value: unc });
    out.push({ metric: M.dsmDiskBadSectorsExceeded, labels: { disk }, value: d.exceed_bad_sector_thr === true ? 1 : 0 });
    out.push({ metric: M.dsmDiskLifeLow, labels: { disk }, value: d.below_remain_life_thr === true ? 1 : 0 });
  }
  return out;
}
