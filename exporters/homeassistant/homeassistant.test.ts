/** The exporter against the fake Home Assistant (test/fakes/home-assistant.ts). */
import { afterEach, describe, expect, it } from 'vitest';
import type { InstanceRunner } from '../../collector/instance-runner.js';
import { startFakeHa, type FakeHa } from '../../test/fakes/home-assistant.js';
import { memoryLogger, runnerFor } from '../../test/helpers/runner.js';
import { homeassistant } from './index.js';
import { M } from './metrics.js';

const TOKEN = 'eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.fake-long-lived-token';
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function ha(): Promise<FakeHa> {
  const fake = await startFakeHa({ token: TOKEN });
  fake.states = [
    { entity_id: 'sensor.kitchen_temperature', state: '21.5', attributes: { unit_of_measurement: '°C' }, last_changed: '2026-11-22T10:00:00+00:00', last_reported: '2026-11-22T10:05:00+00:00' },
    { entity_id: 'sensor.door_battery', state: '9', attributes: { unit_of_measurement: '%', device_class: 'battery' }, last_changed: '2026-11-22T09:00:00+00:00' },
    { entity_id: 'light.hall', state: 'unavailable', attributes: {}, last_changed: '2026-11-22T08:00:00+00:00' },
    { entity_id: 'automation.night', state: 'on', attributes: { last_triggered: '2026-11-21T23:00:00+00:00' }, last_changed: '2026-11-20T00:00:00+00:00' },
  ];
  fake.entities = [
    { entity_id: 'sensor.kitchen_temperature', device_id: 'd-kitchen', platform: 'zha' },
    { entity_id: 'sensor.door_battery', device_id: 'd-door', platform: 'zha' },
    { entity_id: 'light.hall', device_id: 'd-hall', platform: 'hue' },
  ];
  fake.devices = [{ id: 'd-kitchen', name: 'Kitchen sensor', area_id: 'kitchen' }, { id: 'd-door', name: 'Door' }, { id: 'd-hall', name: 'Hall light' }];
  fake.areas = [{ area_id: 'kitchen', name: 'Kitchen', floor_id: 'ground' }];
  fake.configEntries = [
    { entry_id: 'zha1', domain: 'zha', state: 'loaded' },
    { entry_id: 'hue1', domain: 'hue', state: 'loaded' },
  ];
  cleanups.push(() => fake.close());
  return fake;
}

function exporter(url: string, token = TOKEN, extra: Record<string, unknown> = {}) {
  const { log, lines } = memoryLogger();
  const runner = runnerFor(homeassistant, { name: 'home', url, token, ping_interval: '200ms', ping_timeout: '1s', ...extra }, { log });
  runner.start();
  cleanups.push(() => runner.stop());
  return { runner, lines };
}

const v = (r: InstanceRunner, metric: string, labels: Record<string, string> = {}) =>
  r.status().samples.find((s) => s.metric === metric && Object.entries(labels).every(([k, x]) => s.labels?.[k] === x))?.value;

