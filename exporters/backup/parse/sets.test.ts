import { describe, expect, it } from 'vitest';
import { resticGroupName, resticMatcher, summarizeDeclared, summarizeGrouped, readableResticNames } from './sets.js';
import type { Snapshot } from './types.js';

const snap = (time: number, host: string, paths: string[], tags: string[] = []): Snapshot => ({ time, host, paths, tags });

describe('backup sets', () => {
  const items = [
    snap(100, 'nas', ['/home'], ['daily']),
    snap(300, 'nas', ['/home'], ['daily', 'manual']),
    snap(200, 'nas', ['/etc']),
    snap(250, 'pi', ['/home']),
  ];

  it('groups like restic --group-by host,paths, newest and oldest per group', () => {
    const sets = summarizeGrouped(items, (s) => resticGroupName(s, ['host', 'paths']), { expectedInterval: 86_400_000 });
    expect(sets.map((s) => [s.name, s.count, s.oldest?.time, s.newest?.time])).toEqual([
      ['nas:/etc', 1, 200, 200],
      ['nas:/home', 2, 100, 300],
      ['pi:/home', 1, 250, 250],
    ]);
  });

  it('reports a declared set that has no backups at all (never succeeded)', () => {
    const sets = summarizeDeclared(items, [
      { name: 'nas-home', expectedInterval: 1, minRetention: 2, matches: resticMatcher({ host: 'nas', paths: ['/home'] }) },
      { name: 'router', expectedInterval: 1, matches: resticMatcher({ host: 'router' }) },
    ]);
    expect(sets[0]).toMatchObject({ name: 'nas-home', count: 2, minRetention: 2 });
    expect(sets[1]).toEqual({ name: 'router', count: 0, expectedInterval: 1 });
  });

  it('matches restic sets by host, exact paths and all tags', () => {
    expect(items.filter(resticMatcher({ tags: ['daily'] })).length).toBe(2);
    expect(items.filter(resticMatcher({ tags: ['daily', 'manual'] })).length).toBe(1);
    expect(items.filter(resticMatcher({ paths: ['/home'] })).length).toBe(3);
    expect(items.filter(resticMatcher({ paths: ['/home', '/etc'] })).length).toBe(0);
  });
});

describe('newest and oldest never depend on the order of a list', () => {
  it('picks them by time from archive lists in either order', () => {
    const list = [
      { time: 300, name: 'c', sizeBytes: 3 },
      { time: 100, name: 'a', sizeBytes: 1 },
      { time: 200, name: 'b', sizeBytes: 2 },
    ];
    for (const items of [list, [...list].reverse(), [...list].sort((x, y) => x.time - y.time)]) {
      const [s] = summarizeDeclared(items, [{ name: 'x', expectedInterval: 1, matches: () => true }]);
      expect([s!.newest?.name, s!.newest?.sizeBytes, s!.oldest?.name]).toEqual(['c', 3, 'a']);
    }
  });
});

describe('readable restic set names', () => {
  it('host/last path parts, #tags; colliding ones keep their full names', () => {
    const groups = ['vm:/tmp/src', 'nas:/srv/data,/etc', 'nas:/a/www', 'nas:/b/www', 'pi:/'].map((name) => ({ name, count: 1, expectedInterval: 1 }));
    const snap = (name: string) => {
      const [host, paths] = name.split(':') as [string, string];
      return { time: 0, host, paths: paths.split(',') };
    };
    expect([...readableResticNames(groups, snap).values()]).toEqual(['vm/src', 'nas/data+etc', 'nas:/a/www', 'nas:/b/www', 'pi/root']);
  });
});
