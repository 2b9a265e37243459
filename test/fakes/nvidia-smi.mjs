#!/usr/bin/env node
// FAKE nvidia-smi, for tests: answers --help-query-gpu, --query-gpu and
// --query-compute-apps from the recorded real captures in exporters/gpu/fixtures
// (nvidia_gpu_exporter's captures, see SOURCE.txt there), the way the real one does:
// the fields in the order asked, `nounits` strips the units, an unknown field is
// "not a valid field to query" (exit 2). Environment:
//   FAKE_NVIDIA_SMI_MODEL   capture to replay (default nvidia-l40s); FAKE_NVIDIA_SMI_PHASE idle|load
//   FAKE_NVIDIA_SMI_MODE    normal | hang (ignores SIGTERM, never answers) | garbage | nodriver
//   FAKE_NVIDIA_SMI_COUNT   a file that gets one line per invocation
//   FAKE_NVIDIA_SMI_XML     what `-q -x` prints (default: the recorded Tesla T4 report)
import { appendFileSync, readFileSync } from 'node:fs';
import { setInterval } from 'node:timers';

const args = process.argv.slice(2);
if (process.env.FAKE_NVIDIA_SMI_COUNT) appendFileSync(process.env.FAKE_NVIDIA_SMI_COUNT, `${args.join(' ')}\n`);
const mode = process.env.FAKE_NVIDIA_SMI_MODE ?? 'normal';
const dir = new URL('../../exporters/gpu/fixtures/nvidia-smi/', import.meta.url);
const model = process.env.FAKE_NVIDIA_SMI_MODEL ?? 'nvidia-l40s';
const phase = process.env.FAKE_NVIDIA_SMI_PHASE ?? 'load';

if (mode === 'hang') {
  // A driver call that never returns: nvidia-smi stuck in the kernel ignores SIGTERM.
  process.on('SIGTERM', () => {});
  setInterval(() => {}, 1 << 30);
} else if (mode === 'nodriver') {
  process.stdout.write("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.\n\n");
  process.exit(9);
} else if (mode === 'garbage') {
  process.stdout.write('\u0000\u0001 %% Segmentation fault, lots of words, 12 MiB, [weird]\n');
  process.exit(0);
} else {
  if (args.includes('-q') && args.includes('-x')) {
    process.stdout.write(readFileSync(process.env.FAKE_NVIDIA_SMI_XML ?? new URL('../nvidia-xml/telegraf__tesla-t4.xml', dir), 'utf8'));
    process.exit(0);
  }
  const help = args.find((a) => a === '--help-query-gpu');
  if (help) {
    process.stdout.write(readFileSync(new URL(`${model}__help-query-gpu.txt`, dir), 'utf8'));
    process.exit(0);
  }
  const query = args.find((a) => a.startsWith('--query-gpu=') || a.startsWith('--query-compute-apps='));
  const format = (args.find((a) => a.startsWith('--format=')) ?? '--format=csv').slice('--format='.length).split(',');
  if (!query) {
    process.stderr.write('fake nvidia-smi: only -q -x, --help-query-gpu, --query-gpu and --query-compute-apps are faked\n');
    process.exit(2);
  }
  const apps = query.startsWith('--query-compute-apps=');
  const wanted = query.slice(query.indexOf('=') + 1).split(',');
  const capture = readFileSync(new URL(`${model}__${phase}${apps ? '__compute-apps' : ''}.csv`, dir), 'utf8').trim().split('\n');
  const header = capture[0].split(',').map((c) => c.trim().replace(/\s*\[[^\]]*\]$/, ''));
  for (const w of wanted) {
    if (!header.includes(w)) {
      process.stdout.write(`Field "${w}" is not a valid field to query.\n\n`);
      process.exit(2);
    }
  }
  const nounits = format.includes('nounits');
  const out = [];
  if (!format.includes('noheader')) out.push(wanted.join(', '));
  for (const row of capture.slice(1)) {
    const cells = row.split(',').map((c) => c.trim());
    out.push(
      wanted
        .map((w) => {
          const v = cells[header.indexOf(w)] ?? '';
          return nounits ? v.replace(/^(-?\d+(?:\.\d+)?) (%|MiB|W|MHz|us|C)$/, '$1') : v;
        })
        .join(', '),
    );
  }
  process.stdout.write(`${out.join('\n')}\n`);
}
