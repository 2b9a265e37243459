/**
 * The NAS: are the shares and storage tiers mounted, answering, writable, and how
 * full are they, without HomeStation ever hanging on a dead server. (Disks, md
 * RAID arrays from /proc/mdstat, disks through smartctl, ZFS pools through zpool,
 * and a Synology through its DSM Web API.)
 */
import { Type } from '@sinclair/typebox';
import { defineExporter, type ConfigProblem, type Finding } from '../../collector/contract.js';
import { Duration, SecretFile, StringEnum } from '../../collector/config/schema-types.js';
import { of, percent, valueOf } from '../../collector/samples.js';
import { M, NAS_METRICS } from './metrics.js';
import type { DisksConfig } from './disks.js';
import type { DsmConfig } from './dsm.js';
import type { MountConfig } from './mounts.js';
import type { ZfsConfig } from './zfs.js';

interface NasConfig {
  mounts: MountConfig[];
  mounts_file: string;
  md: { enabled: boolean; mdstat_file: string; sysfs_root: string };
  disks: DisksConfig;
  zfs: ZfsConfig;
  dsm?: DsmConfig;
}

export const nas = defineExporter<NasConfig>({
  name: 'nas',
  description: 'NAS shares and storage tiers: mounted, answering (checked in killable children), writable, capacity.',
  schema: Type.Object({
    mounts: Type.Optional(Type.Array(
      Type.Object(
        {
          path: Type.String({ pattern: '^/(.*[^/])?$', description: 'The mount point, as in /proc/self/mounts (e.g. /mnt/media; no trailing slash).' }),
          tier: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_.-]{1,40}$', default: 'default', description: 'A name for the storage tier (nvme, media, photos, backups): a label.' })),
          write_test: Type.Optional(Type.Boolean({ default: false, description: 'Also create and remove a small file each collection, to catch shares that refuse writes.' })),
          timeout: Type.Optional(Duration({ default: '2s', description: 'How long statfs may take before the mount is reported unresponsive.' })),
        },
        { additionalProperties: false },
      ),
      { default: [], description: 'The mounts to watch.' },
    )),
    mounts_file: Type.Optional(Type.String({ default: '/proc/self/mounts', description: 'The mount table (in a container: /host/proc/1/mounts).' })),
    disks: Type.Optional(
      Type.Object(
        {
          enabled: Type.Optional(Type.Boolean({ default: true, description: 'Read the disks with smartctl (smartmontools 7+, as root).' })),
          command: Type.Optional(Type.String({ default: 'smartctl', description: 'smartctl, or its full path.' })),
          devices: Type.Optional(
            Type.Array(
              Type.Object(
                {
                  name: Type.String({ description: 'The device: /dev/sda, /dev/nvme0, /dev/bus/0.' }),
                  type: Type.Optional(Type.String({ description: 'smartctl -d TYPE: sat, nvme, megaraid,N, usbjmicron...' })),
                },
                { additionalProperties: false },
              ),
              { default: [], description: 'Devices to read; empty: what smartctl --scan-open finds.' },
            ),
          ),
          interval: Type.Optional(Duration({ default: '30m', description: 'How often the disks are read (a sleeping disk is not woken: -n standby).' })),
          timeout: Type.Optional(Duration({ default: '30s', description: 'How long one smartctl may take.' })),
        },
        { additionalProperties: false, default: {} },
      ),
    ),
    dsm: Type.Optional(
      Type.Object(
        {
          url: Type.String({ pattern: '^https?://', description: 'DSM, e.g. https://nas.lan:5001.' }),
          username: Type.String({ minLength: 1, description: 'A dedicated DSM account (administrators group, no two-step verification).' }),
          password_file: SecretFile('A file holding its password.'),
          timeout: Type.Optional(Duration({ default: '5s', description: 'How long one DSM request may take.' })),
        },
        { additionalProperties: false, description: 'A Synology NAS through its DSM Web API: volumes, storage pools, disks.' },
      ),
    ),
    zfs: Type.Optional(
      Type.Object(
        {
          enabled: Type.Optional(
            StringEnum(['auto', 'true', 'false'] as const, { default: 'auto', description: 'auto: read ZFS pools where zpool is installed, say nothing where it is not.' }),
          ),
          command: Type.Optional(Type.String({ default: 'zpool', description: 'zpool, or its full path.' })),
          timeout: Type.Optional(Duration({ default: '5s', description: 'How long zpool status and zpool list may take (a suspended pool can hang them).' })),
        },
        { additionalProperties: false, default: {} },
      ),
    ),
    md: Type.Optional(
      Type.Object(
        {
          enabled: Type.Optional(Type.Boolean({ default: true, description: 'Read Linux md RAID arrays (nothing is reported where there are none).' })),
          mdstat_file: Type.Optional(Type.String({ default: '/proc/mdstat', description: 'In a container: /host/proc/mdstat.' })),
          sysfs_root: Type.Optional(Type.String({ default: '/sys', description: 'Where sysfs is (in a container: /host/sys), for each array\'s mismatch count.' })),
        },
        { additionalProperties: false, default: {} },
      ),
    ),
  }),
  defaults: { interval: '30s', timeout: '10s' },
  metrics: NAS_METRICS,
  validate(config) {
    if (!config.mounts.length && !config.md.enabled && !config.disks.enabled && config.zfs.enabled === 'false' && !config.dsm) {
      return [{ path: ['mounts'], message: 'nothing to watch: list mounts, or leave md, disks or zfs enabled' }];
    }
    const seen = new Set<string>();
    const slow: ConfigProblem[] = [];
    if (config.zfs.enabled !== 'false' && config.zfs.timeout + 500 >= config.timeout) slow.push({ path: ['zfs', 'timeout'], message: `must be shorter than the instance timeout (${config.timeout / 1000} s)` });
    if (config.dsm && config.dsm.timeout >= config.timeout) slow.push({ path: ['dsm', 'timeout'], message: `must be shorter than the instance timeout (${config.timeout / 1000} s)` });
    return [...slow, ...config.mounts.flatMap((m, i) => {
      if (seen.has(m.path)) return [{ path: ['mounts', i, 'path'], message: `${m.path} is listed twice` }];
      seen.add(m.path);
      return m.timeout >= config.timeout ? [{ path: ['mounts', i, 'timeout'], message: `must be shorter than the instance timeout (${config.timeout / 1000} s)` }] : [];
    })];
  },
  review(samples) {
    const findings: Finding[] = [];
    const present = of(samples, M.present);
    for (const p of present) {
      const l = p.labels ?? {};
      const subject = `mount ${l.mountpoint}`;
      if (p.value === 0) {
        findings.push({ severity: 'critical', subject, problem: 'is not mounted' });
        continue;
      }
      if (valueOf(samples, M.responsive, l) === 0) findings.push({ severity: 'critical', subject, problem: 'does not answer (dead server or network)' });
      else if (valueOf(samples, M.writable, l) === 0) findings.push({ severity: 'warning', subject, problem: 'is not writable' });
      const size = valueOf(samples, M.size, l);
      const avail = valueOf(samples, M.avail, l);
      if (size && avail !== undefined && avail / size < 0.05) findings.push({ severity: 'critical', subject, problem: `is almost full: ${percent(avail / size)} free` });
    }
    for (const d of of(samples, M.diskAtRisk)) {
      const disk = d.labels?.disk ?? '';
      const info = of(samples, M.diskInfo).find((x) => x.labels?.disk === disk)?.labels;
      const subject = `disk ${disk}${info?.model ? ` (${info.model})` : ''}`;
      if (valueOf(samples, M.diskPassed, { disk }) === 0) findings.push({ severity: 'critical', subject, problem: 'fails its SMART self-assessment: replace it' });
      else if (d.value === 1) findings.push({ severity: 'warning', subject, problem: 'passes SMART but is at risk (bad sectors, media errors or a failed self-test)' });
    }
    for (const st of of(samples, M.poolState).filter((x) => x.value === 1 && x.labels?.state !== 'ONLINE')) {
      findings.push({ severity: 'critical', subject: `ZFS pool ${st.labels?.pool}`, problem: `is ${st.labels?.state}` });
    }
    for (const e of of(samples, M.poolDataErrors).filter((x) => x.value > 0)) {
      findings.push({ severity: 'critical', subject: `ZFS pool ${e.labels?.pool}`, problem: `has ${e.value} permanent data error${e.value === 1 ? '' : 's'}` });
    }
    for (const v of of(samples, M.dsmVolumeHealthy).filter((x) => x.value === 0)) {
      const status = of(samples, M.dsmVolumeInfo).find((x) => x.labels?.volume === v.labels?.volume)?.labels?.status;
      findings.push({ severity: 'critical', subject: `DSM volume ${v.labels?.volume}`, problem: `is ${status || 'not normal'}` });
    }
    for (const p of of(samples, M.dsmPoolHealthy).filter((x) => x.value === 0)) {
      const status = of(samples, M.dsmPoolInfo).find((x) => x.labels?.pool === p.labels?.pool)?.labels?.status;
      findings.push({ severity: 'critical', subject: `DSM storage pool ${p.labels?.pool}`, problem: `is ${status || 'not normal'}` });
    }
    for (const d of of(samples, M.dsmDiskHealthy).filter((x) => x.value === 0)) {
      const info = of(samples, M.dsmDiskInfo).find((x) => x.labels?.disk === d.labels?.disk)?.labels;
      findings.push({ severity: 'critical', subject: `DSM disk ${info?.slot || d.labels?.disk}`, problem: `is ${info?.status || 'not normal'} (SMART: ${info?.smart_status || '?'})` });
    }
    if (valueOf(samples, M.dsmUp, {}) === 0) findings.push({ severity: 'warning', subject: 'DSM', problem: 'the Web API cannot be read (see the status of this instance)' });
    if (valueOf(samples, M.smartctlUp, {}) === 0) findings.push({ severity: 'warning', subject: 'smartctl', problem: 'could not read the disks (see the log)' });
    const arrays = of(samples, M.mdInfo);
    for (const a of arrays) {
      const array = a.labels?.array ?? '';
      const subject = `md array ${array}`;
      const missing = valueOf(samples, M.mdDegraded, { array }) ?? 0;
      const failed = valueOf(samples, M.mdDisks, { array, state: 'failed' }) ?? 0;
      if (valueOf(samples, M.mdActive, { array }) === 0) findings.push({ severity: 'critical', subject, problem: 'is inactive' });
      else if (missing > 0) findings.push({ severity: 'critical', subject, problem: `is degraded: ${missing} member${missing === 1 ? '' : 's'} missing${failed ? `, ${failed} failed` : ''}` });
      else if (failed > 0) findings.push({ severity: 'warning', subject, problem: `has ${failed} failed member${failed === 1 ? '' : 's'} (still redundant)` });
      const rebuilding = of(samples, M.mdSync).find((x) => x.labels?.array === array && x.value === 1 && (x.labels?.action === 'recovery' || x.labels?.action === 'reshape'));
      if (rebuilding) {
        const p = valueOf(samples, M.mdSyncProgress, { array });
        findings.push({ severity: 'warning', subject, problem: `${rebuilding.labels?.action === 'reshape' ? 'is reshaping' : 'is rebuilding'}${p !== undefined ? ` (${percent(p)})` : ''}` });
      }
    }
    return { findings, fine: [present.length ? `${present.length} mount${present.length === 1 ? '' : 's'}` : '', arrays.length ? `${arrays.length} md array${arrays.length === 1 ? '' : 's'}` : ''].filter(Boolean).join(', ') || 'nothing configured' };
  },
  async create(ctx, config) {
    const { MountWatch } = await import('./mounts.js');
    const { readMd } = await import('./md.js');
    const { DiskPoller } = await import('./disks.js');
    const { ZfsReader } = await import('./zfs.js');
    const zfs = config.zfs.enabled === 'false' ? undefined : new ZfsReader(ctx, config.zfs);
    const dsm = config.dsm ? new (await import('./dsm.js')).DsmSource(ctx, config.dsm) : undefined;
    const watch = new MountWatch(ctx, config.mounts, config.mounts_file);
    const disks = config.disks.enabled ? new DiskPoller(ctx, config.disks) : undefined;
    disks?.start();
    return {
      mode: 'pull',
      // The parts side by side: each is bounded by its own deadline, and a slow one does not add to the others'.
      collect: async (signal) =>
        (
          await Promise.all([
            config.mounts.length ? watch.collect(signal) : [],
            config.md.enabled ? readMd(ctx, config.md.mdstat_file, signal, config.md.sysfs_root) : [],
            disks?.samples() ?? [],
            zfs?.samples() ?? [],
            dsm?.samples() ?? [],
          ])
        ).flat(),
      stop: async () => {
        watch.stop();
        disks?.stop();
      },
    };
  },
});
