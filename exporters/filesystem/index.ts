/**
 * Local filesystems: size, free and available bytes, inodes, read-only state, for
 * every local disk filesystem of the host (network mounts are the NAS exporter's).
 */
import { readFile, statfs } from 'node:fs/promises';
import { join } from 'node:path';
import picomatch from 'picomatch';
import { Type } from '@sinclair/typebox';
import { ExporterError, defineExporter, type Finding, type MetricSpec, type Sample } from '../../collector/contract.js';
import { of, percent, valueOf } from '../../collector/samples.js';
import { LOCAL_TYPES, parseMounts, readonlyInFstab, selectMounts } from './parse-mounts.js';

interface FilesystemConfig {
  mounts_file: string;
  rootfs: string;
  types: string[];
  exclude_mount_points: string[];
  fstab_file: string;
  readonly_mount_points: string[];
}

const labels = ['mountpoint', 'device', 'fstype'] as const;
const M = {
  size: 'homestation_filesystem_size_bytes',
  free: 'homestation_filesystem_free_bytes',
  avail: 'homestation_filesystem_avail_bytes',
  files: 'homestation_filesystem_files',
  filesFree: 'homestation_filesystem_files_free',
  ro: 'homestation_filesystem_readonly',
  roIntended: 'homestation_filesystem_readonly_intended',
} as const;

const metrics: MetricSpec[] = [
  { name: M.size, type: 'gauge', unit: 'bytes', labels, help: 'Size of the filesystem.' },
  { name: M.free, type: 'gauge', unit: 'bytes', labels, help: 'Free space, including the blocks reserved for root.' },
  { name: M.avail, type: 'gauge', unit: 'bytes', labels, help: 'Space available to unprivileged users (what fills up first).' },
  { name: M.files, type: 'gauge', labels, help: 'Inodes of the filesystem (0 where it has no fixed inode count, as on btrfs).' },
  { name: M.filesFree, type: 'gauge', labels, help: 'Free inodes of the filesystem.' },
  { name: M.ro, type: 'gauge', labels, help: '1 if the filesystem is mounted read-only (often: remounted after disk errors).' },
  {
    name: M.roIntended,
    type: 'gauge',
    labels,
    help: '1 if the filesystem is meant to be read-only (option ro in fstab, or listed in readonly_mount_points); a read-only mount that is not is an alert.',
  },
];

export const filesystem = defineExporter<FilesystemConfig>({
  name: 'filesystem',
  description: 'Size, free space and inodes of the local disk filesystems.',
  schema: Type.Object({
    mounts_file: Type.Optional(Type.String({ default: '/proc/self/mounts', description: 'The mount table to read.' })),
    rootfs: Type.Optional(
      Type.String({ default: '/', description: "Where the host's root is mounted (in a container: /host, as node_exporter's --path.rootfs)." }),
    ),
    types: Type.Optional(
      Type.Array(Type.String(), { default: LOCAL_TYPES, description: 'Filesystem types watched (network and FUSE types are not safe here).' }),
    ),
    exclude_mount_points: Type.Optional(
      Type.Array(Type.String(), {
        default: ['/proc/**', '/sys/**', '/dev/**', '/run/**', '/snap/**', '/var/lib/docker/**', '/var/lib/containers/**', '**/.snapshots'],
        description: 'Mount points left out (globs).',
      }),
    ),
    fstab_file: Type.Optional(
      Type.String({ default: '/etc/fstab', description: 'Read for the mounts that are read-only on purpose (option ro); a missing file means none.' }),
    ),
    readonly_mount_points: Type.Optional(
      Type.Array(Type.String(), { default: [], description: 'Mount points (globs) that are read-only on purpose although fstab does not say so.' }),
    ),
  }),
  defaults: { interval: '1m', timeout: '10s' },
  metrics,
  review(samples) {
    const findings: Finding[] = [];
    let fullest = 0;
    const sizes = of(samples, M.size);
    for (const s of sizes) {
      const l = s.labels ?? {};
      const subject = `filesystem ${l.mountpoint}`;
      const avail = valueOf(samples, M.avail, l);
      if (avail !== undefined && s.value > 0) {
        const free = avail / s.value;
        fullest = Math.max(fullest, 1 - free);
        // 5%: the FilesystemAlmostFull rule; under 15% a person wants to know before it pages.
        if (free < 0.05) findings.push({ severity: 'critical', subject, problem: `is almost full: ${percent(free)} free` });
        else if (free < 0.15) findings.push({ severity: 'warning', subject, problem: `is filling up: ${percent(free)} free` });
      }
      if (valueOf(samples, M.ro, l) === 1 && valueOf(samples, M.roIntended, l) === 0) {
        findings.push({ severity: 'critical', subject, problem: 'is read-only (remounted, usually after disk errors)' });
      }
    }
    return { findings, fine: `${sizes.length} filesystem${sizes.length === 1 ? '' : 's'}${sizes.length ? `, fullest ${percent(fullest)} used` : ''}` };
  },
  create(ctx, config) {
    const excluded = picomatch(config.exclude_mount_points, { dot: true });
    const roByConfig = config.readonly_mount_points.length ? picomatch(config.readonly_mount_points, { dot: true }) : () => false;
    return {
      mode: 'pull',
      async collect(signal): Promise<Sample[]> {
        let text: string;
        try {
          text = await readFile(config.mounts_file, { encoding: 'utf8', signal });
        } catch (err) {
          throw new ExporterError('unreachable', `cannot read ${config.mounts_file}: ${(err as Error).message}`);
        }
        const parsed = parseMounts(text);
        // Read at each collection: fstab is small, and an edit takes effect without a restart.
        const roByFstab = await readFile(join(config.rootfs, config.fstab_file), { encoding: 'utf8', signal }).then(readonlyInFstab, () => new Set<string>());
        for (const w of parsed.warnings) ctx.log.warn({ file: config.mounts_file }, `mount table: ${w}`);
        const out: Sample[] = [];
        for (const m of selectMounts(parsed.mounts, { types: config.types, excludeMountPoint: excluded })) {
          let st;
          try {
            st = await statfs(join(config.rootfs, m.mountpoint), { bigint: true });
          } catch (err) {
            ctx.log.warn({ mountpoint: m.mountpoint, err: (err as Error).message }, 'statfs failed; mount skipped');
            continue;
          }
          if (signal.aborted) throw new ExporterError('timeout', 'statfs did not finish in time');
          const l = { mountpoint: m.mountpoint, device: m.device, fstype: m.fstype };
          const bsize = st.bsize;
          out.push(
            { metric: M.size, labels: l, value: Number(st.blocks * bsize) },
            { metric: M.free, labels: l, value: Number(st.bfree * bsize) },
            { metric: M.avail, labels: l, value: Number(st.bavail * bsize) },
            { metric: M.files, labels: l, value: Number(st.files) },
            { metric: M.filesFree, labels: l, value: Number(st.ffree) },
            { metric: M.ro, labels: l, value: m.readonly ? 1 : 0 },
            { metric: M.roIntended, labels: l, value: roByFstab.has(m.mountpoint) || roByConfig(m.mountpoint) ? 1 : 0 },
          );
        }
        return out;
      },
    };
  },
});
