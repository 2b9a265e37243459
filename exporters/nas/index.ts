/**
 * The NAS: are the shares and storage tiers mounted, answering, writable, and how
 * full are they, without HomeStation ever hanging on a dead server. (Disks, md
 * RAID arrays from /proc/mdstat; disks (smartctl) and ZFS are the next parts.)
 */
import { Type } from '@sinclair/typebox';
import { defineExporter, type Finding } from '../../collector/contract.js';
import { Duration } from '../../collector/config/schema-types.js';
import { of, percent, valueOf } from '../../collector/samples.js';
import { M, NAS_METRICS } from './metrics.js';
import type { MountConfig } from './mounts.js';

interface NasConfig {
  mounts: MountConfig[];
  mounts_file: string;
  md: { enabled: boolean; mdstat_file: string };
}

export const nas = defineExporter<NasConfig>({
  name: 'nas',
  description: 'NAS shares and storage tiers: mounted, answering (checked in killable children), writable, capacity.',
  schema: Type.Object({
    mounts: Type.Optional(Type.Array(
      Type.Object(
        {
          path: Type.String({ pattern: '^/', description: 'The mount point, as in /proc/self/mounts (e.g. /mnt/media).' }),
          tier: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_.-]{1,40}$', default: 'default', description: 'A name for the storage tier (nvme, media, photos, backups): a label.' })),
          write_test: Type.Optional(Type.Boolean({ default: false, description: 'Also create and remove a small file each collection, to catch shares that refuse writes.' })),
          timeout: Type.Optional(Duration({ default: '2s', description: 'How long statfs may take before the mount is reported unresponsive.' })),
        },
        { additionalProperties: false },
      ),
      { default: [], description: 'The mounts to watch.' },
    )),
    mounts_file: Type.Optional(Type.String({ default: '/proc/self/mounts', description: 'The mount table (in a container: /host/proc/1/mounts).' })),
    md: Type.Optional(
      Type.Object(
        {
          enabled: Type.Optional(Type.Boolean({ default: true, description: 'Read Linux md RAID arrays (nothing is reported where there are none).' })),
          mdstat_file: Type.Optional(Type.String({ default: '/proc/mdstat', description: 'In a container: /host/proc/mdstat.' })),
        },
        { additionalProperties: false, default: {} },
      ),
    ),
  }),
  defaults: { interval: '30s', timeout: '10s' },
  metrics: NAS_METRICS,
  validate(config) {
    if (!config.mounts.length && !config.md.enabled) return [{ path: ['mounts'], message: 'nothing to watch: list mounts, or leave md enabled' }];
    const seen = new Set<string>();
    return config.mounts.flatMap((m, i) => {
      if (seen.has(m.path)) return [{ path: ['mounts', i, 'path'], message: `${m.path} is listed twice` }];
      seen.add(m.path);
      return m.timeout >= config.timeout ? [{ path: ['mounts', i, 'timeout'], message: `must be shorter than the instance timeout (${config.timeout / 1000} s)` }] : [];
    });
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
    const watch = new MountWatch(ctx, config.mounts, config.mounts_file);
    return {
      mode: 'pull',
      collect: async (signal) => [...(config.mounts.length ? await watch.collect(signal) : []), ...(config.md.enabled ? await readMd(ctx, config.md.mdstat_file, signal) : [])],
      stop: async () => watch.stop(),
    };
  },
});
