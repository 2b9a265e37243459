import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { M } from '../metrics.js';
import { parseAvailability } from './availability.js';
import { matchTopic, payloadValue } from './payload.js';
import { parseSys, sysNumber } from './sys.js';

const sysTopics = readFileSync(new URL('../fixtures/mosquitto-sys-topics.derived.tsv', import.meta.url), 'utf8')
  .split('\n')
  .slice(1)
  .filter(Boolean)
  .map((l) => l.split('\t') as [string, string, string, string]);

describe('$SYS', () => {
  it('reads the forms Mosquitto writes, "N seconds" included', () => {
    expect(sysNumber('24 seconds')).toBe(24);
    expect(sysNumber('1 second')).toBe(1);
    expect(sysNumber('1234')).toBe(1234);
    expect(sysNumber('0.25')).toBe(0.25);
    expect(sysNumber('mosquitto version 2.0.11')).toBeUndefined();
    expect(parseSys('$SYS/broker/uptime', '86400 seconds')).toEqual({ metric: M.uptime, value: 86400 });
    expect(parseSys('$SYS/broker/retained messages/count', '17')).toEqual({ metric: M.retained, value: 17 });
    expect(parseSys('$SYS/broker/connection/nas-bridge/state', '1')).toEqual({ metric: M.bridge, labels: { bridge: 'nas-bridge' }, value: 1 });
  });

  it('exports exactly the topics it maps from the documented list, and ignores the rest', () => {
    const mapped = sysTopics.filter(([topic]) => !topic.includes('<') && parseSys(topic, topic.endsWith('uptime') ? '5 seconds' : '5') !== undefined).map(([t]) => t);
    expect(mapped.sort()).toEqual(
      [
        '$SYS/broker/bytes/received',
        '$SYS/broker/bytes/sent',
        '$SYS/broker/clients/connected',
        '$SYS/broker/messages/received',
        '$SYS/broker/messages/sent',
        '$SYS/broker/publish/messages/dropped',
        '$SYS/broker/retained messages/count',
        '$SYS/broker/subscriptions/count',
        '$SYS/broker/uptime',
      ].sort(),
    );
    expect(parseSys('$SYS/broker/version', 'mosquitto version 2.0.11')).toBeUndefined();
  });
});

describe('availability payloads', () => {
  it('reads zigbee2mqtt 1.x, 2.x (any case), Tasmota and cleared topics', () => {
    expect(parseAvailability('online')).toBe('online');
    expect(parseAvailability('{"state":"online"}')).toBe('online');
    expect(parseAvailability('{"state":"Offline"}')).toBe('offline');
    expect(parseAvailability('Online')).toBe('online');
    expect(parseAvailability('')).toBe('cleared');
    expect(parseAvailability('{"state":1}')).toBe('unknown');
    expect(parseAvailability('{broken')).toBe('unknown');
    expect(parseAvailability('1', ['1'], ['0'])).toBe('online');
  });
});

describe('payload values', () => {
  it('takes JSON fields, dotted paths, bare numbers and switch states', () => {
    expect(payloadValue('{"temperature":21.5}', 'temperature')).toEqual({ ok: true, value: 21.5 });
    expect(payloadValue('{"ENERGY":{"Power":12}}', 'ENERGY.Power')).toEqual({ ok: true, value: 12 });
    expect(payloadValue('42.5', undefined)).toEqual({ ok: true, value: 42.5 });
    expect(payloadValue('{"state":"ON"}', 'state')).toEqual({ ok: true, value: 1 });
  });

  it('refuses NaN, Infinity, strings, non-JSON and binary by reason', () => {
    expect(payloadValue('NaN', undefined)).toEqual({ ok: false, reason: 'not_number' });
    expect(payloadValue('Infinity', undefined)).toEqual({ ok: false, reason: 'not_number' });
    expect(payloadValue('{"t":"warm"}', 't')).toEqual({ ok: false, reason: 'not_number' });
    expect(payloadValue('{"t":1', 't')).toEqual({ ok: false, reason: 'not_json' });
    expect(payloadValue('\u0000\u00ff\u0010', undefined)).toEqual({ ok: false, reason: 'not_number' });
    expect(payloadValue('{"a":1}', 'b')).toEqual({ ok: false, reason: 'missing' });
  });

  it('matches MQTT topic filters', () => {
    expect(matchTopic('tele/+/LWT', 'tele/plug 1/LWT')).toEqual(['tele', 'plug 1', 'LWT']);
    expect(matchTopic('a/#', 'a/b/c')).toEqual(['a', 'b', 'c']);
    expect(matchTopic('a/+', 'a/b/c')).toBeUndefined();
    expect(matchTopic('a/+/c', 'a/b')).toBeUndefined();
  });
});
