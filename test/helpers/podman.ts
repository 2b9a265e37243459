/**
 * A real container engine for the remediator's tests: podman serving the Docker
 * API on a private socket (dockerode talks to it like to Docker), with the
 * project's containers.conf, and a busybox image imported from busybox-static
 * (no registry is reachable). Containers are made with the podman CLI, as a user
 * would have made them with docker run.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, copyFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import { missingToolsMessage } from './tools.js';

export const IMAGE = 'localhost/hs-busybox:test';
/** The project's containers.conf, from test/helpers/ or from its build in dist/test/helpers/. */
export const CONTAINERS_CONF = ['../podman/containers.conf', '../../../test/podman/containers.conf']
  .map((rel) => fileURLToPath(new URL(rel, import.meta.url)))
  .find((p) => existsSync(p)) as string;
const env = () => ({ ...process.env, CONTAINERS_CONF });

export function podman(args: string[], input?: string): string {
  return execFileSync('podman', args, { env: env(), encoding: 'utf8', input, stdio: ['pipe', 'pipe', 'pipe'] }).trim();
}

/** Imports the busybox image once per machine. */
export function ensureImage(): void {
  try {
    podman(['image', 'exists', IMAGE]);
    return;
  } catch {
    // Not there yet.
  }
  const dir = mkdtempSync(join(tmpdir(), 'hs-rootfs-'));
  const bin = join(dir, 'rootfs', 'bin');
  mkdirSync(bin, { recursive: true });
  const busybox = ['/bin/busybox', '/usr/bin/busybox'].find((p) => existsSync(p));
  if (!busybox) throw new Error('busybox is missing: apt-get install busybox-static');
  copyFileSync(busybox, join(bin, 'busybox'));
  for (const c of ['sh', 'sleep', 'echo', 'httpd', 'nc', 'wget', 'cat', 'kill', 'ls', 'mkdir', 'test', 'touch', 'rm']) {
    symlinkSync('busybox', join(bin, c));
  }
  execFileSync('tar', ['-C', join(dir, 'rootfs'), '-cf', join(dir, 'rootfs.tar'), '.']);
  podman(['import', '-q', join(dir, 'rootfs.tar'), IMAGE]);
  rmSync(dir, { recursive: true, force: true });
}

export interface PodmanService {
  readonly socket: string;
  readonly dockerHost: string;
  stop(): Promise<void>;
}

/** The podman CLI on another storage root (another "host"; see startPodmanService's `root`). */
/** podman's output, or why it failed: for diagnostics in an error message. */
function podmanTry(args: string[]): string {
  try {
    return podman(args);
  } catch (e) {
    return `(podman ${args[0]} failed: ${(e as Error).message.split('\n')[0]})`;
  }
}

export function podmanAt(root: string | undefined, args: string[], input?: string): string {
  return podman(root ? ['--root', join(root, 'storage'), '--runroot', join(root, 'run'), ...args] : args, input);
}

/**
 * Starts `podman system service` on a private socket. `socket`: where to serve the
 * API (a path a test named before the engine started). `root`: a storage root of
 * its own, so that it is another, independent host (no images, containers or
 * volumes shared with the default one): how migrations are tested on one machine.
 */
export async function startPodmanService(options: { socket?: string; root?: string } = {}): Promise<PodmanService> {
  if (!options.root) ensureImage();
  const dir = mkdtempSync(join(tmpdir(), 'hs-podman-'));
  const socket = options.socket ?? join(dir, 'podman.sock');
  // A host started again on the socket it had (its directory went with it).
  mkdirSync(dirname(socket), { recursive: true });
  const rootArgs = options.root ? ['--root', join(options.root, 'storage'), '--runroot', join(options.root, 'run')] : [];
  const child: ChildProcess = spawn('podman', [...rootArgs, 'system', 'service', '--time=0', `unix://${socket}`], { env: env(), stdio: 'ignore' });
  const t0 = Date.now();
  while (!existsSync(socket)) {
    if (Date.now() - t0 > 20_000) throw new Error('podman system service did not create its socket in 20 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  let stopped = false;
  return {
    socket,
    dockerHost: `unix://${socket}`,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
      rmSync(dir, { recursive: true, force: true });
      rmSync(socket, { force: true });
      // The directory of a socket named again after its first engine's stop.
      if (basename(dirname(socket)).startsWith('hs-podman-')) rmSync(dirname(socket), { recursive: true, force: true });
    },
  };
}

/** Whether a container or volume of that name exists on the engine of `root` (undefined: the default one). */
export function existsAt(root: string | undefined, kind: 'container' | 'volume', name: string): boolean {
  try {
    podmanAt(root, [kind, 'exists', name]);
    return true;
  } catch {
    return false;
  }
}

/** Removes everything of a storage root made for another "host": its containers, volumes, images, then the directory. */
export function removeRoot(root: string): void {
  // Not `system reset`: it also resets the lock segment the default storage shares, under the tests running beside.
  for (const args of [['rm', '-af', '-t', '0'], ['volume', 'rm', '-af'], ['rmi', '-af']]) {
    try {
      podmanAt(root, args);
    } catch {
      // Nothing there, or already reset.
    }
  }
  rmSync(root, { recursive: true, force: true });
}

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/**
 * A port held open until `release()`: tests that must name a port in a config long
 * before a container publishes it keep other processes from taking it meanwhile.
 */
export async function reservePort(): Promise<{ port: number; release(): Promise<void> }> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as { port: number };
  return { port, release: () => new Promise((r) => srv.close(() => r())) };
}

