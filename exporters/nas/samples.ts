/** Parsed NAS readings as samples of the nas catalogue. */
import type { Sample } from '../../collector/contract.js';
import { M } from './metrics.js';
import type { MdArray, SyncAction } from './parse/mdstat.js';

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
