import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { EXPORTERS } from '../registry.js';
import { ConfigError, formatProblem, loadConfigFile, loadDefaultConfig, parseConfig } from './load.js';

const fixtures = new URL('./fixtures/', import.meta.url);
const badDir = new URL('bad/', fixtures);

function problemsOf(file: string): string[] {
  try {
    loadConfigFile(file, EXPORTERS, { env: {} });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map(formatProblem);
    throw err;
  }
  return [];
}

describe('config loading', () => {
  it.each(readdirSync(badDir).filter((f) => f.endsWith('.yaml')))('refuses %s with file, line and key path', (name) => {
    const file = fileURLToPath(new URL(name, badDir));
    const expected = /^# expect: (.*)$/m.exec(readFileSync(file, 'utf8'))?.[1];
    expect(expected, 'the fixture states its expected problem').toBeDefined();
    expect(problemsOf(file)).toEqual([`${file}:${expected}`]);
  });

  it('reports every problem of a file, not just the first', () => {
    const text = 'server:\n  port: x\n  hots: a\nlog:\n  level: loud\n';
    try {
      parseConfig(text, 'c.yaml', EXPORTERS, { env: {} });
      expect.unreachable('the config is invalid');
    } catch (err) {
      expect((err as ConfigError).problems.map(formatProblem)).toEqual([
        'c.yaml:3:3: server.hots: unknown key "hots" (did you mean "host"?)',
        'c.yaml:2:9: server.port: must be an integer (got "x")',
        'c.yaml:5:10: log.level: must be one of "fatal", "error", "warn", "info", "debug", "trace" (got "loud")',
      ]);
    }
  });

  it('loads a full config: defaults, ${ENV}, $$, durations in ms, secrets redacted', () => {
    const file = fileURLToPath(new URL('good/full.yaml', fixtures));
    const config = loadConfigFile(file, EXPORTERS, { env: { HS_TEST_PASSWORD: 'hunter2' } });
    expect(config.server).toEqual({ host: '127.0.0.1', port: 0 });
    expect(config.shutdownTimeout).toBe(5000);
    expect(config.instances.map((i) => `${i.kind.name}/${i.config.name}`)).toEqual([
      'backup/nas-restic',
      'backup/borg-home',
      'backup/dumps',
    ]);
    const restic = config.instances[0]!.config as unknown as {
      interval: number;
      timeout: number;
      min_retention: number;
      restic: { repository: string; password: string; command: string; sets: { expected_interval: number }[]; check: { interval: number; timeout: number } };
    };
    expect(restic).toMatchObject({ interval: 600_000, timeout: 60_000, min_retention: 30 * 86_400_000 });
    expect(restic.restic).toMatchObject({ repository: '/srv/restic', password: 'hunter2', command: 'restic' });
    expect(restic.restic.sets[0]!.expected_interval).toBe(12 * 3_600_000);
    expect(restic.restic.check).toMatchObject({ interval: 7 * 86_400_000, timeout: 6 * 3_600_000 });
    const borg = config.instances[1]!.config as unknown as { interval: number; borg: { passphrase: string } };
    expect(borg.interval).toBe(5 * 60_000); // the kind's default
    expect(borg.borg.passphrase).toBe('${literal}');

    const printed = JSON.stringify(config.redacted);
    expect(printed).not.toContain('hunter2');
    expect(printed).not.toContain('AKIAEXAMPLE');
    expect(printed).toContain('"password":"<secret>"');
  });

  it('loads the embedded default config', () => {
    const config = loadDefaultConfig(EXPORTERS, { env: {} });
    expect(config.server.port).toBe(9870);
    expect(config.instances.length).toBeGreaterThan(0);
  });
});
