/** The nas exporter's catalogue. */
import type { MetricSpec } from '../../collector/contract.js';

export const M = {
  info: 'homestation_nas_mount_info',
  present: 'homestation_nas_mount_present',
  responsive: 'homestation_nas_mount_responsive',
  writable: 'homestation_nas_mount_writable',
  probeSeconds: 'homestation_nas_mount_probe_seconds',
  size: 'homestation_nas_mount_size_bytes',
  free: 'homestation_nas_mount_free_bytes',
  avail: 'homestation_nas_mount_avail_bytes',
  files: 'homestation_nas_mount_files',
  filesFree: 'homestation_nas_mount_files_free',
  stuckProbes: 'homestation_nas_stuck_probes',
  mdInfo: 'homestation_nas_md_info',
  mdActive: 'homestation_nas_md_active',
  mdReadonly: 'homestation_nas_md_readonly',
  mdDisks: 'homestation_nas_md_disks',
  mdDegraded: 'homestation_nas_md_degraded_disks',
  mdSync: 'homestation_nas_md_sync_active',
  mdSyncProgress: 'homestation_nas_md_sync_progress_ratio',
  mdSyncFinish: 'homestation_nas_md_sync_finish_seconds',
  mdSize: 'homestation_nas_md_size_bytes',
} as const;

const mount = ['mountpoint', 'tier'] as const;
export const NAS_METRICS: MetricSpec[] = [
  { name: M.info, type: 'gauge', labels: ['mountpoint', 'tier', 'fstype', 'device'], help: 'Always 1 for a configured mount that is mounted: its filesystem type and device (server:/export for NFS).' },
  { name: M.present, type: 'gauge', labels: mount, help: '1 if the configured mount point is mounted, 0 if it is not (the share is missing).' },
  {
    name: M.responsive,
    type: 'gauge',
    labels: mount,
    help: '1 if statfs on the mount answered within its timeout, 0 if not (a dead NFS/SMB server or network): checked in a child process, never by HomeStation itself.',
  },
  { name: M.writable, type: 'gauge', labels: mount, help: '1 if the mount is writable (not read-only; with write_test, a file could be created and removed).' },
  { name: M.probeSeconds, type: 'gauge', unit: 'seconds', labels: mount, help: 'How long the last statfs of the mount took (absent while one is still stuck).' },
  { name: M.size, type: 'gauge', unit: 'bytes', labels: mount, help: 'Size of the mounted filesystem (the last answer, kept while it does not answer).' },
  { name: M.free, type: 'gauge', unit: 'bytes', labels: mount, help: 'Free space of the mounted filesystem, including blocks reserved for root.' },
  { name: M.avail, type: 'gauge', unit: 'bytes', labels: mount, help: 'Space available to unprivileged users on the mounted filesystem (what fills up first).' },
  { name: M.files, type: 'gauge', labels: mount, help: 'Inodes of the mounted filesystem (0 where it has no fixed count).' },
  { name: M.filesFree, type: 'gauge', labels: mount, help: 'Free inodes of the mounted filesystem.' },
  {
    name: M.stuckProbes,
    type: 'gauge',
    labels: [],
    help: 'Probe processes still waiting on a hung mount past their deadline: at most one per mount and kind, never more.',
  },
  { name: M.mdInfo, type: 'gauge', labels: ['array', 'level'], help: 'Always 1 for each md RAID array in /proc/mdstat, with its RAID level.' },
  { name: M.mdActive, type: 'gauge', labels: ['array'], help: '1 if the md array is active, 0 if inactive (assembled from too few members, or stopped).' },
  { name: M.mdReadonly, type: 'gauge', labels: ['array'], help: '1 if the md array is read-only or auto-read-only.' },
  {
    name: M.mdDisks,
    type: 'gauge',
    labels: ['array', 'state'],
    help: 'Members of the md array by state: expected and in_use (from [n/m], redundant levels only), failed (F) and spare (S).',
  },
  { name: M.mdDegraded, type: 'gauge', labels: ['array'], help: 'Members an md array with redundancy is missing (expected minus in use): above 0 it is degraded.' },
  {
    name: M.mdSync,
    type: 'gauge',
    labels: ['array', 'action'],
    help: '1 while the md array runs (or waits for) this sync action (resync, recovery, check, repair, reshape), 0 otherwise; every action is present.',
  },
  { name: M.mdSyncProgress, type: 'gauge', unit: 'ratio', labels: ['array'], help: 'Progress of the running md sync action, 0..1.' },
  { name: M.mdSyncFinish, type: 'gauge', unit: 'seconds', labels: ['array'], help: 'Time the running md sync action expects to need still.' },
  { name: M.mdSize, type: 'gauge', unit: 'bytes', labels: ['array'], help: 'Size of the md array.' },
];