describe('Home Assistant exporter against the fake HA', () => {
  it('syncs states, registries, config entries and the version, then follows live updates', async () => {
    const fake = await ha();
    const { runner } = exporter(fake.url);
    await expect.poll(() => runner.status().up, { timeout: 10_000 }).toBe(true);
    expect(v(runner, M.value, { entity_id: 'sensor.kitchen_temperature', unit: '°C' })).toBe(21.5);
    expect(v(runner, M.available, { entity_id: 'light.hall' })).toBe(0);
    expect(v(runner, M.deviceAvailable, { device_id: 'd-hall' })).toBe(0);
    expect(v(runner, M.battery, { device_id: 'd-door' })).toBeCloseTo(0.09);
    expect(v(runner, M.info, { version: '2026.9.2' })).toBe(1);
    expect(v(runner, M.entryState, { entry_id: 'zha1', state: 'loaded' })).toBe(1);
    expect(v(runner, M.automationEnabled, { entity_id: 'automation.night' })).toBe(1);
    expect(v(runner, M.automationTriggered, { entity_id: 'automation.night' })).toBe(Date.parse('2026-11-21T23:00:00Z') / 1000);
    await expect.poll(() => v(runner, M.rtt), { timeout: 5_000 }).toBeGreaterThan(0);
    // Ids strictly increase: the fake would have answered id_reuse.
    expect(fake.stats.idReuse).toBe(0);

    fake.setState({ entity_id: 'sensor.kitchen_temperature', state: '22.0', attributes: { unit_of_measurement: '°C' }, last_changed: '2026-11-22T11:00:00+00:00' });
    await expect.poll(() => v(runner, M.value, { entity_id: 'sensor.kitchen_temperature' })).toBe(22);
    expect(v(runner, M.lastEvent)).toBeGreaterThan(0);
    // An entity added while running (old_state null).
    fake.setState({ entity_id: 'binary_sensor.new_motion', state: 'off', attributes: {}, last_changed: '2026-11-22T12:00:00+00:00' });
    await expect.poll(() => v(runner, M.available, { entity_id: 'binary_sensor.new_motion' })).toBe(1);
    fake.setState({ entity_id: 'sensor.kitchen_temperature', state: 'unknown', attributes: { unit_of_measurement: '°C' } });
    await expect.poll(() => v(runner, M.unknown, { entity_id: 'sensor.kitchen_temperature' })).toBe(1);
    expect(v(runner, M.value, { entity_id: 'sensor.kitchen_temperature' })).toBeUndefined();
    expect(v(runner, M.available, { entity_id: 'sensor.kitchen_temperature' })).toBe(1);
  });

  it('drops removed and renamed entities at once, and reports an integration in setup_error', async () => {
    const fake = await ha();
    const { runner } = exporter(fake.url);
    await expect.poll(() => runner.status().up, { timeout: 10_000 }).toBe(true);
    fake.removeState('light.hall');
    await expect.poll(() => v(runner, M.available, { entity_id: 'light.hall' })).toBeUndefined();
    fake.renameEntity('sensor.door_battery', 'sensor.front_door_battery');
    await expect.poll(() => v(runner, M.available, { entity_id: 'sensor.front_door_battery' })).toBe(1);
    expect(v(runner, M.available, { entity_id: 'sensor.door_battery' })).toBeUndefined();
    fake.setConfigEntryState('hue1', 'setup_error');
    await expect.poll(() => v(runner, M.entryState, { entry_id: 'hue1', state: 'setup_error' })).toBe(1);
    expect(v(runner, M.entryState, { entry_id: 'hue1', state: 'loaded' })).toBe(0);
  });

  it('reconnects after HA closes the connection, and resyncs everything', async () => {
    const fake = await ha();
    const { runner } = exporter(fake.url);
    await expect.poll(() => runner.status().up, { timeout: 10_000 }).toBe(true);
    fake.states = fake.states.filter((s) => s.entity_id !== 'automation.night'); // changed while we were away
    fake.dropConnections();
    await expect.poll(() => v(runner, M.reconnects), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => v(runner, M.automationEnabled, { entity_id: 'automation.night' }), { timeout: 5_000 }).toBeUndefined();
    expect(fake.stats.connections).toBe(2);
    expect(fake.stats.commands.filter((c) => c === 'get_states')).toHaveLength(2);
  });

  it('keeps the last-known model while HA is gone: connected 0, entities stay, errors and last success counted', async () => {
    const fake = await ha();
    const { runner } = exporter(fake.url);
    await expect.poll(() => runner.status().up, { timeout: 10_000 }).toBe(true);
    const syncedAt = runner.status().lastSuccess;
    expect(syncedAt).toBeGreaterThan(0);
    expect(runner.status().errors.unreachable).toBe(0);
    await fake.close();
    await expect.poll(() => runner.status().up, { timeout: 10_000 }).toBe(false);
    expect(v(runner, M.connected)).toBe(0);
    expect(v(runner, M.available, { entity_id: 'light.hall' })).toBe(0);
    expect(v(runner, M.deviceAvailable, { device_id: 'd-hall' })).toBe(0);
    expect(v(runner, M.battery, { device_id: 'd-door' })).toBeCloseTo(0.09);
    await expect.poll(() => runner.status().errors.unreachable, { timeout: 5_000 }).toBeGreaterThan(0);
    expect(runner.status().lastError?.reason).toBe('unreachable');
    expect(runner.status().lastSuccess).toBe(syncedAt);
  });

  it('counts a refused token as an auth error', async () => {
    const fake = await ha();
    const { runner } = exporter(fake.url, 'wrong-token-value');
    await expect.poll(() => runner.status().errors.auth, { timeout: 10_000 }).toBe(1);
    expect(runner.status().lastSuccess).toBeUndefined();
  });

  it('stops on auth_invalid: reason auth, one attempt, no retry storm, no token in the log', async () => {
    const fake = await ha();
    const { runner, lines } = exporter(fake.url, 'wrong-token-value');
    await expect.poll(() => runner.status().lastError?.reason, { timeout: 10_000 }).toBe('auth');
    await new Promise((r) => setTimeout(r, 2500)); // backoff would have retried by now
    expect(fake.stats.authAttempts).toBe(1);
    expect(fake.stats.authInvalid).toBe(1);
    expect(runner.status().up).toBe(false);
    expect(JSON.stringify(lines)).not.toContain('wrong-token-value');
  });

  it('is down with reason unreachable while HA is not there', async () => {
    const { runner } = exporter('http://127.0.0.1:9');
    await expect.poll(() => runner.status().settled, { timeout: 5_000 }).toBe(true);
    expect(runner.status()).toMatchObject({ up: false, lastError: { reason: 'unreachable' } });
  });

  it('notices a 20 s hang of HA within 15 s with the default ping settings, and comes back after it', async () => {
    const fake = await ha();
    const { log } = memoryLogger();
    const runner = runnerFor(homeassistant, { name: 'home', url: fake.url, token: TOKEN }, { log });
    runner.start();
    cleanups.push(() => runner.stop());
    await expect.poll(() => runner.status().up, { timeout: 10_000 }).toBe(true);
    const t0 = Date.now();
    fake.stall(20_000);
    await expect.poll(() => runner.status().up, { timeout: 16_000, interval: 100 }).toBe(false);
    const noticed = (Date.now() - t0) / 1000;
    process.stdout.write(`Home Assistant hang noticed after ${noticed.toFixed(1)} s (defaults: ping_interval 5s, ping_timeout 5s)\n`);
    expect(noticed).toBeLessThanOrEqual(15);
    expect(runner.status().lastError?.reason).toBe('timeout');
    expect(runner.status().errors.timeout).toBe(1);
  }, 30_000);

  it('any message from HA is a sign of life: no ping while events flow', async () => {
    const fake = await ha();
    const { runner } = exporter(fake.url, TOKEN, { ping_interval: '500ms' });
    await expect.poll(() => runner.status().up, { timeout: 10_000 }).toBe(true);
    const pingsBefore = fake.stats.commands.filter((c) => c === 'ping').length;
    for (let i = 0; i < 8; i++) {
      fake.setState({ entity_id: 'sensor.kitchen_temperature', state: String(20 + i), attributes: { unit_of_measurement: '°C' } });
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(fake.stats.commands.filter((c) => c === 'ping').length - pingsBefore).toBeLessThanOrEqual(1);
  });

  it("tells a steady sensor from a silent one: HA's last_reported read again on its interval", async () => {
    const fake = await ha();
    const { runner } = exporter(fake.url, TOKEN, { last_reported_refresh: '300ms', silent_sensors: [{ device_classes: ['power'], after: '30m' }] });
    fake.states.push({ entity_id: 'sensor.plug_power', state: '0.0', attributes: { unit_of_measurement: 'W', device_class: 'power' }, last_changed: '2026-11-20T00:00:00+00:00', last_reported: '2026-11-20T00:00:00+00:00' });
    fake.states.push({ entity_id: 'sensor.old_ha', state: '1', attributes: {}, last_changed: '2026-11-20T00:00:00+00:00', last_updated: '2026-11-24T00:00:00+00:00' });
    await expect.poll(() => runner.status().up, { timeout: 10_000 }).toBe(true);
    const plug = { entity_id: 'sensor.plug_power' };
    expect(v(runner, M.lastReported, plug)).toBe(Date.parse('2026-11-20T00:00:00Z') / 1000);
    const now = new Date();
    fake.report('sensor.plug_power', now); // the same 0.0 W again: no event
    await expect.poll(() => v(runner, M.lastReported, plug), { timeout: 5_000 }).toBe(Math.floor(now.getTime()) / 1000);
    expect(v(runner, M.lastChanged, plug)).toBe(Date.parse('2026-11-20T00:00:00Z') / 1000);
    // An opted-in entity has its threshold; last_updated is not claimed as a report time.
    expect(v(runner, M.silentThreshold, plug)).toBe(1800);
    expect(v(runner, M.silentThreshold, { entity_id: 'sensor.kitchen_temperature' })).toBeUndefined();
    expect(v(runner, M.lastReported, { entity_id: 'sensor.old_ha' })).toBeUndefined();
  });

  it('over its series budget keeps every health series and says what it dropped', async () => {
    const fake = await ha();
    for (let i = 0; i < 300; i++) fake.states.push({ entity_id: `sensor.filler_${String(i).padStart(3, '0')}`, state: String(i), attributes: {}, last_changed: '2026-11-22T10:00:00+00:00' });
    const { runner, lines } = exporter(fake.url, TOKEN, { max_series: 50 });
    await expect.poll(() => runner.status().up, { timeout: 10_000 }).toBe(true);
    // Health first: the unavailable device, the battery and the integrations are all there.
    expect(v(runner, M.deviceAvailable, { device_id: 'd-hall' })).toBe(0);
    expect(v(runner, M.batteryLow, { device_id: 'd-door' })).toBe(1);
    expect(v(runner, M.entryState, { entry_id: 'zha1', state: 'loaded' })).toBe(1);
    expect(v(runner, M.deviceInfo, { device_id: 'd-kitchen' })).toBe(1);
    expect(v(runner, M.droppedSeries, { reason: 'over_budget' })).toBeGreaterThan(0);
    await expect.poll(() => lines.some((l) => String(l.msg).startsWith('over max_series'))).toBe(true);
  });

  it("says why an integration failed, and a disabled one is not failed", async () => {
    const fake = await ha();
    fake.configEntries = [
      { entry_id: 'hue1', domain: 'hue', state: 'setup_retry', reason: 'could not authenticate: the bridge refused the key', disabled_by: null },
      { entry_id: 'cam1', domain: 'onvif', state: 'not_loaded', reason: null, disabled_by: 'user' },
    ];
    const { runner } = exporter(fake.url);
    await expect.poll(() => runner.status().up, { timeout: 10_000 }).toBe(true);
    expect(v(runner, M.entryReason, { entry_id: 'hue1', reason: 'could not authenticate: the bridge refused the key' })).toBe(1);
    expect(v(runner, M.entryDisabled, { entry_id: 'cam1' })).toBe(1);
    expect(v(runner, M.entryDisabled, { entry_id: 'hue1' })).toBe(0);
  });

  it('counts a binary battery sensor that is on as a low battery, and the level against battery_low', async () => {
    const fake = await ha();
    fake.states.push({ entity_id: 'binary_sensor.smoke_battery', state: 'on', attributes: { device_class: 'battery' }, last_changed: '2026-11-22T10:00:00+00:00' });
    fake.entities.push({ entity_id: 'binary_sensor.smoke_battery', device_id: 'd-smoke', platform: 'zha' });
    const { runner } = exporter(fake.url, TOKEN, { battery_low: 0.05 });
    await expect.poll(() => runner.status().up, { timeout: 10_000 }).toBe(true);
    expect(v(runner, M.batteryLow, { device_id: 'd-smoke' })).toBe(1);
    expect(v(runner, M.battery, { device_id: 'd-smoke' })).toBeUndefined();
    // 9% is low at the default 15%, not at a configured 5%.
    expect(v(runner, M.batteryLow, { device_id: 'd-door' })).toBe(0);
  });

  it('reads floor names from the floor registry, joined like areas', async () => {
    const fake = await ha();
    fake.floors = [{ floor_id: 'ground', name: 'Ground floor', level: 0 }];
    const { runner } = exporter(fake.url);
    await expect.poll(() => runner.status().up, { timeout: 10_000 }).toBe(true);
    expect(v(runner, M.floorInfo, { floor_id: 'ground', name: 'Ground floor', level: '0' })).toBe(1);
    expect(v(runner, M.areaInfo, { area_id: 'kitchen', floor_id: 'ground' })).toBe(1);
  });

  it('asks HA to coalesce messages, and reads the coalesced frames; an HA without it is fine too', async () => {
    const fake = await ha();
    const { runner } = exporter(fake.url);
    await expect.poll(() => runner.status().up, { timeout: 10_000 }).toBe(true);
    expect(fake.stats.commands).toContain('supported_features');
    expect(fake.coalescedFrames()).toBeGreaterThan(0); // the config entries came in one
    const old = await ha();
    old.coalesce = false;
    const second = exporter(old.url).runner;
    await expect.poll(() => second.status().up, { timeout: 10_000 }).toBe(true);
    expect(old.coalescedFrames()).toBe(0);
    expect(v(second, M.entryState, { entry_id: 'zha1', state: 'loaded' })).toBe(1);
  });
});
