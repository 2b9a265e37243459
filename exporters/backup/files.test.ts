/** The files source on real files: newest by mtime, sizes, and the completeness checks. */
import { mkdtempSync, mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { memoryLogger, runnerFor } from '../../test/helpers/runner.js';
import { backup } from './index.js';
import { M } from './metrics.js';

let dir: string;
const DUMP = '--\n-- PostgreSQL database dump\n--\nCREATE TABLE t (id int);\n--\n-- PostgreSQL database dump complete\n--\n\n\\unrestrict abc\n\n';

function put(rel: string, content: string | Buffer, mtimeSeconds: number): string {
  const p = join(dir, rel);
  mkdirSync(join(p, '..'), { recursive: true });
  writeFileSync(p, content);
  utimesSync(p, mtimeSeconds, mtimeSeconds);
  return p;
}

const value = (samples: readonly { metric: string; labels?: Record<string, string>; value: number }[], metric: string, set: string) =>
  samples.find((s) => s.metric === metric && s.labels?.set === set)?.value;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hs-files-'));
  const gz = gzipSync(Buffer.from(DUMP));
  put('pg/app-1.sql.gz', gz, 1_700_000_000);
  put('pg/app-2.sql.gz', gz, 1_700_086_400);
  put('pg-cut/app.sql.gz', gzipSync(Buffer.from(DUMP.slice(0, 40))), 1_700_000_000);
  put('gz-broken/x.tar.gz', gz.subarray(0, gz.length - 10), 1_700_000_000);
  put('plain/ok.sql', DUMP, 1_700_000_000);
  put('plain-cut/cut.sql', DUMP.slice(0, 50), 1_700_000_000);
  put('custom/ok.dump', Buffer.concat([Buffer.from('PGDMP'), Buffer.alloc(100, 1)]), 1_700_000_000);
  put('custom-bad/bad.dump', 'this is not an archive', 1_700_000_000);
  put('empty/vault.snap', '', 1_700_000_000);
  put('vault/v.snap', gz, 1_700_000_000);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('backup exporter: files', () => {
  it('reports the newest file, its size, the count and the oldest', async () => {
    const runner = runnerFor(backup, {
      name: 'dumps',
      files: { sets: [{ name: 'pg', glob: `${dir}/pg/*.sql.gz`, verify: 'pg_dump', min_retention: '7d' }] },
    });
    await runner.collectOnce();
    const { samples } = runner.status();
    expect(value(samples, M.count, 'pg')).toBe(2);
    expect(value(samples, M.last, 'pg')).toBe(1_700_086_400);
    expect(value(samples, M.oldest, 'pg')).toBe(1_700_000_000);
    expect(value(samples, M.size, 'pg')).toBe(gzipSync(Buffer.from(DUMP)).length);
    expect(value(samples, M.complete, 'pg')).toBe(1);
    expect(value(samples, M.retention, 'pg')).toBe(7 * 86_400);
  });

  it.each([
    ['pg-cut/*.gz', 'pg_dump', 0, /no "dump complete" trailer/],
    ['gz-broken/*', 'auto', 0, /gzip integrity check failed/],
    ['plain/*.sql', 'pg_dump', 1, undefined],
    ['plain-cut/*.sql', 'pg_dump', 0, /cut off/],
    ['custom/*.dump', 'pg_custom', 1, undefined],
    ['custom-bad/*.dump', 'pg_custom', 0, /PGDMP/],
    ['empty/*.snap', 'auto', 0, /empty/],
    ['vault/*.snap', 'auto', 1, undefined],
  ] as const)('%s with verify=%s is complete=%s', async (glob, verify, complete, problem) => {
    const { log, lines } = memoryLogger();
    const runner = runnerFor(backup, { name: 'd', files: { sets: [{ name: 's', glob: `${dir}/${glob}`, verify }] } }, { log });
    await runner.collectOnce();
    expect(runner.status().up).toBe(true);
    expect(value(runner.status().samples, M.complete, 's')).toBe(complete);
    const warning = lines.find((l) => String(l.msg).startsWith('newest backup file is not complete'));
    if (problem) expect(String(warning?.msg)).toMatch(problem);
    else expect(warning).toBeUndefined();
  });

  it('a glob that matches nothing is a set that never succeeded, not an error', async () => {
    const runner = runnerFor(backup, { name: 'd', files: { sets: [{ name: 'none', glob: `${dir}/missing/*.gz` }] } });
    await runner.collectOnce();
    const st = runner.status();
    expect(st.up).toBe(true);
    expect(value(st.samples, M.count, 'none')).toBe(0);
    expect(value(st.samples, M.last, 'none')).toBeUndefined();
    expect(value(st.samples, M.complete, 'none')).toBeUndefined();
  });

  it('an optional set says nothing while empty and is watched once files appear; 0s means no freshness expectation', async () => {
    const runner = runnerFor(backup, {
      name: 'maybe',
      files: {
        sets: [
          { name: 'later', glob: `${dir}/later/*.sql`, optional: true },
          { name: 'required', glob: `${dir}/nothing-here/*.sql` },
          { name: 'dpkg', glob: `${dir}/plain/*.sql`, expected_interval: '0s' },
        ],
      },
    });
    await runner.collectOnce();
    let samples = runner.status().samples;
    expect(samples.filter((s) => s.labels?.set === 'later')).toEqual([]);
    expect(value(samples, M.count, 'required')).toBe(0);
    expect(value(samples, M.interval, 'required')).toBe(86_400);
    expect(value(samples, M.count, 'dpkg')).toBe(1);
    expect(value(samples, M.interval, 'dpkg')).toBeUndefined();
    put('later/first.sql', DUMP, 1_700_000_000);
    await runner.collectOnce();
    samples = runner.status().samples;
    expect(value(samples, M.count, 'later')).toBe(1);
    expect(value(samples, M.last, 'later')).toBe(1_700_000_000);
  });
});
