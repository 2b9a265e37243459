#!/usr/bin/env node
// FAKE smartctl (smartmontools 7), for tests: answers `--scan-open --json` and
// `--json=c --all -n standby [-d TYPE] DEVICE` from the recorded real outputs in
// exporters/nas/fixtures/smartctl (SOURCE.txt there), exiting with the recorded
// exit_status, as the real one does. Environment:
//   FAKE_SMARTCTL_DEVICES  JSON {"<device>[:<type>]": "<fixture file>"}; the scan lists these
//   FAKE_SMARTCTL_STANDBY  comma-separated devices that are asleep: with -n standby they are not
//                          read ("Device is in STANDBY mode, exit(2)", as smartctl's source prints it)
//   FAKE_SMARTCTL_MODE     normal | hang (ignores SIGTERM) | garbage
//   FAKE_SMARTCTL_COUNT    a file that gets one line per invocation
import { appendFileSync, readFileSync } from 'node:fs';
import { setInterval } from 'node:timers';

const args = process.argv.slice(2);
if (process.env.FAKE_SMARTCTL_COUNT) appendFileSync(process.env.FAKE_SMARTCTL_COUNT, `${args.join(' ')}\n`);
const mode = process.env.FAKE_SMARTCTL_MODE ?? 'normal';
const dir = new URL('../../exporters/nas/fixtures/smartctl/', import.meta.url);
const devices = JSON.parse(process.env.FAKE_SMARTCTL_DEVICES ?? '{}');
const header = { json_format_version: [1, 0], smartctl: { version: [7, 3], argv: ['smartctl', ...args], exit_status: 0 } };

if (mode === 'hang') {
  process.on('SIGTERM', () => {});
  setInterval(() => {}, 1 << 30);
} else if (mode === 'garbage') {
  process.stdout.write('smartctl 7.3: ### not JSON ### <html>\n');
  process.exit(0);
} else if (args.includes('--scan-open')) {
  const list = Object.keys(devices).map((k) => {
    const [name, type] = k.split(':');
    return { name, info_name: name, type: type ?? (name.includes('nvme') ? 'nvme' : 'sat'), protocol: name.includes('nvme') ? 'NVMe' : 'ATA' };
  });
  process.stdout.write(JSON.stringify({ ...header, devices: list }));
  process.exit(0);
} else {
  const name = args[args.length - 1];
  const d = args.indexOf('-d');
  const key = d >= 0 && args[d + 1].includes(',') ? `${name}:${args[d + 1]}` : name;
  const standby = (process.env.FAKE_SMARTCTL_STANDBY ?? '').split(',').includes(name) && args.includes('-n');
  if (standby) {
    process.stdout.write(JSON.stringify({ ...header, smartctl: { ...header.smartctl, messages: [{ string: 'Device is in STANDBY mode, exit(2)', severity: 'information' }], exit_status: 2 } }));
    process.exit(2);
  }
  const file = devices[key];
  if (!file) {
    process.stdout.write(JSON.stringify({ ...header, smartctl: { ...header.smartctl, messages: [{ string: `Smartctl open device: ${name} failed: No such device`, severity: 'error' }], exit_status: 2 } }));
    process.exit(2);
  }
  const text = readFileSync(new URL(file, dir), 'utf8');
  process.stdout.write(text);
  process.exit(JSON.parse(text).smartctl?.exit_status ?? 0);
}
