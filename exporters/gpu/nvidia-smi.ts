/**
 * The discrete-GPU source: `nvidia-smi --query-gpu` once per collection, with the
 * fields the installed driver lists (asked once with --help-query-gpu, again after
 * a driver upgrade refuses a field). Run through runCommand: no shell, bounded
 * output, killed with its process group when the collection times out; and a
 * collection stuck on an nvidia-smi that does not die (a hung driver) holds the
 * instance, so no second nvidia-smi is started beside it (the host's rule for
 * every pull instance).
 */
import type { InstanceContext, Sample } from '../../collector/contract.js';
import { ExporterError } from '../../collector/contract.js';
import { runCommand, type CommandResult } from '../../collector/run-command.js';
import { WarnOnce } from '../../collector/warn-once.js';
import { M } from './metrics.js';
import { chooseFields, COMPUTE_APPS_FIELDS, parseComputeApps, parseHelpQueryGpu, parseQueryGpu, type GpuReading } from './parse/nvidia-smi.js';
import { parseNvidiaSmiXml } from './parse/nvidia-xml.js';
import { migSamples, nvidiaSamples, processSamples } from './samples.js';

export interface NvidiaSmiConfig {
  readonly command: string;
  /** csv: --query-gpu (the default); xml: -q -x, for a driver whose --query-gpu misbehaves. */
  readonly query: 'csv' | 'xml';
  readonly processes: boolean;
  readonly process_budget: number;
  /** While a GPU is in MIG mode, also read its instances (-q -x). */
  readonly mig: boolean;
}

const INSTALL_HINT = 'install the NVIDIA driver utilities (nvidia-smi), or set gpu.nvidia_smi.command to its full path';
const MAX_OUTPUT = 4 * 1024 * 1024;

const firstLine = (r: CommandResult) => (r.stderr.trim() || r.stdout.trim()).split('\n')[0]?.slice(0, 300) ?? '';

/** What a failing nvidia-smi says, as an error with a reason a rule can use. */
function failure(what: string, r: CommandResult): ExporterError {
  const text = `${r.stdout}\n${r.stderr}`;
  if (/couldn't communicate with the NVIDIA driver|No devices were found|Unable to determine the device handle|GPU is lost/i.test(text)) {
    return new ExporterError('unreachable', `${what}: ${firstLine(r)}`, { hint: 'the driver is not loaded or a GPU fell off the bus: see dmesg (Xid errors); a reboot usually brings it back' });
  }
  if (/Insufficient Permissions/i.test(text)) return new ExporterError('auth', `${what}: ${firstLine(r)}`, { hint: 'run HomeStation with access to /dev/nvidia*' });
  return new ExporterError('other', `${what} exited with ${r.code ?? r.signal}: ${firstLine(r)}`);
}

export class NvidiaSmiSource {
  private fields?: { property: string; field: string }[];
  private readonly warned: WarnOnce;

  constructor(
    private readonly ctx: InstanceContext,
    private readonly config: NvidiaSmiConfig,
  ) {
    this.warned = new WarnOnce(ctx.log);
  }

  private run(args: string[], signal: AbortSignal): Promise<CommandResult> {
    return runCommand(this.config.command, args, { signal, maxOutputBytes: MAX_OUTPUT, installHint: INSTALL_HINT, killGraceMs: 2000 });
  }

  private async discover(signal: AbortSignal): Promise<{ property: string; field: string }[]> {
    const r = await this.run(['--help-query-gpu'], signal);
    if (r.code !== 0) throw failure('nvidia-smi --help-query-gpu', r);
    const fields = chooseFields(parseHelpQueryGpu(r.stdout));
    if (!fields.some((f) => f.property === 'index')) {
      throw new ExporterError('parse', `nvidia-smi --help-query-gpu listed no field this exporter reads: ${firstLine(r)}`);
    }
    this.ctx.log.info({ fields: fields.length }, 'nvidia-smi fields found');
    return fields;
  }

