/** A real Mosquitto broker for tests, on a free loopback port, with the config a test needs. */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './podman.js';

export interface Broker {
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  stop(): Promise<void>;
  /** SIGKILL: the broker dies without closing its connections. */
  kill(): Promise<void>;
  /** Starts it again on the same port (a broker restart). */
  restart(): Promise<void>;
}

async function waitPort(port: number): Promise<void> {
  const t0 = Date.now();
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = netConnect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() - t0 > 10_000) throw new Error(`mosquitto did not listen on ${port} in 10 s`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `extra` is appended to the listener's config (auth, TLS). */
/** Files a root-started mosquitto must read (password file, certificates). */
export function readableByBroker(...files: string[]): void {
  for (const f of files) chmodSync(f, 0o644);
}

export async function startMosquitto(extra = 'allow_anonymous true', options: { scheme?: string; port?: number } = {}): Promise<Broker> {
  const dir = mkdtempSync(join(tmpdir(), 'hs-mosquitto-'));
  // Started as root, mosquitto drops to its own user: it must be able to read here.
  chmodSync(dir, 0o755);
  const port = options.port ?? (await freePort());
  const conf = join(dir, 'mosquitto.conf');
  const persistence = /^persistence true$/m.test(extra) ? `persistence_location ${dir}/\n` : 'persistence false\n';
  writeFileSync(conf, `per_listener_settings false\nsys_interval 1\n${persistence}log_dest none\nlistener ${port} 127.0.0.1\n${extra}\n`);
  let child: ChildProcess;
  const launch = async () => {
    child = spawn('mosquitto', ['-c', conf], { stdio: 'ignore' });
    await waitPort(port);
  };
  await launch();
  const end = (signal: NodeJS.Signals) => async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    await new Promise((r) => child.once('exit', r));
  };
  return { port, url: `${options.scheme ?? 'mqtt'}://127.0.0.1:${port}`, dir, stop: end('SIGTERM'), kill: end('SIGKILL'), restart: launch };
}
