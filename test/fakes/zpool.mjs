#!/usr/bin/env node
// FAKE zpool (OpenZFS), for tests: `zpool status` prints a recorded real `zpool status`
// (exporters/nas/fixtures/zpool, the recording harness's TEST_TIMESTAMP line removed);
// `zpool list -Hp -o COLS` prints the asked columns, tab-separated, of a recorded
// `zpool list -p` (with its header). Environment:
//   FAKE_ZPOOL_STATUS   fixture file name for `status`    FAKE_ZPOOL_LIST  fixture file name for `list`
//   FAKE_ZPOOL_JSON     fixture for `status -j` (OpenZFS 2.3+); unset: an older zpool that refuses -j
//   FAKE_ZPOOL_MODE     normal | hang (ignores SIGTERM) | garbage
//   FAKE_ZPOOL_COUNT    a file that gets one line per invocation
import { appendFileSync, readFileSync } from 'node:fs';
import { setInterval } from 'node:timers';

const args = process.argv.slice(2);
if (process.env.FAKE_ZPOOL_COUNT) appendFileSync(process.env.FAKE_ZPOOL_COUNT, `${args.join(' ')}\n`);
const dir = new URL('../../exporters/nas/fixtures/zpool/', import.meta.url);
const mode = process.env.FAKE_ZPOOL_MODE ?? 'normal';
if (mode === 'hang') {
  process.on('SIGTERM', () => {});
  setInterval(() => {}, 1 << 30);
} else if (mode === 'garbage') {
  process.stdout.write('internal error: Bad file descriptor\n@@@ ### @@@\n');
  process.exit(0);
} else if (args[0] === 'status' && args.includes('-j')) {
  // OpenZFS 2.3+ with FAKE_ZPOOL_JSON; otherwise an older zpool, which refuses -j.
  if (!process.env.FAKE_ZPOOL_JSON) {
    process.stderr.write("invalid option 'j'\nusage:\n\tstatus [-c [script1,script2,...]] [-igLpPstvxD]  [-T d|u] [pool] ... [interval [count]]\n");
    process.exit(2);
  }
  process.stdout.write(readFileSync(new URL(process.env.FAKE_ZPOOL_JSON, dir), 'utf8'));
} else if (args[0] === 'status') {
  const text = readFileSync(new URL(process.env.FAKE_ZPOOL_STATUS ?? 'zpool-status-exporter__input-10-new-pool.txt', dir), 'utf8');
  process.stdout.write(text.replace(/^TEST_TIMESTAMP=.*\n/, ''));
} else if (args[0] === 'list') {
  const lines = readFileSync(new URL(process.env.FAKE_ZPOOL_LIST ?? 'netdata__zfspool-testdata__zpool-list-p.txt', dir), 'utf8').split('\n').filter((l) => l.trim());
  const header = lines[0].trim().split(/\s+/).map((c) => ({ ALLOC: 'allocated', FRAG: 'fragmentation' })[c] ?? c.toLowerCase());
  const o = args[args.indexOf('-o') + 1].split(',');
  for (const l of lines.slice(1)) {
    if (/^\s/.test(l)) continue;
    const cells = l.trim().split(/\s+/);
    process.stdout.write(`${o.map((c) => cells[header.indexOf(c)] ?? '-').join('\t')}\n`);
  }
} else {
  process.stderr.write(`fake zpool: ${args[0]} is not faked\n`);
  process.exit(2);
}
