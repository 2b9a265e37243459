/**
 * The recovery check: the container is running, its health check says healthy
 * where the engine runs one, and the service's own probe (HTTP, TCP or a command
 * inside the container) passes, twice in a row, within a deadline.
 */
import { connect } from 'node:net';
import type { DockerDriver } from './docker/driver.js';
import type { ProbeConfig, ServiceConfig } from './schema.js';

export interface CheckResult {
  readonly ok: boolean;
  readonly detail: string;
  /** Known hung: paused (frozen), or running but its probe got no answer in time. */
  readonly hung?: boolean;
}

/** `{host}` in a probe: where the engine running the service is reached (a migrated service's probe follows it). */
const onHost = (text: string, driver: DockerDriver): string => text.replaceAll('{host}', driver.address);

async function probeOnce(driver: DockerDriver, containerId: string, written: ProbeConfig): Promise<CheckResult> {
  const probe: ProbeConfig = {
    ...written,
    ...(written.http ? { http: { ...written.http, url: onHost(written.http.url, driver) } } : {}),
    ...(written.tcp ? { tcp: { ...written.tcp, host: onHost(written.tcp.host, driver) } } : {}),
  };
  if (probe.http) {
    try {
      const res = await fetch(probe.http.url, { signal: AbortSignal.timeout(probe.timeout), redirect: 'manual' });
      await res.body?.cancel();
      const ok = probe.http.expect_status ? probe.http.expect_status.includes(res.status) : res.status >= 200 && res.status < 400;
      return { ok, detail: `GET ${probe.http.url}: ${res.status}` };
    } catch (err) {
      const timedOut = (err as Error).name === 'TimeoutError';
      return { ok: false, detail: `GET ${probe.http.url}: ${timedOut ? 'timed out' : (err as Error).message}`, hung: timedOut };
    }
  }
  if (probe.tcp) {
    const { host, port } = probe.tcp;
    return new Promise((resolve) => {
      const socket = connect({ host, port });
      const done = (r: CheckResult) => {
        socket.destroy();
        resolve(r);
      };
      socket.setTimeout(probe.timeout, () => done({ ok: false, detail: `tcp ${host}:${port}: timed out`, hung: true }));
      socket.once('connect', () => done({ ok: true, detail: `tcp ${host}:${port}: connected` }));
      socket.once('error', (err) => done({ ok: false, detail: `tcp ${host}:${port}: ${err.message}` }));
    });
  }
  if (probe.exec) {
    try {
      const code = await driver.exec(containerId, probe.exec, probe.timeout);
      return { ok: code === 0, detail: `exec ${probe.exec.join(' ')}: ${code === -1 ? 'timed out' : `exit ${code}`}`, hung: code === -1 };
    } catch (err) {
      return { ok: false, detail: `exec ${probe.exec.join(' ')}: ${(err as Error).message}` };
    }
  }
  return { ok: true, detail: 'no probe configured' };
}

/** One check of the service's container. */
export async function checkOnce(driver: DockerDriver, service: ServiceConfig, containerId: string): Promise<CheckResult> {
  const info = await driver.inspect(containerId);
  if (!info) return { ok: false, detail: 'container not found' };
  if (!info.running) return { ok: false, detail: `container is ${info.paused ? 'paused' : info.state}`, hung: info.paused };
  // podman's compat API runs no health checks by itself (State.Health stays
  // "starting"): there the service's own probe is the check.
  if (!driver.isPodman && info.health && info.health !== 'healthy') {
    return { ok: false, detail: `health: ${info.health}` };
  }
  return service.probe ? probeOnce(driver, containerId, service.probe) : { ok: true, detail: `container is ${info.state}` };
}

/** Polls until two checks in a row pass, or the deadline passes. */
export async function waitForRecovery(
  driver: DockerDriver,
  service: ServiceConfig,
  containerId: string,
  deadlineMs: number,
  intervalMs = 500,
): Promise<CheckResult> {
  const end = Date.now() + deadlineMs;
  let passes = 0;
  let last: CheckResult = { ok: false, detail: 'not checked' };
  while (Date.now() < end) {
    last = await checkOnce(driver, service, containerId);
    passes = last.ok ? passes + 1 : 0;
    if (passes >= 2) return last;
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  return { ok: false, detail: `not recovered within ${deadlineMs} ms: ${last.detail}` };
}
