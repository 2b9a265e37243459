/**
 * The NAS: are the shares and storage tiers mounted, answering, writable, and how
 * full are they, without HomeStation ever hanging on a dead server. (Disks, md
 * RAID and ZFS are the next parts of this exporter.)
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
}

export const nas = defineExporter<NasConfig>({
  name: 'nas',
  description: 'NAS shares and storage tiers: mounted, answering (checked in killable children), writable, capacity.',
  schema: Type.Object({
    mounts: Type.Array(
      Type.Object(
        {
          path: Type.String({ pattern: '^/', description: 'The mount point, as in /proc/self/mounts (e.g. /mnt/media).' }),
          tier: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_.-]{1,40}$', default: 'default', description: 'A name for the storage tier (nvme, media, photos, backups): a label.' })),
          write_test: Type.Optional(Type.Boolean({ default: false, description: 'Also create and remove a small file each collection, to catch shares that refuse writes.' })),
          timeout: Type.Optional(Duration({ default: '2s', description: 'How long statfs may take before the mount is reported unresponsive.' })),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, description: 'The mounts to watch.' },
    ),
    mounts_file: Type.Optional(Type.String({ default: '/proc/self/mounts', description: 'The mount table (in a container: /host/proc/1/mounts).' })),
  }),
  defaults: { interval: '30s', timeout: '10s' },
  metrics: NAS_METRICS,
  validate(config) {
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
    return { findings, fine: `${present.length} mount${present.length === 1 ? '' : 's'}` };
  },
  async create(ctx, config) {
    const { MountWatch } = await import('./mounts.js');
    const watch = new MountWatch(ctx, config.mounts, config.mounts_file);
    return {
      mode: 'pull',
      collect: (signal) => watch.collect(signal),
      stop: async () => watch.stop(),
    };
  },
});
