/**
 * The nas exporter's mounts on real mounts: a tmpfs of known size (capacity), a path
 * that is not mounted, a read-only one, and through `homestation run` a real hung
 * mount (the FAKE dead server of test/fakes/hangfs.py: a FUSE filesystem whose statfs
 * does not answer): scrapes keep answering within 1 s, the mount reads unresponsive,
 * the probe processes do not pile up over 100 scrapes, and it answers again after
 * the server comes back.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../test/helpers/podman.js';
import { startDaemon } from '../../test/helpers/cli.js';
import { runnerFor } from '../../test/helpers/runner.js';
import { missingToolsMessage } from '../../test/helpers/tools.js';
import { nas } from './index.js';
import { M } from './metrics.js';
import { parseStatfs } from './probe.js';

const HANGFS = fileURLToPath(new URL('../../test/fakes/hangfs.py', import.meta.url));
let dir: string;
const mounted: string[] = [];
const sh = (cmd: string) => spawnSync('sh', ['-c', cmd], { encoding: 'utf8' });

/** Mounting needs root (CAP_SYS_ADMIN): in CI that is a failure that says so, elsewhere a skip. */
const canMount = process.getuid?.() === 0;
const notRoot = canMount ? undefined : 'the nas mount tests mount a tmpfs and a FUSE filesystem: run them as root';

beforeAll(() => {
  if (!canMount && process.env.CI === 'true') throw new Error(notRoot);
  dir = mkdtempSync(join(tmpdir(), 'hs-nas-'));
});
afterAll(() => {
  for (const m of mounted.reverse()) sh(`umount -l ${m}`);
  rmSync(dir, { recursive: true, force: true });
});

function tmpfs(name: string, options: string): string {
  const p = join(dir, name);
  mkdirSync(p, { recursive: true });
  const r = sh(`mount -t tmpfs -o ${options} hs-test-${name} ${p}`);
  if (r.status !== 0) throw new Error(`mount tmpfs: ${r.stderr}`);
  mounted.push(p);
  return p;
}

describe('the mounts config', () => {
  it('refuses a mount point with a trailing slash (it would never match the mount table), naming the field', () => {
    expect(() => runnerFor(nas, { name: 'nas', mounts: [{ path: '/mnt/media/' }] })).toThrow(/mounts\.0\.path|mounts\[0\]\.path/);
    expect(() => runnerFor(nas, { name: 'nas', mounts: [{ path: '/mnt/media' }, { path: '/' }] })).not.toThrow();
    // Deadlines that could not fit in one collection.
    expect(() => runnerFor(nas, { name: 'nas', timeout: '5s', zfs: { timeout: '5s' } })).toThrow(/zfs\.timeout.*shorter than the instance timeout/);
  });
});

describe('stat -f output', () => {
  it('reads sizes from blocks times the fundamental block size', () => {
    expect(parseStatfs('262144 196608 196000 4096 1000 900 nfs\n')).toEqual({
      sizeBytes: 262144 * 4096,
      freeBytes: 196608 * 4096,
      availBytes: 196000 * 4096,
      files: 1000,
      filesFree: 900,
      type: 'nfs',
    });
    expect(parseStatfs('stat: cannot read file system information')).toBeUndefined();
  });
});

describe.runIf(canMount)('mounts, for real', () => {
  it('capacity of a tmpfs of known size; a path that is not mounted; a read-only mount that refuses writes', async () => {
    const data = tmpfs('data', 'size=64m');
    writeFileSync(join(data, 'blob'), Buffer.alloc(16 * 1024 * 1024, 1));
    const ro = tmpfs('ro', 'size=8m,ro');
    const missing = join(dir, 'not-mounted');
    mkdirSync(missing);
    const runner = runnerFor(nas, {
      name: 'nas',
      disks: { enabled: false },
      zfs: { enabled: 'false' },
      md: { enabled: false },
      mounts: [{ path: data, tier: 'fast', write_test: true }, { path: ro, tier: 'archive', write_test: true }, { path: missing, tier: 'media' }],
    });
    await runner.collectOnce();
    const v = (metric: string, mountpoint: string) => runner.status().samples.find((s) => s.metric === metric && s.labels?.mountpoint === mountpoint)?.value;
    expect(runner.status().up).toBe(true);
    expect(v(M.size, data)).toBe(64 * 1024 * 1024);
    expect(v(M.avail, data)).toBe(48 * 1024 * 1024);
    expect(v(M.responsive, data)).toBe(1);
    expect(v(M.writable, data)).toBe(1);
    expect(runner.status().samples.find((s) => s.metric === M.info && s.labels?.mountpoint === data)?.labels).toMatchObject({ fstype: 'tmpfs', device: 'hs-test-data', tier: 'fast' });
    expect(v(M.writable, ro)).toBe(0);
    expect(v(M.present, missing)).toBe(0);
    // Not mounted: no capacity (the parent filesystem's would be a lie).
    expect(v(M.size, missing)).toBeUndefined();
    expect(v(M.stuckProbes, '')).toBeUndefined();
    expect(runner.status().samples.find((s) => s.metric === M.stuckProbes)?.value).toBe(0);
    await runner.stop();
  });
});

