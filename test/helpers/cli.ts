/** Runs the built CLI (dist/) as a user would. */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The built CLI: from test/helpers/, or from dist/test/helpers/ itself (the benches). */
export const CLI = ['../../dist/collector/cli.js', '../../collector/cli.js'].map((rel) => fileURLToPath(new URL(rel, import.meta.url))).find((p) => existsSync(p)) ?? fileURLToPath(new URL('../../dist/collector/cli.js', import.meta.url));

export function assertBuilt(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run "npm run build" first (npm test does)`);
}

/**
 * The CLI's `#!/usr/bin/env -S [NAME=VALUE ...] node FLAGS` line: the environment
 * (glibc's malloc tunables) and V8 flags a user's `homestation` runs with (the image
 * and `npm start` repeat them; a test checks that they agree). The tests and benches
 * start the CLI with them too.
 */
export function shippedLaunch(): { env: Record<string, string>; flags: string[] } {
  assertBuilt();
  const first = readFileSync(CLI, 'utf8').split('\n', 1)[0] ?? '';
  const m = /^#!\/usr\/bin\/env (?:-S )?((?:[A-Z_]+=\S* )*)node(.*)$/.exec(first);
  if (!m) throw new Error(`${CLI}: unexpected first line ${JSON.stringify(first)}`);
  const env = Object.fromEntries((m[1] as string).split(' ').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  return { env, flags: (m[2] as string).split(' ').filter(Boolean) };
}

export const shippedNodeFlags = (): string[] => shippedLaunch().flags;

/** The environment a user's `homestation` would run in, given the caller's and `extra`. */
export function shippedEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  return { ...process.env, ...shippedLaunch().env, ...extra };
}

export function runCli(args: string[], env: Record<string, string> = {}) {
  assertBuilt();
  const res = spawnSync(process.execPath, [...shippedNodeFlags(), CLI, ...args], { encoding: 'utf8', env: shippedEnv(env), timeout: 60_000 });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

export interface Daemon {
  readonly child: ChildProcessWithoutNullStreams;
  readonly url: string;
  readonly logs: Record<string, unknown>[];
  /** Sends SIGTERM and resolves with the exit code and how long the shutdown took. */
  stop(): Promise<{ code: number | null; ms: number }>;
}

/** Starts `homestation run` (or `command`) and resolves once it says where it listens. */
export function startDaemon(
  args: string[],
  env: Record<string, string> = {},
  options: { command?: string; ready?: RegExp } = {},
): Promise<Daemon> {
  assertBuilt();
  const ready = options.ready ?? /^HomeStation listening/;
  const child = spawn(process.execPath, [...shippedNodeFlags(), CLI, options.command ?? 'run', ...args], { env: shippedEnv(env), stdio: 'pipe' });
  const logs: Record<string, unknown>[] = [];
  let buffer = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line in 20 s: ${JSON.stringify(logs)}`)), 20_000);
    child.stderr.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        try {
          const entry = JSON.parse(line) as Record<string, unknown>;
          logs.push(entry);
          if (typeof entry.url === 'string' && ready.test(String(entry.msg))) {
            clearTimeout(timer);
            resolve({
              child,
              url: entry.url.replace('0.0.0.0', '127.0.0.1'),
              logs,
              stop: () =>
                new Promise((done) => {
                  const t0 = Date.now();
                  child.once('exit', (code) => done({ code, ms: Date.now() - t0 }));
                  child.kill('SIGTERM');
                }),
            });
          }
        } catch {
          logs.push({ raw: line });
        }
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`homestation exited with ${code} before listening: ${JSON.stringify(logs)}`));
    });
  });
}
