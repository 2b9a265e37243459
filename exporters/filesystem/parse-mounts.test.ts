import { readFileSync } from 'node:fs';
import picomatch from 'picomatch';
import { describe, expect, it } from 'vitest';
import { LOCAL_TYPES, parseMounts, selectMounts, readonlyInFstab } from './parse-mounts.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const defaultExcludes = picomatch(['/proc/**', '/sys/**', '/dev/**', '/run/**', '/snap/**', '/var/lib/docker/**', '**/.snapshots'], { dot: true });

describe('mount table', () => {
  it('selects the local disk filesystems of a homelab NAS, decoding \\040', () => {
    const { mounts, warnings } = parseMounts(fixture('homelab-nas.mounts'));
    expect(warnings).toEqual([]);
    const selected = selectMounts(mounts, { types: LOCAL_TYPES, excludeMountPoint: defaultExcludes });
    expect(selected.map((m) => [m.mountpoint, m.fstype, m.readonly])).toEqual([
      ['/', 'ext4', false],
      ['/boot/efi', 'vfat', false],
      ['/srv/media', 'btrfs', false],
      ['/tank', 'zfs', false],
      ['/tank/backups', 'zfs', false],
      ['/mnt/Old Photos', 'xfs', true],
    ]);
  });

  it('leaves out network and FUSE mounts, whose statfs can hang for ever', () => {
    const { mounts } = parseMounts(fixture('homelab-nas.mounts'));
    const selected = selectMounts(mounts, { types: LOCAL_TYPES, excludeMountPoint: () => false });
    for (const t of ['nfs4', 'cifs', 'fuse.sshfs', 'overlay', 'squashfs', 'tmpfs']) {
      expect(selected.some((m) => m.fstype === t)).toBe(false);
    }
  });

  it('reads the recorded Debian 12 sandbox table: only the ext4 root', () => {
    const { mounts, warnings } = parseMounts(fixture('debian12-sandbox.mounts'));
    expect(warnings).toEqual([]);
    expect(selectMounts(mounts, { types: LOCAL_TYPES, excludeMountPoint: defaultExcludes })).toEqual([
      { device: '/dev/vda', mountpoint: '/', fstype: 'ext4', readonly: false },
    ]);
  });

  it('keeps one entry per mount point, the last mounted, and reports short lines', () => {
    const { mounts, warnings } = parseMounts('/dev/a /data ext4 rw 0 0\ngarbage\n/dev/b /data xfs ro 0 0\n');
    expect(warnings).toEqual(['line 2 has 1 fields, expected 6; skipped']);
    expect(selectMounts(mounts, { types: LOCAL_TYPES, excludeMountPoint: () => false })).toEqual([
      { device: '/dev/b', mountpoint: '/data', fstype: 'xfs', readonly: true },
    ]);
  });
});

describe('readonlyInFstab', () => {
  it('lists the mount points fstab mounts with option ro, and nothing else', () => {
    const fstab = [
      '# /etc/fstab: static file system information.',
      'UUID=1b2c / ext4 errors=remount-ro 0 1',
      'UUID=3d4e /boot/efi vfat umask=0077 0 1',
      '/dev/md0\t/mnt/archive  xfs  ro,noatime 0 2',
      'LABEL=media /srv/my\\040media ext4 defaults,ro 0 2',
      'broken-line',
      '',
    ].join('\n');
    expect([...readonlyInFstab(fstab)].sort()).toEqual(['/mnt/archive', '/srv/my media']);
  });
});
