/**
 * The container engine, through dockerode (Docker, or podman's Docker-compatible
 * API): find a service's container, restart it, redeploy it with a rollback, and
 * run a command inside it. dockerode is loaded only when the remediator runs.
 */
import type Docker from 'dockerode';
import { readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import type { ContainerFacts } from '../graph.js';
import { recreateOptions } from './recreate.js';

export const OPT_IN_LABEL = 'homestation.remediate';
export const COMPOSE_PROJECT = 'com.docker.compose.project';
export const COMPOSE_SERVICE = 'com.docker.compose.service';

export interface ContainerInfo {
  readonly id: string;
  readonly name: string;
  readonly running: boolean;
  readonly paused: boolean;
  readonly state: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Health status where the container has a health check ('' otherwise). */
  readonly health: string;
  /** When its process was last started (ms since the epoch; NaN when never or unknown). */
  readonly startedAt: number;
}

export interface DockerConnection {
  readonly host?: string;
  readonly ca_file?: string;
  readonly cert_file?: string;
  readonly key_file?: string;
}

function connectionOptions(c: DockerConnection): Docker.DockerOptions {
  const target = c.host ?? process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
  const url = new URL(target);
  if (url.protocol === 'unix:') return { socketPath: url.pathname };
  if (url.protocol === 'ssh:') {
    return { protocol: 'ssh', host: url.hostname, port: Number(url.port || 22), username: url.username || undefined };
  }
  const tls = Boolean(c.ca_file || c.cert_file);
  return {
    protocol: tls ? 'https' : 'http',
    host: url.hostname,
    port: Number(url.port || (tls ? 2376 : 2375)),
    ...(c.ca_file ? { ca: readFileSync(c.ca_file) } : {}),
    ...(c.cert_file ? { cert: readFileSync(c.cert_file) } : {}),
    ...(c.key_file ? { key: readFileSync(c.key_file) } : {}),
  };
}

const toInfo = (i: Docker.ContainerInspectInfo): ContainerInfo => ({
  id: i.Id,
  name: i.Name.replace(/^\//, ''),
  running: i.State.Running && !i.State.Paused,
  paused: i.State.Paused,
  state: i.State.Status,
  labels: i.Config.Labels ?? {},
  health: i.State.Health?.Status ?? '',
  // Docker writes 0001-01-01T00:00:00Z for "never"; podman nanoseconds, which Date.parse truncates.
  startedAt: i.State.StartedAt && !i.State.StartedAt.startsWith('0001-') ? Date.parse(i.State.StartedAt) : Number.NaN,
});

/** Where the engine is, for messages: the configured host, DOCKER_HOST, or the default socket. */
export function engineAddress(c: DockerConnection): string {
  return c.host ?? process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
}

/** Where the services of an engine are reached: its tcp:// or ssh:// hostname, else this machine. */
export function engineServiceAddress(c: DockerConnection & { address?: string }): string {
  if (c.address) return c.address;
  const url = new URL(engineAddress(c));
  return url.protocol === 'unix:' ? '127.0.0.1' : url.hostname;
}

export class DockerDriver {
  /** podman's compat API: health checks never run by themselves there. Known once `ping()` has answered. */
  isPodman = false;

  private constructor(
    private readonly docker: Docker,
    /** Where its services are reached: what `{host}` in a probe stands for. */
    readonly address: string,
  ) {}

  /** A driver for the engine at `c`; no I/O yet (an engine that is down is found out by `ping`). */
  static async create(c: DockerConnection & { address?: string }): Promise<DockerDriver> {
    const { default: Dockerode } = await import('dockerode');
    return new DockerDriver(new Dockerode(connectionOptions(c)), engineServiceAddress(c));
  }

  /** Connects and asks the engine what it is; throws when it cannot be reached. */
  static async connect(c: DockerConnection): Promise<DockerDriver> {
    const driver = await DockerDriver.create(c);
    await driver.ping();
    return driver;
  }

  private identified = false;

  /**
   * Throws when the engine is unreachable. The first answer asks its version (and so
   * whether it is podman); later ones `/_ping` (podman's `/version` takes 0.3 s).
   */
  async ping(): Promise<void> {
    if (this.identified) {
      await this.docker.ping();
      return;
    }
    const version = (await this.docker.version()) as { Components?: { Name: string }[] };
    this.isPodman = (version.Components ?? []).some((x) => /podman/i.test(x.Name));
    this.identified = true;
  }

  async inspect(idOrName: string): Promise<ContainerInfo | undefined> {
    try {
      return toInfo(await this.docker.getContainer(idOrName).inspect());
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return undefined;
      throw err;
    }
  }

  /** The options that would create this container again, and its image ID: what a removed one is rebuilt from. */
  async recreateSpec(id: string): Promise<{ options: Docker.ContainerCreateOptions; imageId: string } | undefined> {
    try {
      const info = await this.docker.getContainer(id).inspect();
      return { options: recreateOptions(info, info.Name.replace(/^\//, '')), imageId: info.Image };
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return undefined;
      throw err;
    }
  }

  /**
   * A redeploy cut short (the remediator killed between renaming the old container
   * and verifying the new one) leaves the old one parked as `<name>-hs-previous-<ms>`:
   * when no container has the name any more, the newest parked one is put back.
   * Returns the name put back, if any.
   */
  async restoreParked(name: string): Promise<string | undefined> {
    const list = await this.docker.listContainers({ all: true, filters: { name: [`^/?${name}-hs-previous-`] } });
    const parked = list
      .map((c) => ({ id: c.Id, name: (c.Names[0] ?? '').replace(/^\//, '') }))
      .filter((c) => c.name.startsWith(`${name}-hs-previous-`))
      .sort((a, b) => b.name.localeCompare(a.name))[0];
    if (!parked || (await this.inspect(name))) return undefined;
    await this.docker.getContainer(parked.id).rename({ name });
    return parked.name;
  }

  /** Creates and starts a container from recorded options; its ID. */
  async createFrom(options: Docker.ContainerCreateOptions): Promise<string> {
    const created = await this.docker.createContainer(options);
    await created.start();
    return created.id;
  }

  /** The engine's event stream (container events only; JSON lines). */
  async events(): Promise<NodeJS.ReadableStream> {
    return this.docker.getEvents({ filters: { type: ['container'] } });
  }

  /** The container of a service: by name, or by its compose project/service labels. */
  async find(by: { container?: string; compose?: { project: string; service: string } }): Promise<ContainerInfo | undefined> {
    if (by.container) return this.inspect(by.container);
    if (!by.compose) return undefined;
    const list = await this.docker.listContainers({
      all: true,
      filters: { label: [`${COMPOSE_PROJECT}=${by.compose.project}`, `${COMPOSE_SERVICE}=${by.compose.service}`] },
    });
    const first = list[0];
    return first ? this.inspect(first.Id) : undefined;
  }

  /**
   * Its inspection once no stop is under way: podman reports a container it is still
   * stopping (a stop someone else asked for, such as a remediator killed mid-action) as
   * `stopping`, neither running nor startable. Waits out that stop's grace period.
   */
  private async settled(c: Docker.Container, stopTimeoutMs: number): Promise<Docker.ContainerInspectInfo> {
    const end = Date.now() + stopTimeoutMs + 5000;
    let info = await c.inspect();
    while (info.State.Status === 'stopping' && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 200));
      info = await c.inspect();
    }
    return info;
  }

  /** Stop (with the grace period) and start; a container that had exited is just started. */
  async restart(id: string, stopTimeoutMs: number): Promise<void> {
    const c = this.docker.getContainer(id);
    const info = await this.settled(c, stopTimeoutMs);
    if (info.State.Paused) await c.unpause();
    if (info.State.Running) await c.stop({ t: Math.ceil(stopTimeoutMs / 1000) }).catch(ignoreNotModified);
    await c.start().catch(ignoreNotModified);
  }

  /**
   * Recreates the container from its own configuration under its own name. The old
   * one is stopped and renamed, not removed, until `verify` accepts the new one;
   * otherwise the new one is removed and the old one put back and started.
   */
  async redeploy(
    id: string,
    stopTimeoutMs: number,
    verify: (newId: string) => Promise<boolean>,
    /** Host settings changed on the way (a dependent's network namespace owner, created again). */
    hostPatch: Docker.HostConfig = {},
  ): Promise<{ result: 'recreated' | 'rolled_back'; newId?: string }> {
    const old = this.docker.getContainer(id);
    const info = await this.settled(old, stopTimeoutMs);
    const name = info.Name.replace(/^\//, '');
    const parked = `${name}-hs-previous-${Date.now()}`;
    const recreated = recreateOptions(info, name);
    const options = { ...recreated, HostConfig: { ...recreated.HostConfig, ...hostPatch } };
    if (info.State.Running || info.State.Paused) {
      if (info.State.Paused) await old.unpause();
      await old.stop({ t: Math.ceil(stopTimeoutMs / 1000) }).catch(ignoreNotModified);
    }
    await old.rename({ name: parked });
    let created: Docker.Container | undefined;
    try {
      created = await this.docker.createContainer(options);
      await created.start();
      if (await verify(created.id)) {
        await old.remove({ v: false });
        return { result: 'recreated', newId: created.id };
      }
    } catch {
      // Falls through to the rollback.
    }
    if (created) await created.remove({ force: true, v: false }).catch(() => undefined);
    await old.rename({ name });
    await old.start().catch(ignoreNotModified);
    return { result: 'rolled_back' };
  }

  // --- what a migrate needs: images, volumes and files moved through the Engine API alone ---

  /** The full inspection (a migrate recreates from it), or undefined when there is no such container. */
  async inspectRaw(idOrName: string): Promise<Docker.ContainerInspectInfo | undefined> {
    try {
      return await this.docker.getContainer(idOrName).inspect();
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return undefined;
      throw err;
    }
  }

  async hasImage(id: string): Promise<boolean> {
    try {
      await this.docker.getImage(id).inspect();
      return true;
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return false;
      throw err;
    }
  }

  /** `GET /images/{id}/get`: the image as a docker-archive tar stream. */
  async saveImage(id: string): Promise<Readable> {
    return (await this.docker.getImage(id).get()) as unknown as Readable;
  }

  /** `POST /images/load`; throws with the engine's message when it refuses the archive. */
  async loadImage(tar: Readable): Promise<void> {
    const res = (await this.docker.loadImage(tar)) as unknown as Readable;
    let body = '';
    for await (const chunk of res) body += String(chunk);
    // The engine answers 200 and reports a failure inside the JSON stream.
    const error = body
      .split('\n')
      .filter(Boolean)
      .map((l) => {
        try {
          return (JSON.parse(l) as { error?: string; errorDetail?: { message?: string } }).error;
        } catch {
          return undefined;
        }
      })
      .find(Boolean);
    if (error) throw new Error(`image load refused: ${error}`);
  }

  async volumeExists(name: string): Promise<boolean> {
    try {
      await this.docker.getVolume(name).inspect();
      return true;
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode === 404) return false;
      throw err;
    }
  }

  async createVolume(name: string, labels: Record<string, string>): Promise<void> {
    await this.docker.createVolume({ Name: name, Labels: labels });
  }

  async removeVolume(name: string): Promise<void> {
    await this.docker.getVolume(name).remove();
  }

  /** Creates a container without starting it; its ID. */
  async create(options: Docker.ContainerCreateOptions): Promise<string> {
    return (await this.docker.createContainer(options)).id;
  }

  async start(id: string): Promise<void> {
    await this.docker.getContainer(id).start().catch(ignoreNotModified);
  }

  /** Stops it if it runs (unpausing a paused one first). */
  async stop(id: string, stopTimeoutMs: number): Promise<void> {
    const c = this.docker.getContainer(id);
    const info = await this.settled(c, stopTimeoutMs);
    if (info.State.Paused) await c.unpause();
    if (info.State.Running || info.State.Paused) await c.stop({ t: Math.ceil(stopTimeoutMs / 1000) }).catch(ignoreNotModified);
  }

  /** Removes a container (never its volumes). */
  async remove(id: string): Promise<void> {
    await this.docker.getContainer(id).remove({ force: true, v: false });
  }

  async rename(id: string, name: string): Promise<void> {
    await this.docker.getContainer(id).rename({ name });
  }

  /** `GET /containers/{id}/archive`: a tar of what is at `path` in the container (its volumes included, stopped or not). */
  async getArchive(id: string, path: string): Promise<Readable> {
    return (await this.docker.getContainer(id).getArchive({ path })) as unknown as Readable;
  }

  /** `PUT /containers/{id}/archive`: unpacks a tar at `path` in the container. */
  async putArchive(id: string, path: string, tar: Readable): Promise<void> {
    await this.docker.getContainer(id).putArchive(tar as unknown as NodeJS.ReadableStream, { path });
  }

  /** Containers carrying a label (`key=value`), running or not. */
  async withLabel(label: string): Promise<{ id: string; name: string }[]> {
    const list = await this.docker.listContainers({ all: true, filters: { label: [label] } });
    return list.map((c) => ({ id: c.Id, name: (c.Names[0] ?? '').replace(/^\//, '') }));
  }

  /**
   * Every container with what the dependency graph needs of it. One inspect each:
   * podman's list (4.3) carries no HostConfig, so no network mode.
   */
  async containerFacts(host: string): Promise<ContainerFacts[]> {
    const list = await this.docker.listContainers({ all: true });
    const facts = await Promise.all(
      list.map(async (c): Promise<ContainerFacts | undefined> => {
        const i = await this.docker
          .getContainer(c.Id)
          .inspect()
          .catch(() => undefined);
        if (!i) return undefined; // Removed meanwhile.
        return {
          id: i.Id,
          name: i.Name.replace(/^\//, ''),
          host,
          state: i.State.Status,
          labels: i.Config.Labels ?? {},
          networkMode: i.HostConfig.NetworkMode ?? '',
          volumes: (i.Mounts ?? []).filter((m) => m.Type === 'volume' && m.Name).map((m) => m.Name as string),
        };
      }),
    );
    return facts.filter((f): f is ContainerFacts => f !== undefined);
  }

  /** Runs a command inside the container; resolves with its exit code. */
  async exec(id: string, cmd: string[], timeoutMs: number): Promise<number> {
    const exec = await this.docker.getContainer(id).exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true });
    const stream = await exec.start({ hijack: true, stdin: false });
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        stream.destroy();
        resolve();
      }, timeoutMs);
      stream.on('end', () => {
        clearTimeout(timer);
        resolve();
      });
      stream.on('error', () => resolve());
      stream.resume();
    });
    const result = await exec.inspect();
    return result.Running ? -1 : (result.ExitCode ?? -1);
  }
}

/** 304: already stopped / already started. */
function ignoreNotModified(err: unknown): void {
  if ((err as { statusCode?: number }).statusCode !== 304) throw err;
}