  /** Logs each distinct problem once (the parser kept the rest). */
  private report(problems: readonly string[]): void {
    for (const p of problems) this.warned.warn(p, { problem: p }, 'nvidia-smi printed something this exporter does not understand; the rest is kept');
  }

  async collect(signal: AbortSignal): Promise<Sample[]> {
    const samples = this.config.query === 'xml' ? await this.collectXml(signal) : await this.collectCsv(signal);
    const now = this.ctx.now() / 1000;
    samples.push({ metric: M.readingAge, labels: { source: 'nvidia-smi' }, value: now });
    samples.push({ metric: M.unparsed, labels: { source: 'nvidia-smi' }, value: this.problems });
    return samples;
  }

  /** Values the last collection could not read (logged once each). */
  private problems = 0;

  private async collectCsv(signal: AbortSignal): Promise<Sample[]> {
    this.fields ??= await this.discover(signal);
    const names = this.fields.map((f) => f.field);
    const r = await this.run([`--query-gpu=${names.join(',')}`, '--format=csv,noheader,nounits'], signal);
    if (r.code !== 0) {
      // A driver upgraded underneath: ask again which fields it knows, next time.
      if (/is not a valid field to query/i.test(r.stdout + r.stderr)) this.fields = undefined;
      throw failure('nvidia-smi --query-gpu', r);
    }
    const parsed = parseQueryGpu(r.stdout, names);
    this.report(parsed.problems);
    this.problems = parsed.problems.length;
    if (!parsed.gpus.length) {
      throw new ExporterError('parse', `nvidia-smi --query-gpu printed no GPU${parsed.problems.length ? `: ${parsed.problems[0]}` : ''}`);
    }
    const samples = nvidiaSamples(parsed.gpus);
    if (this.config.processes) samples.push(...(await this.processes(parsed.gpus, signal)));
    // MIG instances are only in the XML report: read it while a GPU is in MIG mode.
    if (this.config.mig && parsed.gpus.some((g) => g.values.migMode === 1)) {
      const x = await this.run(['-q', '-x'], signal);
      if (x.code === 0) {
        const xml = parseNvidiaSmiXml(x.stdout);
        this.report(xml.problems);
        samples.push(...migSamples(xml.mig));
      } else this.report([`-q -x: ${firstLine(x)}`]);
    }
    return samples;
  }

  private async collectXml(signal: AbortSignal): Promise<Sample[]> {
    const r = await this.run(['-q', '-x'], signal);
    if (r.code !== 0) throw failure('nvidia-smi -q -x', r);
    const parsed = parseNvidiaSmiXml(r.stdout);
    this.report(parsed.problems);
    this.problems = parsed.problems.length;
    if (!parsed.gpus.length) throw new ExporterError('parse', `nvidia-smi -q -x printed no GPU${parsed.problems.length ? `: ${parsed.problems[0]}` : ''}`);
    return [
      ...nvidiaSamples(parsed.gpus),
      ...migSamples(parsed.mig),
      ...(this.config.processes ? processSamples(parsed.processes, this.config.process_budget) : []),
    ];
  }

  /** GPU memory per process name (bounded by process_budget: the largest names, the rest as "other"). */
  private async processes(gpus: readonly GpuReading[], signal: AbortSignal): Promise<Sample[]> {
    const r = await this.run([`--query-compute-apps=${COMPUTE_APPS_FIELDS.join(',')}`, '--format=csv,noheader,nounits'], signal);
    if (r.code !== 0) {
      this.report([`--query-compute-apps: ${firstLine(r)}`]);
      return [];
    }
    const byUuid = new Map(gpus.map((g) => [g.text.uuid ?? '', g.index]));
    const list = parseComputeApps(r.stdout).flatMap((p) => {
      const gpu = byUuid.get(p.uuid);
      return gpu === undefined ? [] : [{ gpu, process: p.process, ...(p.bytes !== undefined ? { bytes: p.bytes } : {}) }];
    });
    return processSamples(list, this.config.process_budget);
  }
}
