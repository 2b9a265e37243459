/**
 * Pure: /proc/self/mounts (proc(5)) to the local filesystems worth watching.
 * Network and FUSE filesystems are left out: a dead server makes statfs hang in
 * the kernel, which no timeout can cancel (the NAS exporter checks them in a
 * killable child process instead).
 */

export interface Mount {
  readonly device: string;
  readonly mountpoint: string;
  readonly fstype: string;
  readonly readonly: boolean;
}

/** Filesystems on local disks (and tmpfs, which fills RAM) a homelab user watches. */
export const LOCAL_TYPES = ['ext2', 'ext3', 'ext4', 'xfs', 'btrfs', 'zfs', 'f2fs', 'vfat', 'exfat', 'ntfs3', 'bcachefs', 'jfs', 'reiserfs'];

/** Decodes the octal escapes the kernel writes for space, tab, newline and backslash. */
function unescape(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

export interface ParsedMounts {
  readonly mounts: Mount[];
  readonly warnings: string[];
}

export function parseMounts(text: string): ParsedMounts {
  const mounts: Mount[] = [];
  const warnings: string[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    const fields = line.split(' ');
    if (fields.length < 4) {
      warnings.push(`line ${i + 1} has ${fields.length} fields, expected 6; skipped`);
      return;
    }
    const [device, mountpoint, fstype, options] = fields as [string, string, string, string];
    mounts.push({
      device: unescape(device),
      mountpoint: unescape(mountpoint),
      fstype,
      readonly: options.split(',').includes('ro'),
    });
  });
  return { mounts, warnings };
}

export interface MountFilter {
  readonly types: readonly string[];
  /** Mount points left out even when their type is watched (picomatch globs). */
  readonly excludeMountPoint: (mountpoint: string) => boolean;
}

/** The mounts to watch: watched types, not excluded, one entry per mount point (the last mounted). */
export function selectMounts(mounts: readonly Mount[], filter: MountFilter): Mount[] {
  const byPoint = new Map<string, Mount>();
  for (const m of mounts) {
    if (!filter.types.includes(m.fstype) || filter.excludeMountPoint(m.mountpoint)) continue;
    byPoint.delete(m.mountpoint); // a later mount over the same point hides the earlier one
    byPoint.set(m.mountpoint, m);
  }
  return [...byPoint.values()];
}

/**
 * Pure: the mount points /etc/fstab (fstab(5)) mounts read-only on purpose (option
 * `ro`). A mount that is read-only now but not here was remounted: usually the
 * kernel's doing after disk errors.
 */
export function readonlyInFstab(text: string): Set<string> {
  const out = new Set<string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const fields = line.split(/\s+/);
    if (fields.length < 4) continue;
    if ((fields[3] as string).split(',').includes('ro')) out.add(unescape(fields[1] as string));
  }
  return out;
}
