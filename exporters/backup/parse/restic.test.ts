import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseResticSnapshots } from './restic.js';

const fixture = (name: string) => readFileSync(new URL(`../fixtures/restic/${name}`, import.meta.url), 'utf8');

describe('restic snapshots --json parser', () => {
  it('reads the legacy 2017 form (no short_id, no summary) with its offsets', () => {
    const { items, warnings } = parseResticSnapshots(fixture('restic-docs__manual_rest__snapshots-json-2017-legacy.json'));
    expect(warnings).toEqual([]);
    expect(items).toHaveLength(2);
    expect(items[0]).toEqual({
      time: Date.UTC(2017, 2, 11, 8, 57, 43) / 1000 + 0.26630619,
      host: 'kasimir',
      paths: ['/home/work/doc'],
      tags: [],
    });
    expect(items[0]).not.toHaveProperty('sizeBytes');
  });

  it('reads the size from a restic 0.17 summary, and the snapshot time rather than backup_start', () => {
    const { items } = parseResticSnapshots(fixture('issue-ngosang-restic-exporter-38__snapshots-json-0.17.3-with-summary.json'));
    expect(items.length).toBeGreaterThan(0);
    const first = items[0]!;
    // time is +01:00, summary.backup_start says +07:00: time wins.
    expect(first.time).toBeCloseTo(Date.UTC(2025, 2, 11, 7, 0, 1) / 1000 + 0.664908291, 6);
    expect(first.sizeBytes).toBeTypeOf('number');
    expect(first.tags).toEqual(['example_tag']);
  });

  it('flattens --group-by output', () => {
    const { items, warnings } = parseResticSnapshots(fixture('resticpy__snapshots_test__01-grouped.json'));
    expect(warnings).toEqual([]);
    expect(items).toHaveLength(1);
    expect(items[0]?.host).toBe('ace809d23440');
  });

  it('sorts paths and tags so that grouping does not depend on their order', () => {
    const { items } = parseResticSnapshots(fixture('ngosang-restic-exporter__test-fixture__snapshots-json.json'));
    expect(items[0]?.paths).toEqual(['/etc', '/home']);
    expect(items[0]?.tags).toEqual(['automated', 'daily']);
  });

  it('reads an empty repository as no snapshots', () => {
    expect(parseResticSnapshots('[]\n')).toEqual({ items: [], warnings: [] });
    expect(parseResticSnapshots('null')).toEqual({ items: [], warnings: [] });
  });

  it('keeps the good snapshots and reports the bad ones', () => {
    const text = JSON.stringify([
      { time: '2024-01-01T00:00:00Z', hostname: 'a', paths: ['/x'] },
      { hostname: 'b', paths: ['/y'] },
      { time: 'last tuesday', hostname: 'c', paths: ['/z'] },
      'junk',
      { time: '2024-01-02T00:00:00Z', hostname: 'd', paths: '/not-a-list' },
    ]);
    const { items, warnings } = parseResticSnapshots(text);
    expect(items.map((i) => i.host)).toEqual(['a']);
    expect(warnings).toEqual([
      'snapshot [1] has no "time"; skipped',
      'snapshot [2]: "last tuesday" is not an ISO 8601 timestamp; skipped',
      'snapshot [3] is not an object; skipped',
      'snapshot [4] has a malformed hostname, paths or tags; skipped',
    ]);
  });

  it('refuses output that is not JSON, quoting its start', () => {
    expect(() => parseResticSnapshots('Fatal: unable to open config file\n')).toThrow(
      /restic printed something that is not JSON .*"Fatal: unable to open config file"/,
    );
    expect(() => parseResticSnapshots('{"a":1}')).toThrow(/not a JSON array/);
  });
});
