import { describe, expect, it } from 'vitest';
import { parseBind, planState, unpackPath } from './plan.js';

describe('what a migrate carries', () => {
  it('reads volumes and binds as recreateOptions writes them', () => {
    expect(parseBind('paperless-data:/usr/src/paperless/data:ro')).toEqual({ kind: 'volume', source: 'paperless-data', destination: '/usr/src/paperless/data' });
    expect(parseBind('/srv/media:/media')).toEqual({ kind: 'bind', source: '/srv/media', destination: '/media' });
  });

  it('copies the listed mounts and creates every named volume on the target', () => {
    const plan = planState(['data:/data', 'cache:/cache', '/srv/conf:/conf:ro'], { volumes: ['data'], binds: ['/srv/conf/'], skip: ['cache'], recomputable: false }, 'services[0]');
    expect(plan.problems).toEqual([]);
    expect(plan.copy.map((m) => m.source)).toEqual(['data', '/srv/conf']);
    // The skipped cache is mounted on the target too, empty.
    expect(plan.volumes).toEqual(['data', 'cache']);
    expect(plan.skipped).toEqual([{ mount: { kind: 'volume', source: 'cache', destination: '/cache' }, why: 'listed in state.skip' }]);
  });

  it('refuses a mount nobody said may be left behind, naming it and the config field', () => {
    const plan = planState(['data:/data', 'cache:/cache'], { volumes: ['data'], recomputable: false }, 'services[3]');
    expect(plan.problems).toEqual([
      'volume cache (on /cache) is not listed in services[3].state.volumes: list it to carry it, in services[3].state.skip to start it empty on the target, or set services[3].state.recomputable: true if all its state can be rebuilt',
    ]);
    // No state section at all: every mount is a problem (nothing is silently dropped).
    expect(planState(['/srv/x:/x'], undefined, 'services[1]').problems).toHaveLength(1);
  });

  it('says so when state names a mount the container does not have', () => {
    expect(planState(['data:/data'], { volumes: ['data', 'dtaa'], recomputable: false }, 'services[0]').problems).toEqual([
      'services[0].state.volumes names dtaa, which the container does not mount',
    ]);
  });

  it('copies nothing of recomputable state, and says what it skipped', () => {
    const plan = planState(['cache:/cache'], { recomputable: true }, 'services[0]');
    expect(plan).toMatchObject({ copy: [], volumes: ['cache'], problems: [] });
    expect(plan.skipped).toEqual([{ mount: { kind: 'volume', source: 'cache', destination: '/cache' }, why: 'state is recomputable' }]);
  });

  it("unpacks Docker's archive (the directory itself) in the parent and podman's (its content) in the directory", () => {
    // Docker: GET /containers/x/archive?path=/data -> "data/", "data/a.txt".
    expect(unpackPath('data/', '/data')).toBe('/');
    expect(unpackPath('data', '/var/lib/data')).toBe('/var/lib');
    // podman 4.3 (seen here): "/", "/a.txt".
    expect(unpackPath('/', '/data')).toBe('/data');
    expect(unpackPath('./', '/data')).toBe('/data');
    expect(unpackPath('/database.db', '/data')).toBe('/data');
  });
});
