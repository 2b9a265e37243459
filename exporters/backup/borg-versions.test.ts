/**
 * borg 2 (through the fake test/fakes/borg2.sh, from recorded-format outputs),
 * borgmatic (the real borgmatic 1.7 over real borg 1.2 repositories, two in one
 * config, one of them empty), and credentials scrubbed from what tools print (the
 * real restic against a REST URL with a password in it).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../test/helpers/podman.js';
import { memoryLogger, runnerFor } from '../../test/helpers/runner.js';
import { requireTools } from '../../test/helpers/tools.js';
import { scrubCredentials } from '../../collector/scrub.js';
import { backup } from './index.js';
import { M } from './metrics.js';
import { parseBorgmatic } from './parse/borg.js';

const BORG2 = fileURLToPath(new URL('../../test/fakes/borg2.sh', import.meta.url));
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hs-borgv-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const value = (samples: readonly { metric: string; labels?: Record<string, string>; value: number }[], metric: string, set: string) =>
  samples.find((s) => s.metric === metric && s.labels?.set === set)?.value;

describe('borg 2', () => {
  it('is detected by --version and read with repo-list, BORG_REPO and --match-archives; times with their offset; newest by time', async () => {
    const runner = runnerFor(backup, {
      name: 'nas2',
      borg: { repository: '/srv/borg2', command: BORG2, sets: [{ name: 'home', archive: 'nas-home-*' }, { name: 'etc', archive: 'nas-etc-*' }] },
    });
    await runner.collectOnce();
    const st = runner.status();
    expect(st.lastError).toBeUndefined();
    expect(value(st.samples, M.count, 'home')).toBe(2);
    expect(value(st.samples, M.last, 'home')).toBe(Date.UTC(2026, 10, 25, 2, 0, 5) / 1000);
    expect(value(st.samples, M.oldest, 'home')).toBe(Date.UTC(2026, 10, 24, 2, 0, 6) / 1000);
    expect(value(st.samples, M.size, 'home')).toBe(52_428_800_000);
    expect(value(st.samples, M.last, 'etc')).toBe(Date.UTC(2026, 10, 20, 3, 30, 0) / 1000);
  });
});

describe('borgmatic', () => {
  it('parses a recorded two-repository output into two sets, never merged', () => {
    const text = JSON.stringify([
      { repository: { location: 'ssh://u@nas/./home' }, archives: [{ name: 'a', start: '2024-01-01T00:00:00.000000' }, { name: 'b', start: '2024-01-09T00:00:00.000000' }] },
      { repository: { location: '/mnt/usb/borg', label: 'usb' }, archives: [] },
      { repository: { location: '/mnt/other/home' }, archives: [{ name: 'c', start: '2023-12-01T00:00:00.000000' }] },
    ]);
    const { items } = parseBorgmatic(text, 'UTC');
    expect(items.map((r) => [r.name, r.archives.length])).toEqual([
      ['home', 2],
      ['usb', 0],
      ['home-2', 1],
    ]);
  });

  it('reads every repository of a real borgmatic config as its own set: newest by time, its size, an empty one at 0', async (ctx) => {
    requireTools(ctx, 'borg', 'borgmatic');
    const env = { ...process.env, BORG_BASE_DIR: join(dir, 'base'), BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK: 'yes', TZ: 'UTC' };
    const borg = (args: string[]) => execFileSync('borg', args, { env, encoding: 'utf8' });
    mkdirSync(join(dir, 'data'));
    writeFileSync(join(dir, 'data', 'f'), 'y'.repeat(10_000));
    const fresh = join(dir, 'fresh');
    const stopped = join(dir, 'stopped');
    const empty = join(dir, 'empty');
    for (const r of [fresh, stopped, empty]) borg(['init', '-e', 'none', r]);
    // Made out of order on purpose: the list order is not the time order.
    borg(['create', '--timestamp', '2026-11-25T02:00:00', `${fresh}::b-newest`, join(dir, 'data')]);
    borg(['create', '--timestamp', '2026-11-20T02:00:00', `${fresh}::a-oldest`, join(dir, 'data')]);
    borg(['create', '--timestamp', '2026-11-17T02:00:00', `${stopped}::only`, join(dir, 'data')]);
    const config = join(dir, 'borgmatic.yaml');
    writeFileSync(
      config,
      `location:\n  source_directories: [${join(dir, 'data')}]\n  repositories: [${fresh}, ${stopped}, ${empty}]\nstorage:\n  borg_base_directory: ${join(dir, 'base')}\nretention:\n  keep_daily: 7\n`,
    );
    const runner = runnerFor(backup, { name: 'borgmatic', borgmatic: { config }, expected_interval: '1d' });
    await runner.collectOnce();
    const st = runner.status();
    expect(st.lastError).toBeUndefined();
    expect(value(st.samples, M.count, 'fresh')).toBe(2);
    expect(value(st.samples, M.last, 'fresh')).toBe(Date.UTC(2026, 10, 25, 2, 0, 0) / 1000);
    expect(value(st.samples, M.oldest, 'fresh')).toBe(Date.UTC(2026, 10, 20, 2, 0, 0) / 1000);
    expect(value(st.samples, M.size, 'fresh')).toBe(10_000);
    // The repository that stopped 8 days earlier is not hidden behind the fresh one.
    expect(value(st.samples, M.last, 'stopped')).toBe(Date.UTC(2026, 10, 17, 2, 0, 0) / 1000);
    // An empty repository is a set with 0 backups (BackupNeverSucceeded), not a warning.
    expect(value(st.samples, M.count, 'empty')).toBe(0);
  }, 60_000);
});

describe('credentials in what tools print', () => {
  it('scrubs URL passwords and key=value secrets', () => {
    expect(scrubCredentials('Fatal: unable to open config file: Get "https://hs:s3cr3t@nas:8000/repo/config": dial tcp')).toBe(
      'Fatal: unable to open config file: Get "https://hs:<secret>@nas:8000/repo/config": dial tcp',
    );
    expect(scrubCredentials('rest:http://user:p%40ss@host/x and password=hunter2, token: abc')).toBe('rest:http://user:<secret>@host/x and password=<secret>, token: <secret>');
  });

  it('scrubs a password a tool printed (restic before 0.10, or a wrapper) from the log, the status and the API', async () => {
    const leaky = fileURLToPath(new URL('../../test/fakes/leaky-restic.sh', import.meta.url));
    const pw = join(dir, 'leaky-pw');
    writeFileSync(pw, 'repo-password\n');
    const { log, lines } = memoryLogger();
    const runner = runnerFor(backup, { name: 'rest', restic: { repository: 'rest:http://hsuser:Sup3rS3cret@127.0.0.1:1/repo', password_file: pw, command: leaky } }, { log });
    await runner.collectOnce();
    const st = runner.status();
    expect(st.lastError?.message).toContain('hsuser:<secret>@127.0.0.1');
    expect(JSON.stringify(st) + JSON.stringify(lines)).not.toContain('Sup3rS3cret');
  });

  it('never lets the real restic print a REST password to the log, the status or the API', async (ctx) => {
    requireTools(ctx, 'restic');
    const pw = join(dir, 'restic-pw');
    writeFileSync(pw, 'repo-password\n');
    const port = await freePort(); // nothing listens: restic fails and says where it tried
    const { log, lines } = memoryLogger();
    const runner = runnerFor(backup, { name: 'rest', restic: { repository: `rest:http://hsuser:Sup3rS3cret@127.0.0.1:${port}/repo`, password_file: pw }, timeout: '20s' }, { log });
    await runner.collectOnce();
    const st = runner.status();
    expect(st.up).toBe(false);
    const everything = JSON.stringify(st) + JSON.stringify(lines);
    expect(everything).toContain('127.0.0.1');
    expect(everything).not.toContain('Sup3rS3cret');
  }, 60_000);
});
