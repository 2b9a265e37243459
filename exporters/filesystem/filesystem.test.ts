/** The filesystem exporter on this machine's real root filesystem, checked against stat -f. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runnerFor } from '../../test/helpers/runner.js';
import { filesystem } from './index.js';

const dir = mkdtempSync(join(tmpdir(), 'hs-fs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('filesystem exporter', () => {
  it('reports size, free and available bytes of / as statfs(2) sees them', async () => {
    const table = join(dir, 'mounts');
    writeFileSync(table, `/dev/root / ext4 rw,relatime 0 0\n/dev/gone ${dir}/not-mounted-here ext4 ro 0 0\n`);
    const runner = runnerFor(filesystem, { name: 'local', mounts_file: table });
    await runner.collectOnce();
    const st = runner.status();
    expect(st.lastError).toBeUndefined();
    const get = (metric: string) => st.samples.find((s) => s.metric === metric && s.labels?.mountpoint === '/')?.value;
    // stat -f: block size, total blocks, free blocks, available blocks.
    const [bsize, blocks] = execFileSync('stat', ['-f', '-c', '%S %b', '/'], { encoding: 'utf8' }).trim().split(' ').map(Number) as [number, number];
    expect(get('homestation_filesystem_size_bytes')).toBe(bsize * blocks);
    expect(get('homestation_filesystem_avail_bytes')).toBeGreaterThan(0);
    expect(get('homestation_filesystem_free_bytes')).toBeGreaterThanOrEqual(get('homestation_filesystem_avail_bytes')!);
    expect(get('homestation_filesystem_readonly')).toBe(0);
    // A mount point that cannot be read is skipped, not fatal.
    expect(st.samples.some((s) => s.labels?.mountpoint?.includes('not-mounted-here'))).toBe(false);
  });

  it('tells a mount that is read-only on purpose (fstab ro, or configured) from one that was remounted', async () => {
    const table = join(dir, 'mounts-ro');
    writeFileSync(table, `/dev/root / ext4 ro,relatime 0 0\n`);
    const fstab = join(dir, 'fstab');
    const intended = async (extra: Record<string, unknown>) => {
      const runner = runnerFor(filesystem, { name: 'local', mounts_file: table, fstab_file: fstab, ...extra });
      await runner.collectOnce();
      const get = (metric: string) => runner.status().samples.find((s) => s.metric === metric && s.labels?.mountpoint === '/')?.value;
      expect(get('homestation_filesystem_readonly')).toBe(1);
      return get('homestation_filesystem_readonly_intended');
    };
    writeFileSync(fstab, 'UUID=1b2c / ext4 errors=remount-ro 0 1\n');
    expect(await intended({})).toBe(0);
    expect(await intended({ readonly_mount_points: ['/'] })).toBe(1);
    writeFileSync(fstab, 'UUID=1b2c / ext4 ro 0 1\n');
    expect(await intended({})).toBe(1);
    expect(await intended({ fstab_file: join(dir, 'no-fstab') })).toBe(0);
  });

  it('a missing mount table is reason unreachable', async () => {
    const runner = runnerFor(filesystem, { name: 'local', mounts_file: join(dir, 'nope') });
    await runner.collectOnce();
    expect(runner.status().lastError?.reason).toBe('unreachable');
  });
});
