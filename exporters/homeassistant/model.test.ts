/** The pure model over a recorded HA state dump, and its golden exposition. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { exposeSamples } from '../../test/helpers/exposition.js';
import { homeassistant } from './index.js';
import { M } from './metrics.js';
import { HaModel, slim, type HaState } from './model.js';
import type { Sample } from '../../collector/contract.js';

const dump = Object.values(JSON.parse(readFileSync(new URL('./fixtures/ha-states-excerpt-hass-dash.json', import.meta.url), 'utf8')) as Record<string, HaState>);
const noFilters = { includeDomains: [], excludeDomains: [], includeEntities: [], excludeEntities: [], includeIntegrations: [], excludeIntegrations: [] };

function model(): HaModel {
  const m = new HaModel(noFilters, 1000);
  m.setStates(dump);
  m.setEntities([{ entity_id: 'sensor.0x00158d0002fb4826_temperature', device_id: 'dev1', platform: 'mqtt', name: 'Bath temperature' }]);
  m.setDevices([{ id: 'dev1', name: 'Bath sensor', manufacturer: 'Xiaomi', model: 'WSDCGQ11LM', area_id: 'bath' }]);
  m.setAreas([{ area_id: 'bath', name: 'Bathroom', floor_id: 'upstairs' }]);
  m.configEntriesChanged([{ type: null, entry: { entry_id: 'e1', domain: 'mqtt', state: 'loaded' } }, { type: null, entry: { entry_id: 'e2', domain: 'zha', state: 'setup_error' } }]);
  m.version = '2026.9.2';
  return m;
}

const value = (samples: { metric: string; labels?: Record<string, string>; value: number }[], metric: string, labels: Record<string, string>) =>
  samples.find((s) => s.metric === metric && Object.entries(labels).every(([k, v]) => s.labels?.[k] === v))?.value;

describe('Home Assistant model', () => {
  it('tells unavailable from unknown, and exports values only while they are current', () => {
    const s = model().snapshot(true, 0);
    const hum = { entity_id: 'sensor.0x00158d0001fd5ebe_humidity' };
    expect(value(s, M.available, hum)).toBe(0);
    expect(value(s, M.unknown, hum)).toBe(0);
    expect(value(s, M.value, hum)).toBeUndefined();
    const unk = { entity_id: 'sensor.0x5cc7c1fffede1ef5_humidity_11' };
    expect(value(s, M.available, unk)).toBe(1);
    expect(value(s, M.unknown, unk)).toBe(1);
    expect(value(s, M.value, unk)).toBeUndefined();
    expect(value(s, M.value, { entity_id: 'sensor.0x00158d0002fb4826_temperature', unit: '°C' })).toBe(25.22);
    expect(value(s, M.lastReported, { entity_id: 'climate.0x5cc7c1fffede1ef5_1' })).toBe(Date.parse('2026-09-19T17:25:12.914067+00:00') / 1000);
    expect(value(s, M.entities, { domain: 'sensor', availability: 'unavailable' })).toBe(2);
  });

  it('joins entity, device, area and floor through _info metrics', () => {
    const s = model().snapshot(true, 0);
    expect(s.find((x) => x.metric === M.entityInfo)?.labels).toEqual({
      entity_id: 'sensor.0x00158d0002fb4826_temperature',
      domain: 'sensor',
      device_id: 'dev1',
      area_id: 'bath',
      platform: 'mqtt',
      name: 'Bath temperature',
    });
    expect(value(s, M.areaInfo, { area_id: 'bath', floor_id: 'upstairs' })).toBe(1);
    expect(value(s, M.entryState, { entry_id: 'e2', state: 'setup_error' })).toBe(1);
    expect(value(s, M.entryState, { entry_id: 'e2', state: 'loaded' })).toBe(0);
  });

  it('filters by domain, entity glob and integration', () => {
    const m = model();
    const f = new HaModel({ ...noFilters, includeDomains: ['sensor'], excludeEntities: ['sensor.*_humidity*'] }, 1000);
    f.setStates(dump);
    const ids = new Set(f.snapshot(true, 0).filter((s) => s.metric === M.available).map((s) => s.labels?.entity_id));
    expect([...ids].sort()).toEqual(['sensor.0x00158d0001fd5ebe_temperature', 'sensor.0x00158d0002fb4826_temperature']);
    const byIntegration = new HaModel({ ...noFilters, includeIntegrations: ['mqtt'] }, 1000);
    byIntegration.setStates(dump);
    byIntegration.setEntities([...m.entities.values()]);
    expect(byIntegration.snapshot(true, 0).filter((s) => s.metric === M.available)).toHaveLength(1);
  });

  it('refuses series past its budget and counts them', () => {
    const m = new HaModel(noFilters, 10);
    m.setStates(dump);
    const s = m.snapshot(true, 0);
    expect(s.filter((x) => x.metric === M.available || x.metric === M.unknown || x.metric === M.lastChanged).length).toBeLessThanOrEqual(10);
    expect(m.droppedOverBudget).toBeGreaterThan(0);
    const refused = m.droppedOverBudget;
    m.snapshot(true, 0);
    expect(m.droppedOverBudget).toBe(refused); // a second scrape refuses the same series, not new ones
  });

  it('matches its golden exposition file', async () => {
    const text = await exposeSamples(homeassistant, model().snapshot(true, 0), 'home');
    const golden = new URL('./fixtures/golden/hass-dash-states.prom', import.meta.url);
    mkdirSync(new URL('./fixtures/golden/', import.meta.url), { recursive: true });
    if (process.env.UPDATE_GOLDEN === '1' || (!existsSync(golden) && process.env.CI !== 'true')) writeFileSync(golden, text);
    expect(text).toBe(readFileSync(golden, 'utf8'));
  });
});

describe('the default budget', () => {
  it('fits a 5,000-entity Home Assistant whole', () => {
    const model = new HaModel({ includeDomains: [], excludeDomains: [], includeEntities: [], excludeEntities: [], includeIntegrations: [], excludeIntegrations: [] }, 40_000);
    const at = '2026-11-25T10:00:00+00:00';
    model.setStates(Array.from({ length: 5000 }, (_, i) => ({ entity_id: `sensor.s${i}`, state: String(i), attributes: { unit_of_measurement: 'W' }, last_changed: at, last_reported: at })));
    model.setEntities(Array.from({ length: 5000 }, (_, i) => ({ entity_id: `sensor.s${i}`, device_id: `d${i % 1000}`, platform: 'zha' })));
    const samples = model.snapshot(true, 0);
    expect(model.droppedOverBudget).toBe(0);
    expect(samples.filter((s) => s.metric === M.value)).toHaveLength(5000);
  });
});

describe('Home Assistant model: series kept between scrapes', () => {
  it('keeps the sample objects of an unchanged entity, and makes them again for a new state or a registry change', () => {
    const m = model();
    const first = m.snapshot(true, 0);
    const temp = 'sensor.0x00158d0002fb4826_temperature';
    const of = (samples: typeof first, id: string) => samples.filter((s) => s.labels?.entity_id === id);
    const other = dump.find((d) => d.entity_id !== temp && d.entity_id.startsWith('sensor.'))!.entity_id;
    const second = m.snapshot(true, 0);
    expect(of(second, temp)[0]).toBe(of(first, temp)[0]); // the same object: its line is reused
    m.stateChanged(other, { ...dump.find((d) => d.entity_id === other)!, state: '42' });
    const third = m.snapshot(true, 0);
    expect(of(third, temp)[0]).toBe(of(first, temp)[0]);
    expect(of(third, other)[0]).not.toBe(of(first, other)[0]);
    expect(value(third, M.value, { entity_id: other })).toBe(42);
    // The device moved to another area: the entity's info says so at once.
    m.setDevices([{ id: 'dev1', name: 'Bath sensor', manufacturer: 'Xiaomi', model: 'WSDCGQ11LM', area_id: 'cellar' }]);
    expect(m.snapshot(true, 0).find((s) => s.metric === M.entityInfo && s.labels?.entity_id === temp)?.labels?.area_id).toBe('cellar');
    // An entity removed goes at once; one added comes in order.
    m.stateChanged(other, null);
    expect(of(m.snapshot(true, 0), other)).toEqual([]);
  });
});

describe('Home Assistant model: all states read again (resync, last_reported refresh)', () => {
  const none = { includeDomains: [], excludeDomains: [], includeEntities: [], excludeEntities: [], includeIntegrations: [], excludeIntegrations: [] };
  const state = (i: number, over: Partial<HaState> = {}): HaState => ({
    entity_id: `sensor.s${i}`,
    state: String(20 + i),
    attributes: { unit_of_measurement: '°C', device_class: 'temperature', friendly_name: `S ${i}` },
    last_changed: '2026-11-26T10:00:00+00:00',
    last_reported: '2026-11-26T10:00:00+00:00',
    ...over,
  });
  const series = (samples: readonly Sample[], id: string) => samples.filter((s) => s.labels?.entity_id === id);

  it('keeps the series of a state that only reported again, with the new last_reported; makes the changed ones anew', () => {
    const m = new HaModel(none, 1000);
    m.setStates([state(0), state(1), state(2)]);
    const first = m.snapshot(true, 0);
    const later = '2026-11-26T10:05:00+00:00';
    // s0 reported the same value again, s1 changed, s2 is as it was; friendly_name is not read.
    m.setStates([state(0, { last_reported: later, attributes: { unit_of_measurement: '°C', device_class: 'temperature', friendly_name: 'renamed' } }), state(1, { state: '99', last_changed: later, last_reported: later }), state(2)]);
    const second = m.snapshot(true, 0);
    const [s0a, s0b] = [series(first, 'sensor.s0'), series(second, 'sensor.s0')];
    expect(s0b).toHaveLength(s0a.length);
    for (const [i, s] of s0b.entries()) {
      if (s.metric === M.lastReported) expect(s).not.toBe(s0a[i]);
      else expect(s).toBe(s0a[i]); // the same object: its line is not made again
    }
    expect(value(second, M.lastReported, { entity_id: 'sensor.s0' })).toBe(Date.parse(later) / 1000);
    expect(series(second, 'sensor.s2')).toEqual(series(first, 'sensor.s2'));
    expect(series(second, 'sensor.s2')[0]).toBe(series(first, 'sensor.s2')[0]);
    expect(series(second, 'sensor.s1')[0]).not.toBe(series(first, 'sensor.s1')[0]);
    expect(value(second, M.value, { entity_id: 'sensor.s1' })).toBe(99);
    expect(value(second, M.lastChanged, { entity_id: 'sensor.s1' })).toBe(Date.parse(later) / 1000);
  });

  it('takes what a resync says when more than last_reported differs, and drops and adds entities', () => {
    const m = new HaModel(none, 1000);
    m.setStates([state(0, { last_reported: undefined }), state(1), state(2)]);
    m.snapshot(true, 0);
    const later = '2026-11-26T10:05:00+00:00';
    // s0 now gives last_reported; s1's unit changed; s2 is gone; s3 is new.
    m.setStates([state(0, { last_reported: later }), state(1, { attributes: { unit_of_measurement: '°F', device_class: 'temperature' } }), state(3)]);
    const after = m.snapshot(true, 0);
    expect(value(after, M.lastReported, { entity_id: 'sensor.s0' })).toBe(Date.parse(later) / 1000);
    expect(after.find((s) => s.metric === M.value && s.labels?.entity_id === 'sensor.s1')?.labels?.unit).toBe('°F');
    expect(series(after, 'sensor.s2')).toEqual([]);
    expect(value(after, M.value, { entity_id: 'sensor.s3' })).toBe(23);
    // In order: the new entity takes its place among the others.
    expect([...new Set(after.filter((s) => s.metric === M.available).map((s) => s.labels?.entity_id))]).toEqual(['sensor.s0', 'sensor.s1', 'sensor.s3']);
    // A state read again before any scrape (no series made yet) is taken whole.
    const fresh = new HaModel(none, 1000);
    fresh.setStates([state(5)]);
    fresh.setStates([state(5, { last_reported: later })]);
    expect(value(fresh.snapshot(true, 0), M.lastReported, { entity_id: 'sensor.s5' })).toBe(Date.parse(later) / 1000);
  });
});

describe('the states the model keeps', () => {
  it('hold what the series read and none of the rest of HA state object', () => {
    const forecast = Array.from({ length: 48 }, (_, i) => ({ datetime: `2026-11-26T${String(i % 24).padStart(2, '0')}:00:00Z`, temperature: 4 + i / 10, condition: 'cloudy' }));
    const kept = slim({
      entity_id: 'sensor.outside',
      state: '4.5',
      attributes: { unit_of_measurement: '°C', device_class: 'temperature', friendly_name: 'Outside', forecast, entity_picture: '/api/x.png' },
      last_changed: '2026-11-26T08:00:00Z',
      last_reported: '2026-11-26T08:05:00Z',
      last_updated: '2026-11-26T08:05:00Z',
    });
    expect(kept).toEqual({
      entity_id: 'sensor.outside',
      state: '4.5',
      attributes: { unit_of_measurement: '°C', device_class: 'temperature' },
      last_changed: '2026-11-26T08:00:00Z',
      last_reported: '2026-11-26T08:05:00Z',
    });
    expect(slim({ entity_id: 'automation.a', state: 'on', attributes: { last_triggered: '2026-11-26T07:00:00Z', id: '1' } }).attributes).toEqual({ last_triggered: '2026-11-26T07:00:00Z' });
    expect(slim({ entity_id: 'switch.s', state: 'on', attributes: { friendly_name: 'S' } }).attributes).toBeNull();
  });
});
