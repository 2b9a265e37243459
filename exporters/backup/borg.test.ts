/**
 * The borg source against real repositories made in temp dirs with the real borg
 * (Debian: borgbackup): time zones, sets by archive name, sizes, a wrong
 * passphrase, a missing and a locked repository.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryLogger, runnerFor } from '../../test/helpers/runner.js';
import { hasTool, requireTools } from '../../test/helpers/tools.js';
import { backup } from './index.js';
import { M } from './metrics.js';

let dir: string;
let plain: string;
let secret: string;
let passFile: string;
const baseEnv = { ...process.env, BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK: 'yes', BORG_BASE_DIR: '' };

function borg(args: string[], env: Record<string, string> = {}): string {
  return execFileSync('borg', args, { env: { ...baseEnv, BORG_BASE_DIR: join(dir, 'base'), ...env }, encoding: 'utf8' });
}

const value = (samples: readonly { metric: string; labels?: Record<string, string>; value: number }[], metric: string, set?: string) =>
  samples.find((s) => s.metric === metric && (set === undefined || s.labels?.set === set))?.value;

beforeAll(() => {
  if (!hasTool('borg')) return;
  dir = mkdtempSync(join(tmpdir(), 'hs-borg-'));
  mkdirSync(join(dir, 'data'));
  writeFileSync(join(dir, 'data', 'file'), 'x'.repeat(5000));
  plain = join(dir, 'plain');
  borg(['init', '-e', 'none', plain]);
  // --timestamp is UTC; borg list prints it in the zone of whoever runs it.
  borg(['create', '--timestamp', '2024-01-09T03:00:06', `${plain}::home-2024-01-09`, join(dir, 'data')]);
  borg(['create', '--timestamp', '2024-01-10T03:00:06', `${plain}::home-2024-01-10`, join(dir, 'data')]);
  borg(['create', '--timestamp', '2024-01-08T23:30:00', `${plain}::etc-2024-01-08`, join(dir, 'data')]);
  secret = join(dir, 'secret');
  passFile = join(dir, 'passphrase');
  writeFileSync(passFile, 'open sesame\n');
  borg(['init', '-e', 'repokey', secret], { BORG_PASSPHRASE: 'open sesame' });
  borg(['create', `${secret}::a`, join(dir, 'data')], { BORG_PASSPHRASE: 'open sesame' });
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('backup exporter: borg', () => {
  it('reads archive times right whatever zone HomeStation itself runs in', async (ctx) => {
    requireTools(ctx, 'borg');
    const saved = process.env.TZ;
    process.env.TZ = 'Asia/Tokyo'; // inherited by borg unless the exporter fixes it
    try {
      const runner = runnerFor(backup, {
        name: 'nas-borg',
        borg: { repository: plain, sets: [{ name: 'home', archive: 'home-*' }, { name: 'etc', archive: 'etc-*' }] },
      });
      await runner.collectOnce();
      const st = runner.status();
      expect(st.lastError).toBeUndefined();
      expect(value(st.samples, M.count, 'home')).toBe(2);
      expect(value(st.samples, M.last, 'home')).toBe(Date.UTC(2024, 0, 10, 3, 0, 6) / 1000);
      expect(value(st.samples, M.oldest, 'home')).toBe(Date.UTC(2024, 0, 9, 3, 0, 6) / 1000);
      expect(value(st.samples, M.last, 'etc')).toBe(Date.UTC(2024, 0, 8, 23, 30) / 1000);
      // borg info: the original size of the newest archive of the set.
      expect(value(st.samples, M.size, 'home')).toBe(5000);
      await runner.stop();
    } finally {
      if (saved === undefined) delete process.env.TZ;
      else process.env.TZ = saved;
    }
  });

  it('without sets, the whole repository is one set named after the instance', async (ctx) => {
    requireTools(ctx, 'borg');
    const runner = runnerFor(backup, { name: 'nas-borg', borg: { repository: plain, sizes: false } });
    await runner.collectOnce();
    const { samples } = runner.status();
    expect(value(samples, M.count, 'nas-borg')).toBe(3);
    expect(value(samples, M.size, 'nas-borg')).toBeUndefined();
  });

  it('opens an encrypted repository with passphrase_file; a wrong one is reason auth', async (ctx) => {
    requireTools(ctx, 'borg');
    const ok = runnerFor(backup, { name: 's', borg: { repository: secret, passphrase_file: passFile } });
    await ok.collectOnce();
    expect(ok.status().up).toBe(true);
    const { log, lines } = memoryLogger();
    const bad = runnerFor(backup, { name: 's', borg: { repository: secret, passphrase: 'wrong horse' } }, { log });
    await bad.collectOnce();
    expect(bad.status().lastError).toMatchObject({ reason: 'auth', hint: expect.stringContaining('passphrase') });
    expect(JSON.stringify(lines)).not.toContain('wrong horse');
  });

  it('a missing repository is reason unreachable', async (ctx) => {
    requireTools(ctx, 'borg');
    const runner = runnerFor(backup, { name: 'x', borg: { repository: join(dir, 'nope') } });
    await runner.collectOnce();
    expect(runner.status().lastError?.reason).toBe('unreachable');
  });

  it('lists a repository while borg create holds its lock; borg check reports the lock', async (ctx) => {
    requireTools(ctx, 'borg');
    const holder: ChildProcess = spawn('borg', ['create', `${plain}::streaming`, '-'], {
      env: { ...baseEnv, BORG_BASE_DIR: join(dir, 'base') },
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    try {
      await expect.poll(() => readdirSync(plain).some((f) => f.startsWith('lock')), { timeout: 15_000 }).toBe(true);
      const { log, lines } = memoryLogger();
      const runner = runnerFor(backup, { name: 'b', borg: { repository: plain, sizes: false, check: { enabled: true } } }, { log });
      await runner.collectOnce();
      expect(runner.status().lastError).toBeUndefined();
      expect(runner.status().up).toBe(true);
      await expect.poll(() => lines.find((l) => l.msg === 'integrity check failed'), { timeout: 20_000 }).toBeDefined();
      expect(String(lines.find((l) => l.msg === 'integrity check failed')?.err)).toMatch(/locked/);
      await runner.stop();
    } finally {
      holder.stdin?.end('data');
      await new Promise((r) => holder.once('exit', r));
    }
  });
});
