/**
 * The restic source against real repositories made in temp dirs with the real
 * restic (Debian: restic), including a wrong password, a missing and a locked
 * repository, a missing binary, garbage output and a hung tool.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasTool, requireTools } from '../../test/helpers/tools.js';
import { memoryLogger, runnerFor } from '../../test/helpers/runner.js';
import { backup } from './index.js';
import { M } from './metrics.js';

const fakes = fileURLToPath(new URL('../../test/fakes/', import.meta.url));
let dir: string;
let repo: string;
let pwFile: string;

function restic(args: string[], env: Record<string, string> = {}): string {
  return execFileSync('restic', ['-r', repo, ...args], {
    env: { ...process.env, RESTIC_PASSWORD_FILE: pwFile, ...env },
    encoding: 'utf8',
  });
}

const value = (samples: readonly { metric: string; labels?: Record<string, string>; value: number }[], metric: string, set?: string) =>
  samples.find((s) => s.metric === metric && (set === undefined || s.labels?.set === set))?.value;

beforeAll(() => {
  if (!hasTool('restic')) return;
  dir = mkdtempSync(join(tmpdir(), 'hs-restic-'));
  repo = join(dir, 'repo');
  pwFile = join(dir, 'password');
  writeFileSync(pwFile, 'correct horse battery staple\n');
  for (const d of ['home', 'etc']) {
    mkdirSync(join(dir, d));
    writeFileSync(join(dir, d, 'file'), `data of ${d}\n`.repeat(100));
  }
  restic(['init', '-q']);
  // Backups "taken" at a known wall time in Berlin: restic writes it with +01:00.
  restic(['backup', '-q', '--host', 'nas', '--tag', 'daily', '--time', '2024-01-09 04:00:06', join(dir, 'home')], { TZ: 'Europe/Berlin' });
  restic(['backup', '-q', '--host', 'nas', '--tag', 'daily', '--time', '2024-01-10 04:00:06', join(dir, 'home')], { TZ: 'Europe/Berlin' });
  restic(['backup', '-q', '--host', 'pi', join(dir, 'etc')]);
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('backup exporter: restic', () => {
  it('reports newest, oldest and count per host+paths set from a real repository, named readably (host/last path part)', async (ctx) => {
    requireTools(ctx, 'restic');
    const runner = runnerFor(backup, { name: 'nas', restic: { repository: repo, password_file: pwFile } });
    await runner.collectOnce();
    const st = runner.status();
    expect(st.lastError).toBeUndefined();
    expect(st.up).toBe(true);
    const home = 'nas/home';
    expect(value(st.samples, M.count, home)).toBe(2);
    // 04:00:06 in Berlin in January is 03:00:06 UTC.
    expect(value(st.samples, M.last, home)).toBe(Date.UTC(2024, 0, 10, 3, 0, 6) / 1000);
    expect(value(st.samples, M.oldest, home)).toBe(Date.UTC(2024, 0, 9, 3, 0, 6) / 1000);
    expect(value(st.samples, M.interval, home)).toBe(86_400);
    expect(value(st.samples, M.count, 'pi/etc')).toBe(1);
    expect(st.samples.some((s) => s.labels?.set?.includes(dir))).toBe(false);
    await runner.stop();
  });

  it('reports declared sets, including one that never succeeded', async (ctx) => {
    requireTools(ctx, 'restic');
    const runner = runnerFor(backup, {
      name: 'nas',
      restic: {
        repository: repo,
        password_file: pwFile,
        sets: [
          { name: 'home', host: 'nas', tags: ['daily'], expected_interval: '12h', min_retention: '30d' },
          { name: 'router', host: 'router' },
        ],
      },
    });
    await runner.collectOnce();
    const { samples } = runner.status();
    expect(value(samples, M.count, 'home')).toBe(2);
    expect(value(samples, M.interval, 'home')).toBe(43_200);
    expect(value(samples, M.retention, 'home')).toBe(30 * 86_400);
    expect(value(samples, M.count, 'router')).toBe(0);
    expect(value(samples, M.last, 'router')).toBeUndefined();
    await runner.stop();
  });

  it('a wrong password is reason auth, with a hint, and no values are served', async (ctx) => {
    requireTools(ctx, 'restic');
    const wrong = join(dir, 'wrong-password');
    writeFileSync(wrong, 'not the password\n');
    const { log, lines } = memoryLogger();
    const runner = runnerFor(backup, { name: 'nas', restic: { repository: repo, password_file: wrong } }, { log });
    await runner.collectOnce();
    const st = runner.status();
    expect(st.up).toBe(false);
    expect(st.samples).toEqual([]);
    expect(st.lastError).toMatchObject({ reason: 'auth', hint: expect.stringContaining('password_file') });
    expect(st.errors.auth).toBe(1);
    const logged = lines.find((l) => l.msg === 'collection failed');
    expect(logged).toMatchObject({ reason: 'auth', exporter: 'backup', instance: 'nas' });
    expect(JSON.stringify(lines)).not.toContain('not the password');
    await runner.stop();
  });

  it('after a failure the last good values are not reported as fresh', async (ctx) => {
    requireTools(ctx, 'restic');
    const pw = join(dir, 'rotating-password');
    writeFileSync(pw, readFileSync(pwFile));
    const runner = runnerFor(backup, { name: 'nas', restic: { repository: repo, password_file: pw } });
    await runner.collectOnce();
    const good = runner.status();
    expect(good.up).toBe(true);
    writeFileSync(pw, 'rotated away\n');
    await runner.collectOnce();
    const bad = runner.status();
    expect(bad.up).toBe(false);
    expect(bad.samples).toEqual([]);
    expect(bad.lastSuccess).toBe(good.lastSuccess);
    await runner.stop();
  });

  it('a missing repository is reason unreachable', async (ctx) => {
    requireTools(ctx, 'restic');
    const runner = runnerFor(backup, { name: 'nas', restic: { repository: join(dir, 'nope'), password_file: pwFile } });
    await runner.collectOnce();
    expect(runner.status().lastError).toMatchObject({ reason: 'unreachable', message: expect.stringContaining('no restic repository') });
  });

  it('a missing restic binary is reason command_missing with the install command', async () => {
    const runner = runnerFor(backup, {
      name: 'nas',
      restic: { repository: '/srv/x', password: 'x', command: '/nonexistent/bin/restic' },
    });
    await runner.collectOnce();
    expect(runner.status().lastError).toMatchObject({
      reason: 'command_missing',
      hint: expect.stringContaining('apt-get install restic'),
    });
  });

  it('garbage output is reason parse, quoting what was printed', async () => {
    const runner = runnerFor(backup, {
      name: 'nas',
      restic: { repository: '/srv/x', password: 'x', command: join(fakes, 'garbage-command.sh') },
    });
    await runner.collectOnce();
    expect(runner.status().lastError).toMatchObject({ reason: 'parse', message: expect.stringContaining('Welcome to backup-wrapper') });
  });

  it('a hung tool is killed at the timeout and counted as reason timeout', async () => {
    const pidFile = join(tmpdir(), `hs-hang-${process.pid}.pid`);
    const runner = runnerFor(backup, {
      name: 'nas',
      timeout: '500ms',
      restic: { repository: '/srv/x', password: 'x', command: join(fakes, 'hanging-command.sh'), env: { HS_FAKE_PIDFILE: pidFile } },
    });
    const t0 = Date.now();
    await runner.collectOnce();
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(runner.status().lastError?.reason).toBe('timeout');
    const pid = Number(readFileSync(pidFile, 'utf8'));
    // The process group got SIGINT, then SIGKILL after the grace period at worst.
    await expect.poll(() => isAlive(pid), { timeout: 8_000, interval: 100 }).toBe(false);
    rmSync(pidFile, { force: true });
  });

  it('reads snapshots while a backup holds a lock; the integrity check reports the lock', async (ctx) => {
    requireTools(ctx, 'restic');
    // A backup reading from a pipe that stays open holds its lock until we close it.
    const holder: ChildProcess = spawn('restic', ['-r', repo, 'backup', '--stdin', '--stdin-filename', 'db.sql', '-q'], {
      env: { ...process.env, RESTIC_PASSWORD_FILE: pwFile },
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    try {
      await expect.poll(() => existsSync(join(repo, 'locks')) && readdirSync(join(repo, 'locks')).length > 0, { timeout: 15_000 }).toBe(true);
      const { log, lines } = memoryLogger();
      const runner = runnerFor(backup, { name: 'nas', restic: { repository: repo, password_file: pwFile, check: { enabled: true } } }, { log });
      await runner.collectOnce();
      expect(runner.status().up).toBe(true); // --no-lock: the running backup does not matter
      await expect.poll(() => lines.some((l) => l.msg === 'integrity check failed'), { timeout: 20_000 }).toBe(true);
      await runner.collectOnce();
      const { samples } = runner.status();
      expect(value(samples, M.checkOk)).toBe(0);
      expect(String(lines.find((l) => l.msg === 'integrity check failed')?.err)).toMatch(/locked/);
      await runner.stop();
    } finally {
      holder.stdin?.end('INSERT 1;\n');
      await new Promise((r) => holder.once('exit', r));
    }
  });

  it('runs the integrity check in the background and reports its result', async (ctx) => {
    requireTools(ctx, 'restic');
    const { log, lines } = memoryLogger();
    const runner = runnerFor(backup, { name: 'nas', restic: { repository: repo, password_file: pwFile, check: { enabled: true } } }, { log });
    await runner.collectOnce();
    await expect.poll(() => lines.some((l) => l.msg === 'integrity check passed'), { timeout: 30_000 }).toBe(true);
    await runner.collectOnce();
    const { samples } = runner.status();
    expect(value(samples, M.checkOk)).toBe(1);
    expect(value(samples, M.checkTime)).toBeGreaterThan(Date.now() / 1000 - 60);
    await runner.stop();
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
