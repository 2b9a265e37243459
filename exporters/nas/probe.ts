/**
 * A probe of a mount that may hang: `stat -f` (or a write test) in a child process
 * with a deadline. statfs on a dead NFS/SMB/FUSE mount blocks in the kernel, in
 * uninterruptible sleep: Node's own fs.statfs would hold one of libuv's four
 * thread-pool threads (shared with every file read) until the server answers, and
 * no signal frees a child either. So: one probe in flight per mount and kind; past
 * its deadline the mount is reported unresponsive at once and the child is left to
 * die (SIGKILL is sent, it takes effect when the kernel call returns); until it has,
 * no second child is started for that mount, so children never pile up.
 */
import { spawn, type ChildProcess } from 'node:child_process';

export type ProbeOutcome = { readonly ok: true; readonly stdout: string; readonly ms: number } | { readonly ok: false; readonly why: 'timeout' | 'stuck' | 'failed'; readonly detail: string; readonly ms: number };

export class OneInFlight {
  private child?: ChildProcess;
  private since = 0;

  /** Children started by this slot that have not exited yet (0 or 1). */
  get alive(): number {
    return this.child ? 1 : 0;
  }

  /** How long the child in flight has been running (ms), 0 when none. */
  stuckFor(now = Date.now()): number {
    return this.child ? now - this.since : 0;
  }

  run(command: string, args: readonly string[], deadlineMs: number): Promise<ProbeOutcome> {
    const t0 = Date.now();
    if (this.child) {
      return Promise.resolve({ ok: false, why: 'stuck', detail: `the probe started ${Math.round((t0 - this.since) / 1000)} s ago has not returned`, ms: 0 });
    }
    return new Promise((resolve) => {
      const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      this.child = child;
      this.since = t0;
      let stdout = '';
      let stderr = '';
      let settled = false;
      const settle = (o: ProbeOutcome) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(o);
      };
      child.stdout?.on('data', (c: Buffer) => {
        if (stdout.length < 65536) stdout += c.toString('utf8');
      });
      child.stderr?.on('data', (c: Buffer) => {
        if (stderr.length < 4096) stderr += c.toString('utf8');
      });
      const timer = setTimeout(() => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
        settle({ ok: false, why: 'timeout', detail: `no answer in ${deadlineMs} ms`, ms: Date.now() - t0 });
      }, deadlineMs);
      timer.unref();
      child.once('error', (e) => {
        if (this.child === child) this.child = undefined;
        settle({ ok: false, why: 'failed', detail: `${command} could not be started: ${e.message}`, ms: Date.now() - t0 });
      });
      child.once('close', (code) => {
        if (this.child === child) this.child = undefined;
        if (code === 0) settle({ ok: true, stdout, ms: Date.now() - t0 });
        else settle({ ok: false, why: 'failed', detail: (stderr.trim().split('\n')[0] ?? '') || `exit ${code}`, ms: Date.now() - t0 });
      });
    });
  }

  /** At shutdown: the child (if any) is killed; a stuck one goes when its kernel call returns. */
  kill(): void {
    try {
      if (this.child?.pid !== undefined) process.kill(-this.child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

/** `stat -f --printf` of the fields read, and their parse. */
export const STATFS_FORMAT = '%b %f %a %S %c %d %T\\n';

export interface Statfs {
  readonly sizeBytes: number;
  readonly freeBytes: number;
  readonly availBytes: number;
  readonly files: number;
  readonly filesFree: number;
  readonly type: string;
}

/** Pure: one line of `stat -f --printf '%b %f %a %S %c %d %T\n'`. */
export function parseStatfs(line: string): Statfs | undefined {
  const m = /^(\d+) (\d+) (\d+) (\d+) (\d+) (\d+) (.+)$/.exec(line.trim());
  if (!m) return undefined;
  const [blocks, free, avail, bsize, files, ffree] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  return { sizeBytes: blocks * bsize, freeBytes: free * bsize, availBytes: avail * bsize, files, filesFree: ffree, type: m[7] as string };
}