const fuseMissing = missingToolsMessage(['fusermount3', 'python3-fusepy']);
describe.runIf(canMount)('a hung network mount, through homestation run', () => {
  let fs: ChildProcess | undefined;
  afterAll(() => {
    fs?.kill('SIGKILL');
  });

  it('keeps answering scrapes within 1 s, reports the mount unresponsive without piling up probes, and sees it answer again', async () => {
    if (fuseMissing) {
      if (process.env.CI === 'true') throw new Error(fuseMissing);
      return;
    }
    const mnt = join(dir, 'share');
    mkdirSync(mnt);
    const hang = join(dir, 'server-dead');
    writeFileSync(hang, '');
    fs = spawn('/usr/bin/python3', [HANGFS, mnt], { env: { ...process.env, HANGFS_SWITCH: hang }, stdio: 'ignore' });
    mounted.push(mnt);
    for (const t0 = Date.now(); sh(`grep -q " ${mnt} " /proc/self/mounts`).status !== 0; ) {
      if (Date.now() - t0 > 10_000) throw new Error('the FUSE mount did not appear');
      await new Promise((r) => setTimeout(r, 100));
    }
    const port = await freePort();
    const config = join(dir, 'homestation.yaml');
    writeFileSync(config, `server: { host: 127.0.0.1, port: ${port} }\nexporters:\n  nas:\n    - name: nas\n      interval: 200ms\n      timeout: 2s\n      disks: { enabled: false }\n      zfs: { enabled: 'false' }\n      md: { enabled: false }\n      mounts:\n        - { path: ${mnt}, tier: share, timeout: 500ms }\n`);
    const daemon = await startDaemon(['--config', config]);
    // [s]tat: not the sh -c running pgrep, whose own command line holds the pattern.
    const probes = () => Number(sh(`pgrep -fc "[s]tat -f --printf .* ${mnt}"`).stdout.trim() || "0");
    const metric = (text: string, name: string) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text)?.[1]);
    try {
      const times: number[] = [];
      let maxProbes = 0;
      let last = '';
      for (let i = 0; i < 100; i++) {
        const t0 = performance.now();
        last = await (await fetch(`${daemon.url}/metrics`, { signal: AbortSignal.timeout(1000) })).text();
        times.push(performance.now() - t0);
        maxProbes = Math.max(maxProbes, probes());
        await new Promise((r) => setTimeout(r, 50));
      }
      times.sort((a, b) => a - b);
      process.stdout.write(`hung mount, 100 scrapes: p50 ${times[50]!.toFixed(1)} ms, max ${times[99]!.toFixed(1)} ms; stat -f children at most ${maxProbes}\n`);
      expect(times[99]).toBeLessThan(1000);
      expect(maxProbes).toBeLessThanOrEqual(1);
      expect(metric(last, M.responsive)).toBe(0);
      expect(metric(last, M.present)).toBe(1);
      expect(metric(last, M.stuckProbes)).toBe(1);
      // The server comes back: the stuck probe returns, the next one answers.
      unlinkSync(hang);
      await expect.poll(async () => metric(await (await fetch(`${daemon.url}/metrics`)).text(), M.responsive), { timeout: 10_000, interval: 200 }).toBe(1);
      const after = await (await fetch(`${daemon.url}/metrics`)).text();
      expect(metric(after, M.size)).toBe(262144 * 4096);
      expect(metric(after, M.stuckProbes)).toBe(0);
      expect(existsSync(hang)).toBe(false);
    } finally {
      await daemon.stop();
    }
  }, 60_000);
});
