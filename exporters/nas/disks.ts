/**
 * Disks through smartctl, on their own schedule (default every 30 min), in the
 * background: a collection never waits for a disk. Each disk is read with
 * `-n standby`, so one that sleeps is left asleep (its last reading stays, marked
 * standby); one at a time, each bounded (its process group killed past the
 * deadline). Devices come from the config or from `smartctl --scan-open --json`.
 */
import type { InstanceContext, Sample } from '../../collector/contract.js';
import { ExporterError } from '../../collector/contract.js';
import { runCommand } from '../../collector/run-command.js';
import { WarnOnce } from '../../collector/warn-once.js';
import { diskLabel, parseScan, parseSmartctl, type DiskReading } from './parse/smartctl.js';
import { M } from './metrics.js';
import { diskSamples } from './samples.js';

export interface DisksConfig {
  readonly enabled: boolean;
  readonly command: string;
  /** Listed devices; empty: what `smartctl --scan-open` finds. */
  readonly devices: readonly { readonly name: string; readonly type?: string }[];
  /** Milliseconds between polls. */
  readonly interval: number;
  /** Milliseconds one smartctl may take. */
  readonly timeout: number;
}

const INSTALL = 'install smartmontools (7.0 or later for --json), or set nas.disks.command to its path';

export class DiskPoller {
  private readonly readings = new Map<string, { reading: DiskReading; at: number; standby: boolean }>();
  private timer?: NodeJS.Timeout;
  private polling = false;
  private stopped = false;
  private error?: ExporterError;
  private readonly warned: WarnOnce;

  constructor(
    private readonly ctx: InstanceContext,
    private readonly config: DisksConfig,
  ) {
    this.warned = new WarnOnce(ctx.log);
  }

  start(): void {
    const tick = () => void this.poll();
    tick();
    this.timer = setInterval(tick, this.config.interval);
    this.timer.unref();
  }

  private say(problem: string): void {
    this.warned.warn(problem, { problem }, 'smartctl');
  }

  private async run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.config.timeout);
    try {
      return await runCommand(this.config.command, args, { signal: controller.signal, installHint: INSTALL, killGraceMs: 2000, maxOutputBytes: 8 * 1024 * 1024 });
    } finally {
      clearTimeout(timer);
    }
  }

  /** One round over the devices, one at a time; a round still running is not doubled. */
  async poll(): Promise<void> {
    if (this.polling || this.stopped) return;
    this.polling = true;
    try {
      let devices = this.config.devices;
      if (!devices.length) {
        const scan = await this.run(['--scan-open', '--json']);
        devices = parseScan(scan.stdout);
        if (!devices.length) this.say(`smartctl --scan-open found no device${scan.stderr.trim() ? `: ${scan.stderr.trim().split('\n')[0]}` : ''}`);
      }
      for (const dev of devices) {
        if (this.stopped) return;
        await this.readOne(dev.name, dev.type);
      }
      this.error = undefined;
    } catch (err) {
      this.error = err instanceof ExporterError ? err : new ExporterError('other', (err as Error).message);
      this.say(this.error.message);
      // Counted by reason (command_missing, timeout...) though the mounts and arrays go on.
      this.ctx.reportError(this.error);
    } finally {
      this.polling = false;
    }
  }

  private async readOne(name: string, type: string | undefined): Promise<void> {
    const label = diskLabel(name, type);
    const args = ['--json=c', '--all', '-n', 'standby', ...(type && type !== 'auto' ? ['-d', type] : []), name];
    let r;
    try {
      r = await this.run(args);
    } catch (err) {
      if ((err as ExporterError).reason === 'command_missing') throw err;
      this.say(`${label}: ${(err as Error).message}`);
      if (err instanceof ExporterError) this.ctx.reportError(err);
      return;
    }
    let reading: DiskReading;
    try {
      reading = parseSmartctl(r.stdout);
    } catch (err) {
      this.say(`${label}: smartctl printed something this exporter does not understand (${(err as Error).message}); other disks are kept`);
      this.ctx.reportError(new ExporterError('parse', `${label}: ${(err as Error).message}`));
      return;
    }
    const prev = this.readings.get(label);
    if (reading.standby) {
      // Left asleep: the last reading stays, marked standby; a disk never read yet shows what it can.
      this.readings.set(label, prev ? { ...prev, standby: true } : { reading: { ...reading, disk: label }, at: this.ctx.now(), standby: true });
      return;
    }
    for (const e of reading.errors) this.say(`${label}: ${e}`);
    this.readings.set(label, { reading: { ...reading, disk: label }, at: this.ctx.now(), standby: false });
  }

  /** The readings, and whether the last round could run smartctl at all (its error is logged once). */
  samples(): Sample[] {
    return [
      ...[...this.readings.values()].flatMap((x) => diskSamples(x.reading, x.at, x.standby)),
      { metric: M.smartctlUp, value: this.error ? 0 : 1 },
    ];
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }
}