export interface WebContainer {
  readonly name: string;
  readonly port: number;
  readonly url: string;
  id(): string;
}

/**
 * A busybox httpd serving /www (index.html = "ok") on 127.0.0.1:PORT, optionally
 * with the opt-in label and a named volume on /data.
 */
export async function runWeb(
  name: string,
  options: { optIn?: boolean; volume?: string; labels?: Record<string, string>; port?: number | { port: number; release(): Promise<void> }; ignoreTerm?: boolean; restart?: 'always' | 'unless-stopped' | 'on-failure' } = {},
): Promise<WebContainer> {
  let port: number;
  if (typeof options.port === 'object') {
    port = options.port.port;
    await options.port.release(); // held until now, so nobody else took it
  } else port = options.port ?? (await freePort());
  const args = ['run', '-d', '--name', name, '-p', `127.0.0.1:${port}:80`];
  if (options.optIn ?? true) args.push('--label', 'homestation.remediate=true');
  for (const [k, v] of Object.entries(options.labels ?? {})) args.push('--label', `${k}=${v}`);
  if (options.volume) args.push('-v', `${options.volume}:/data`);
  if (options.restart) args.push('--restart', options.restart);
  // ignoreTerm: a service that only dies by SIGKILL, so that a stop takes its whole grace period.
  const start = options.ignoreTerm
    ? 'mkdir -p /www && echo ok > /www/index.html && trap "" TERM && httpd -f -p 80 -h /www & trap "" TERM; while true; do sleep 1; done'
    : 'mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 80 -h /www';
  args.push(IMAGE, 'sh', '-c', start);
  podman(args);
  const url = `http://127.0.0.1:${port}/`;
  const t0 = Date.now();
  for (;;) {
    try {
      if ((await fetch(url, { signal: AbortSignal.timeout(1000) })).ok) break;
    } catch {
      // Not up yet.
    }
    // 30 s: a rootless port forward has been seen to take over 15 s on a loaded 2-core CI machine.
    if (Date.now() - t0 > 30_000) {
      const state = podmanTry(['inspect', '--format', '{{.State.Status}} {{.State.Error}}', name]);
      const logs = podmanTry(['logs', '--tail', '20', name]);
      throw new Error(`${name} did not serve ${url} in 30 s (container: ${state}; logs: ${logs})`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { name, port, url, id: () => podman(['inspect', '--format', '{{.Id}}', name]) };
}

/** Removes the containers, and what a redeploy cut short left of them (`<name>-hs-previous-*`). */
export function removeContainers(names: readonly string[]): void {
  for (const n of names) {
    let parked: string[] = [];
    try {
      parked = podman(['ps', '-a', '--format', '{{.Names}}', '--filter', `name=^${n}-hs-previous-`]).split('\n').filter(Boolean);
    } catch {
      // No engine: nothing to remove.
    }
    for (const c of [n, ...parked]) {
      try {
        podman(['rm', '-f', '-t', '0', c]);
      } catch {
        // Already gone.
      }
    }
  }
}

export function containerState(name: string): { running: boolean; startedAt: string; id: string } {
  const [running, startedAt, id] = podman(['inspect', '--format', '{{.State.Running}}|{{.State.StartedAt}}|{{.Id}}', name]).split('|') as [string, string, string];
  return { running: running === 'true', startedAt, id };
}

/**
 * The usual set-up of a podman test file: the engine and a temp dir before all
 * tests, removed after (with the named containers). In CI a missing engine fails
 * the file; elsewhere `missing` says why the tests are skipped.
 */
export function podmanSuite(prefix: string, containers: () => readonly string[]): { readonly missing: string | undefined; engine(): PodmanService; dir(): string } {
  const missing = missingToolsMessage(['podman', 'runc', 'busybox']);
  let engine: PodmanService | undefined;
  let dir: string | undefined;
  beforeAll(async () => {
    if (missing) {
      if (process.env.CI === 'true') throw new Error(missing);
      return;
    }
    engine = await startPodmanService();
    dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  }, 60_000);
  afterAll(async () => {
    if (missing) return;
    removeContainers(containers());
    await engine?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 60_000);
  return { missing, engine: () => engine as PodmanService, dir: () => dir as string };
}
