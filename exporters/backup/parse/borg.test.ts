import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseBorgArchives } from './borg.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/borg/${name}`, import.meta.url), 'utf8');

describe('borg --json parser', () => {
  it('reads borg 1.2 list output in the configured zone', () => {
    const { items, warnings } = parseBorgArchives(
      fixture('borg-1.2-maint__frontends-rst__03-example-of-a-simple-archive-listing-borg-list-last-1-json.json'),
      'Europe/Berlin',
    );
    expect(warnings).toEqual([]);
    expect(items).toEqual([{ name: 'host-system-backup-2017-02-27', time: Date.UTC(2017, 7, 7, 10, 27, 20) / 1000 + 0.789123 }]);
  });

  it('refuses borg 1.x naive times when no zone is configured', () => {
    expect(() =>
      parseBorgArchives(fixture('borg-1.2-maint__frontends-rst__03-example-of-a-simple-archive-listing-borg-list-last-1-json.json'), undefined),
    ).toThrow(/no UTC offset/);
  });

  it('reads archive sizes from borg info (1.2 and 2.0 beta)', () => {
    for (const name of [
      'borg-1.2-maint__frontends-rst__04-the-same-archive-with-more-information-borg-info-last-1-json.json',
      'borg-master-2.0beta__frontends-rst__04-the-same-archive-with-more-information-borg-info-last-1-json.json',
    ]) {
      const { items } = parseBorgArchives(fixture(name), 'UTC');
      expect(items).toEqual([
        { name: 'host-system-backup-2017-02-27', time: Date.UTC(2017, 1, 27, 12, 27, 20) / 1000 + 0.789123, sizeBytes: 2400471280 },
      ]);
    }
  });

  it('reads borgmatic output of several repositories and reports the one without archives', () => {
    const { items, warnings } = parseBorgArchives(fixture('borgmatic-exporter__tests-data__repo-info.json'), 'UTC');
    expect(items.map((i) => i.name)).toEqual(['k8s-db-2024-01-09T04:00:05', 'backup-2-2024-01-17T04:00:06']);
    expect(warnings).toEqual(['repository [2] has no "archives" list; skipped']);
  });

  it('reads an empty repository as no archives', () => {
    const { items } = parseBorgArchives(fixture('borg-1.2-maint__frontends-rst__02-example-borg-info-output.json'), 'UTC');
    expect(items).toEqual([]);
  });

  it('reads borg 2 times with offsets whatever zone is configured', () => {
    const text = JSON.stringify({ archives: [{ name: 'a', start: '2026-08-28T10:00:00.000000+02:00' }] });
    expect(parseBorgArchives(text, undefined).items[0]?.time).toBe(Date.UTC(2026, 7, 28, 8) / 1000);
    expect(parseBorgArchives(text, 'America/New_York').items[0]?.time).toBe(Date.UTC(2026, 7, 28, 8) / 1000);
  });

  it('keeps good archives and reports bad ones; refuses non-JSON', () => {
    const text = JSON.stringify({ archives: [{ name: 'ok', time: '2024-01-01T00:00:00' }, { name: 'no-time' }] });
    const { items, warnings } = parseBorgArchives(text, 'UTC');
    expect(items.map((i) => i.name)).toEqual(['ok']);
    expect(warnings).toEqual(['archive archives[1] has no name or start time; skipped']);
    expect(() => parseBorgArchives('Repository /x does not exist.', 'UTC')).toThrow(/not JSON/);
    expect(() => parseBorgArchives('{"repository":{}}', 'UTC')).toThrow(/no "archives" list/);
  });
});
