/** The status page's findings: each exporter's review of its samples, instances down, open incidents. */
import { describe, expect, it } from 'vitest';
import type { Sample } from './contract.js';
import { reviewBackup } from '../exporters/backup/review.js';
import { M as B } from '../exporters/backup/metrics.js';
import { reviewMqtt } from '../exporters/mqtt/review.js';
import { M as Q } from '../exporters/mqtt/metrics.js';
import { reviewHomeAssistant } from '../exporters/homeassistant/review.js';
import { M as H } from '../exporters/homeassistant/metrics.js';
import { filesystem } from '../exporters/filesystem/index.js';
import { openIncidents } from './health.js';

const NOW = Date.parse('2026-11-25T12:00:00Z');
const s = (metric: string, labels: Record<string, string>, value: number): Sample => ({ metric, labels, value });

describe('reviews', () => {
  it('backup: an overdue set with its age, an empty set, a broken newest file and a failed check', () => {
    const lastWeek = NOW / 1000 - 7 * 86400;
    const r = reviewBackup(
      [
        s(B.count, { set: 'pg' }, 3),
        s(B.last, { set: 'pg' }, lastWeek),
        s(B.interval, { set: 'pg' }, 86400),
        s(B.count, { set: 'photos' }, 0),
        s(B.interval, { set: 'photos' }, 86400),
        s(B.count, { set: 'fresh' }, 1),
        s(B.last, { set: 'fresh' }, NOW / 1000 - 3600),
        s(B.interval, { set: 'fresh' }, 86400),
        s(B.complete, { set: 'fresh' }, 0),
        s(B.count, { set: 'dpkg' }, 1),
        s(B.last, { set: 'dpkg' }, NOW / 1000 - 400 * 86400), // no expected interval: never overdue
        s(B.checkOk, {}, 0),
      ],
      NOW,
    );
    expect(r.findings).toEqual([
      { severity: 'warning', subject: 'backup set pg', problem: 'is overdue: expected every 24 h', since: lastWeek * 1000 },
      { severity: 'warning', subject: 'backup set photos', problem: 'has no backup at all' },
      { severity: 'critical', subject: 'backup set fresh', problem: 'newest backup did not complete (a broken file, a failed Velero run)' },
      { severity: 'critical', subject: 'backup repository', problem: 'integrity check failed' },
    ]);
    expect(r.fine).toBe('4 sets, newest backup 60 min ago');
  });

  it('filesystem: almost full, filling, and read-only only when not meant to be', () => {
    const l = (mountpoint: string) => ({ mountpoint, device: '/dev/x', fstype: 'ext4' });
    const r = filesystem.review!(
      [
        s('homestation_filesystem_size_bytes', l('/'), 100),
        s('homestation_filesystem_avail_bytes', l('/'), 3),
        s('homestation_filesystem_size_bytes', l('/srv'), 100),
        s('homestation_filesystem_avail_bytes', l('/srv'), 12),
        s('homestation_filesystem_readonly', l('/srv'), 1),
        s('homestation_filesystem_readonly_intended', l('/srv'), 0),
        s('homestation_filesystem_size_bytes', l('/mnt/archive'), 100),
        s('homestation_filesystem_avail_bytes', l('/mnt/archive'), 50),
        s('homestation_filesystem_readonly', l('/mnt/archive'), 1),
        s('homestation_filesystem_readonly_intended', l('/mnt/archive'), 1),
      ],
      NOW,
    );
    expect(r.findings.map((f) => `${f.severity} ${f.subject} ${f.problem}`)).toEqual([
      'critical filesystem / is almost full: 3% free',
      'warning filesystem /srv is filling up: 12% free',
      'critical filesystem /srv is read-only (remounted, usually after disk errors)',
    ]);
    expect(r.fine).toBe('3 filesystems, fullest 97% used');
  });

  it('mqtt: bridge offline, a device offline since its last message, a low battery', () => {
    const d = (device: string) => ({ device, source: 'zigbee2mqtt' });
    const r = reviewMqtt([
      s(Q.z2mBridge, { base_topic: 'zigbee2mqtt' }, 0),
      s(Q.online, d('door'), 0),
      s(Q.lastSeen, d('door'), NOW / 1000 - 7200),
      s(Q.online, d('plug'), 1),
      s(Q.battery, d('plug'), 0.09),
    ]);
    expect(r.findings).toEqual([
      { severity: 'critical', subject: 'zigbee2mqtt zigbee2mqtt', problem: 'bridge is offline' },
      { severity: 'warning', subject: 'device door (zigbee2mqtt)', problem: 'is offline; shown since its last message', since: NOW - 7_200_000 },
      { severity: 'warning', subject: 'device plug (zigbee2mqtt)', problem: 'battery at 9%' },
    ]);
    expect(r.fine).toBe('2 devices, 1 online');
  });

  it('homeassistant: a failed integration with its reason (a disabled one is not failed), an unavailable device by its name, low batteries', () => {
    const r = reviewHomeAssistant([
      s(H.entryState, { entry_id: 'hue1', domain: 'hue', state: 'setup_retry' }, 1),
      s(H.entryState, { entry_id: 'hue1', domain: 'hue', state: 'loaded' }, 0),
      s(H.entryState, { entry_id: 'zha1', domain: 'zha', state: 'loaded' }, 1),
      s(H.deviceInfo, { device_id: 'd1', name: 'Hall light', manufacturer: '', model: '', area_id: '' }, 1),
      s(H.deviceAvailable, { device_id: 'd1' }, 0),
      s(H.deviceAvailable, { device_id: 'd2' }, 1),
      s(H.battery, { device_id: 'd2' }, 0.05),
      s(H.batteryLow, { device_id: 'd2' }, 1),
      s(H.batteryLow, { device_id: 'd3' }, 1),
      s(H.entryState, { entry_id: 'cam1', domain: 'onvif', state: 'setup_error' }, 1),
      s(H.entryDisabled, { entry_id: 'cam1', domain: 'onvif' }, 1),
      s(H.entryReason, { entry_id: 'hue1', domain: 'hue', reason: 'could not authenticate' }, 1),
      s(H.entities, { domain: 'light', availability: 'unavailable' }, 1),
      s(H.entities, { domain: 'sensor', availability: 'available' }, 4),
    ]);
    expect(r.findings.map((f) => `${f.subject} ${f.problem}`)).toEqual([
      'integration hue (hue1) failed: setup_retry (could not authenticate)',
      'device Hall light is unavailable',
      'device d2 battery at 5%',
      'device d3 battery low',
    ]);
    expect(r.fine).toBe('5 entities, 2 devices, 1 available');
  });
});

describe('open incidents', () => {
  it('shows what is acting, and a failure until a later incident of the service recovered', () => {
    const i = (id: number, service: string, state: string, endedAt: number | null = NOW - id) => ({ id, service, state, startedAt: NOW - 1000 - id, endedAt });
    const recentFirst = [i(6, 'web', 'acting', null), i(5, 'db', 'recovered'), i(4, 'db', 'failed'), i(3, 'z2m', 'refused'), i(2, 'z2m', 'failed'), i(1, 'old', 'failed', NOW - 8 * 86_400_000)];
    expect(openIncidents(recentFirst, NOW).map((x) => x.id)).toEqual([6, 2]);
  });
});
