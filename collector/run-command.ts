/**
 * Runs an external tool (restic, borg, smartctl, nvidia-smi) the way an exporter
 * must: no shell, no stdin, a bounded output, and killed with its whole process
 * group when the collection is aborted (timeout or shutdown), so that a hung
 * backend never outlives the collection that started it.
 */
import { spawn } from 'node:child_process';
import { ExporterError } from './contract.js';

export interface CommandResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CommandOptions {
  readonly signal: AbortSignal;
  readonly env?: Readonly<Record<string, string>>;
  /** Stops reading and fails past this many bytes of stdout (default 64 MiB). */
  readonly maxOutputBytes?: number;
  /**
   * The polite signal sent first (default SIGTERM). restic and borg release their
   * repository locks on SIGINT, as on Ctrl-C; killed harder they leave stale locks.
   */
  readonly stopSignal?: NodeJS.Signals;
  /** After the polite signal, SIGKILL follows this much later (default 5 s). */
  readonly killGraceMs?: number;
  /** Shown in errors: what to install when the command is missing. */
  readonly installHint?: string;
}

/** Runs `command args...` to completion; rejects with an ExporterError. */
export function runCommand(command: string, args: readonly string[], options: CommandOptions): Promise<CommandResult> {
  const max = options.maxOutputBytes ?? 64 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    if (options.signal.aborted) {
      reject(new ExporterError('timeout', `${command} was not started: the collection was already aborted`));
      return;
    }
    const child = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...options.env },
      // Own process group: on abort the tool and its helpers (ssh, rclone) go together.
      detached: true,
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outBytes = 0;
    let errBytes = 0;
    let failure: ExporterError | undefined;
    let killTimer: NodeJS.Timeout | undefined;

    const killGroup = (sig: NodeJS.Signals) => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, sig);
      } catch {
        // Already gone.
      }
    };
    const stop = (why: ExporterError) => {
      failure ??= why;
      killGroup(options.stopSignal ?? 'SIGTERM');
      killTimer ??= setTimeout(() => killGroup('SIGKILL'), options.killGraceMs ?? 5000);
      killTimer.unref();
    };
    const onAbort = () =>
      stop(
        new ExporterError('timeout', `${command} ${args[0] ?? ''} did not finish in time and was killed`.trim(), {
          hint: 'raise the instance timeout, or look at why the repository or host is slow',
        }),
      );
    options.signal.addEventListener('abort', onAbort, { once: true });

    child.stdout.on('data', (chunk: Buffer) => {
      outBytes += chunk.length;
      if (outBytes > max) stop(new ExporterError('parse', `${command} printed more than ${max} bytes; output refused`));
      else out.push(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      // Keep the first 64 KiB of stderr: enough for any error message.
      if (errBytes < 65536) err.push(chunk);
      errBytes += chunk.length;
    });
    child.on('error', (e: NodeJS.ErrnoException) => {
      options.signal.removeEventListener('abort', onAbort);
      if (e.code === 'ENOENT') {
        reject(
          new ExporterError('command_missing', `${command} was not found`, {
            hint: options.installHint ?? `install ${command} or set the full path of the command in the config`,
          }),
        );
      } else if (e.code === 'EACCES') {
        reject(new ExporterError('command_missing', `${command} is not executable (EACCES)`));
      } else {
        reject(new ExporterError('other', `${command} could not be started: ${e.message}`));
      }
    });
    child.on('close', (code, sig) => {
      options.signal.removeEventListener('abort', onAbort);
      if (killTimer) clearTimeout(killTimer);
      // The group may still hold helpers that kept running after the leader exited.
      if (failure) killGroup('SIGKILL');
      if (failure) {
        reject(failure);
        return;
      }
      resolve({
        code,
        signal: sig,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
}
