#!/usr/bin/env node
// FAKE tegrastats, for tests: prints recorded real lines (exporters/gpu/fixtures/
// tegrastats, see SOURCE.txt there) one per --interval ms, as the real one does, in
// a loop. Environment:
//   FAKE_TEGRASTATS_LINES   a file of lines to replay ('#' lines skipped); default: the Orin JetPack 6 lines
//   FAKE_TEGRASTATS_MODE    normal | die-after=N (exits 1 after N lines) | silent-after=N (then prints
//                           nothing, alive) | garbage (every other line is noise)
//   FAKE_TEGRASTATS_COUNT   a file that gets one line per start
import { appendFileSync, readFileSync } from 'node:fs';
import { setInterval } from 'node:timers';

const args = process.argv.slice(2);
if (process.env.FAKE_TEGRASTATS_COUNT) appendFileSync(process.env.FAKE_TEGRASTATS_COUNT, `${args.join(' ')}\n`);
const i = args.indexOf('--interval');
const interval = i >= 0 ? Number(args[i + 1]) : 1000;
const file = process.env.FAKE_TEGRASTATS_LINES ?? new URL('../../exporters/gpu/fixtures/tegrastats/beszel__agent-gpu_test-jetson-lines.txt', import.meta.url);
const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() && !l.startsWith('#') && l.includes('RAM'));
const mode = process.env.FAKE_TEGRASTATS_MODE ?? 'normal';
const limit = /^(die|silent)-after=(\d+)$/.exec(mode);
let n = 0;
const tick = () => {
  if (limit && n >= Number(limit[2])) {
    if (limit[1] === 'die') process.exit(1);
    return;
  }
  if (mode === 'garbage' && n % 2 === 1) process.stdout.write('@@ not a tegrastats line ~~ 0x1f\n');
  else process.stdout.write(`${lines[n % lines.length]}\n`);
  n += 1;
};
tick();
setInterval(tick, interval);
