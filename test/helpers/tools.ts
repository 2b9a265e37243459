/**
 * Tests that need a real tool (restic, borg, promtool) call `requireTools`. In CI
 * (CI=true) a missing tool fails the test with the command that installs it;
 * elsewhere the test is skipped with that same message.
 */
import { spawnSync } from 'node:child_process';

/** Debian package of each tool the tests use. */
export const DEBIAN_PACKAGE: Record<string, string> = {
  restic: 'restic',
  borg: 'borgbackup',
  borgmatic: 'borgmatic',
  promtool: 'prometheus',
  podman: 'podman',
  runc: 'runc',
  busybox: 'busybox-static',
  prometheus: 'prometheus',
  'prometheus-alertmanager': 'prometheus-alertmanager',
  amtool: 'prometheus-alertmanager',
  'prometheus-blackbox-exporter': 'prometheus-blackbox-exporter',
  mosquitto: 'mosquitto',
  mosquitto_passwd: 'mosquitto',
  openssl: 'openssl',
  'prometheus-mqtt-exporter': 'prometheus-mqtt-exporter',
  chromium: 'chromium',
  fusermount3: 'fuse3',
  'python3-fusepy': 'python3-fusepy',
  'dbus-daemon': 'dbus',
  'python3-dbusmock': 'python3-dbusmock',
};

/** "Tools" that are not commands: how to tell they are there. */
const CHECKS: Record<string, string> = {
  'python3-fusepy': "/usr/bin/python3 -c 'import fusepy'",
  'python3-dbusmock': "/usr/bin/python3 -c 'import dbusmock'",
};

export function hasTool(tool: string): boolean {
  return spawnSync('sh', ['-c', CHECKS[tool] ?? `command -v ${tool}`], { stdio: 'ignore' }).status === 0;
}

export function missingToolsMessage(tools: readonly string[]): string | undefined {
  const missing = tools.filter((t) => !hasTool(t));
  if (missing.length === 0) return undefined;
  const pkgs = missing.map((t) => DEBIAN_PACKAGE[t] ?? t).join(' ');
  return `missing ${missing.join(', ')}: run "bash scripts/install-system-deps.sh" (as root it runs apt-get install -y ${pkgs})`;
}

/** Fails (CI) or skips (elsewhere) the running test when a tool is missing. */
export function requireTools(ctx: { skip: (note?: string) => void }, ...tools: string[]): void {
  const message = missingToolsMessage(tools);
  if (!message) return;
  if (process.env.CI === 'true' || process.env.CI === '1') throw new Error(message);
  ctx.skip(message);
}
