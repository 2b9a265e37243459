/** The driver over podman's Docker API on a TCP socket (Docker hosts over tcp://), not just the unix socket. */
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { CONTAINERS_CONF, containerState, ensureImage, freePort, podman, removeContainers, runWeb } from '../../test/helpers/podman.js';
import { missingToolsMessage } from '../../test/helpers/tools.js';
import { DockerDriver } from './driver.js';

const missing = missingToolsMessage(['podman', 'runc', 'busybox']);
const name = `hs-t-tcp-${process.pid}`;
const cleanups: (() => void)[] = [];

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
afterAll(() => {
  for (const c of cleanups) c();
});

describe.runIf(!missing)('docker driver over tcp://', () => {
  it('finds, restarts and inspects a container through a TCP Docker host', async () => {
    ensureImage();
    const port = await freePort();
    const service = spawn('podman', ['system', 'service', '--time=0', `tcp://127.0.0.1:${port}`], { env: { ...process.env, CONTAINERS_CONF }, stdio: 'ignore' });
    cleanups.push(() => service.kill('SIGTERM'));
    await expect.poll(() => listening(port), { timeout: 15_000 }).toBe(true);
    const web = await runWeb(name);
    cleanups.push(() => removeContainers([name]));
    podman(['stop', '-t', '0', name]);
    const driver = await DockerDriver.connect({ host: `tcp://127.0.0.1:${port}` });
    expect(driver.isPodman).toBe(true);
    const found = await driver.find({ container: name });
    expect(found).toMatchObject({ name, running: false });
    await driver.restart(found!.id, 1000);
    expect(containerState(name).running).toBe(true);
    await expect.poll(async () => (await fetch(web.url).catch(() => undefined))?.status, { timeout: 10_000 }).toBe(200);
    expect(await driver.inspect('no-such-container-here')).toBeUndefined();
  });

  it('puts back the container an interrupted redeploy left parked, and only when its name is free', async () => {
    ensureImage();
    const port = await freePort();
    const service = spawn('podman', ['system', 'service', '--time=0', `tcp://127.0.0.1:${port}`], { env: { ...process.env, CONTAINERS_CONF }, stdio: 'ignore' });
    cleanups.push(() => service.kill('SIGTERM'));
    await expect.poll(() => listening(port), { timeout: 15_000 }).toBe(true);
    const parkedName = `${name}-p`;
    const web = await runWeb(parkedName);
    cleanups.push(() => removeContainers([parkedName]));
    const id = web.id();
    // As redeploy parks the old container before creating the new one.
    podman(['rename', parkedName, `${parkedName}-hs-previous-1795650413212`]);
    const driver = await DockerDriver.connect({ host: `tcp://127.0.0.1:${port}` });
    expect(await driver.restoreParked(parkedName)).toBe(`${parkedName}-hs-previous-1795650413212`);
    expect(containerState(parkedName).id).toBe(id);
    // A second parked copy while the name is taken (the redeploy's new container holds it): left where it is.
    const second = `${parkedName}-hs-previous-1795650999999`;
    await runWeb(second);
    cleanups.push(() => removeContainers([second]));
    expect(await driver.restoreParked(parkedName)).toBeUndefined();
    expect(containerState(parkedName).id).toBe(id);
    expect(containerState(second).running).toBe(true);
  });
});
