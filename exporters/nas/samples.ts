/** Parsed NAS readings as samples of the nas catalogue. */
import type { Sample } from '../../collector/contract.js';
import { M } from './metrics.js';
import type { MdArray, SyncAction } from './parse/mdstat.js';
import { EXIT_BITS, type DiskReading } from './parse/smartctl.js';
import { POOL_STATES, type PoolCapacity, type PoolStatus } from './parse/zpool.js';

const ACTIONS: readonly SyncAction[] = ['resync', 'recovery', 'check', 'repair', 'reshape'];

export function mdSamples(arrays: readonly MdArray[]): Sample[] {
  const out: Sample[] = [];
  for (const a of arrays) {
    const array = a.name;
    out.push({ metric: M.mdInfo, labels: { array, level: a.level }, value: 1 });
    out.push({ metric: M.mdActive, labels: { array }, value: a.active ? 1 : 0 });
    out.push({ metric: M.mdReadonly, labels: { array }, value: a.readonly ? 1 : 0 });
    if (a.expected !== undefined && a.inUse !== undefined) {
      out.push({ metric: M.mdDisks, labels: { array, state: 'expected' }, value: a.expected });
      out.push({ metric: M.mdDisks, labels: { array, state: 'in_use' }, value: a.inUse });
      out.push({ metric: M.mdDegraded, labels: { array }, value: Math.max(0, a.expected - a.inUse) });
    }
    out.push({ metric: M.mdDisks, labels: { array, state: 'failed' }, value: a.members.filter((m) => m.failed).length });
    out.push({ metric: M.mdDisks, labels: { array, state: 'spare' }, value: a.members.filter((m) => m.spare && !m.failed).length });
    for (const action of ACTIONS) out.push({ metric: M.mdSync, labels: { array, action }, value: a.sync?.action === action ? 1 : 0 });
    if (a.sync?.progress !== undefined) out.push({ metric: M.mdSyncProgress, labels: { array }, value: a.sync.progress });
    if (a.sync?.finishSeconds !== undefined) out.push({ metric: M.mdSyncFinish, labels: { array }, value: a.sync.finishSeconds });
    if (a.sizeBytes !== undefined) out.push({ metric: M.mdSize, labels: { array }, value: a.sizeBytes });
  }
  return out;
}

/** One disk's last reading; `standby` is whether the last poll found it asleep. */
export function diskSamples(r: DiskReading, readAt: number, standby: boolean): Sample[] {
  const disk = r.disk;
  const out: Sample[] = [
    { metric: M.diskInfo, labels: { disk, model: r.model, serial: r.serial, firmware: r.firmware, protocol: r.protocol }, value: 1 },
    ...EXIT_BITS.map(([flag, bit]) => ({ metric: M.diskStatus, labels: { disk, flag }, value: (r.exitStatus >> bit) & 1 })),
    { metric: M.diskAtRisk, labels: { disk }, value: r.atRisk ? 1 : 0 },
    { metric: M.diskStandby, labels: { disk }, value: standby ? 1 : 0 },
    { metric: M.diskReadingTime, labels: { disk }, value: readAt / 1000 },
  ];
  const put = (metric: string, value: number | undefined) => {
    if (value !== undefined) out.push({ metric, labels: { disk }, value });
  };
  put(M.diskPassed, r.passed === undefined ? undefined : r.passed ? 1 : 0);
  put(M.diskTemperature, r.temperatureCelsius);
  put(M.diskPowerOn, r.powerOnHours === undefined ? undefined : r.powerOnHours * 3600);
  put(M.diskReallocated, r.reallocatedSectors);
  put(M.diskPending, r.pendingSectors);
  put(M.diskOfflineUncorrectable, r.offlineUncorrectable);
  put(M.diskReportedUncorrectable, r.reportedUncorrectable);
  put(M.diskCommandTimeouts, r.commandTimeouts);
  put(M.diskMediaErrors, r.mediaErrors);
  put(M.diskGrownDefects, r.grownDefects);
  put(M.diskCriticalWarning, r.nvmeCriticalWarning);
  put(M.diskUsed, r.percentageUsed);
  put(M.diskSpare, r.availableSpare);
  put(M.diskSpareThreshold, r.availableSpareThreshold);
  put(M.diskSelfTestPassed, r.selfTest === undefined ? undefined : r.selfTest.passed ? 1 : 0);
  put(M.diskSelfTestAge, r.selfTest?.hoursAgo === undefined ? undefined : r.selfTest.hoursAgo * 3600);
  return out;
}

export function zfsSamples(status: readonly PoolStatus[], list: readonly PoolCapacity[]): Sample[] {
  const out: Sample[] = [];
  for (const p of status) {
    const pool = p.name;
    for (const state of POOL_STATES) out.push({ metric: M.poolState, labels: { pool, state }, value: p.state === state ? 1 : 0 });
    for (const kind of ['scrub', 'resilver'] as const) out.push({ metric: M.poolScanActive, labels: { pool, kind }, value: p.scan?.kind === kind && p.scan.state === 'in_progress' ? 1 : 0 });
    if (p.scan?.state === 'in_progress' && p.scan.progress !== undefined) out.push({ metric: M.poolScanProgress, labels: { pool }, value: p.scan.progress });
    const scrubbed = p.scan?.kind === 'scrub' && p.scan.state === 'finished' && p.scan.endedAt !== undefined;
    out.push({ metric: M.poolScrubbed, labels: { pool }, value: scrubbed ? 1 : 0 });
    if (scrubbed) out.push({ metric: M.poolLastScrub, labels: { pool }, value: (p.scan!.endedAt as number) / 1000 });
    out.push({ metric: M.poolDataErrors, labels: { pool }, value: p.dataErrors });
    // The first row of the tree is the pool itself: its state is poolState's.
    for (const v of p.vdevs.slice(1)) {
      out.push({ metric: M.vdevOnline, labels: { pool, vdev: v.name }, value: v.state === 'ONLINE' ? 1 : 0 });
      for (const [kind, value] of [['read', v.read], ['write', v.write], ['checksum', v.checksum]] as const) out.push({ metric: M.vdevErrors, labels: { pool, vdev: v.name, kind }, value });
    }
  }
  for (const c of list) {
    const labels = { pool: c.name };
    if (c.sizeBytes !== undefined) out.push({ metric: M.poolSize, labels, value: c.sizeBytes });
    if (c.allocatedBytes !== undefined) out.push({ metric: M.poolAllocated, labels, value: c.allocatedBytes });
    if (c.freeBytes !== undefined) out.push({ metric: M.poolFree, labels, value: c.freeBytes });
    if (c.fragmentation !== undefined) out.push({ metric: M.poolFragmentation, labels, value: c.fragmentation });
    // A pool zpool list knows but zpool status did not print (it hung on it): its state from the list.
    if (!status.some((p) => p.name === c.name) && c.health) for (const state of POOL_STATES) out.push({ metric: M.poolState, labels: { pool: c.name, state }, value: c.health === state ? 1 : 0 });
  }
  return out;
}
