/**
 * Pure: the create options that rebuild a container from its own inspection, for
 * redeploy. Inspect -> create does not round-trip on its own (seen with podman's
 * compat API: Env gains container=podman and HOSTNAME, Binds gain mount options,
 * Ulimits come back as RLIMIT_*, Config.Image loses a digest pin), so each field is
 * carried over deliberately:
 * - the image by its ID (what ran, not what a tag points to now);
 * - volumes and binds from the Mounts list (same named volumes: data is kept);
 * - env without what the engine injected; ports, restart policy, network mode,
 *   labels, command, entrypoint, user, working dir, health check, stop signal.
 */
import type Docker from 'dockerode';

/** Variables the engine sets by itself; passing them back would freeze stale values. */
const INJECTED_ENV = /^(container|HOSTNAME)=/;

export function recreateOptions(info: Docker.ContainerInspectInfo, name: string): Docker.ContainerCreateOptions {
  const c = info.Config;
  const h = info.HostConfig;
  const binds = (info.Mounts ?? [])
    .map((m) => {
      const ro = m.RW === false ? ':ro' : '';
      if (m.Type === 'volume' && m.Name) return `${m.Name}:${m.Destination}${ro}`;
      if (m.Type === 'bind') return `${m.Source}:${m.Destination}${ro}`;
      return undefined;
    })
    .filter((b): b is string => b !== undefined);
  const networkMode = h.NetworkMode && !['default', 'bridge'].includes(h.NetworkMode) ? h.NetworkMode : undefined;
  const host: Docker.HostConfig = {
    Binds: binds,
    PortBindings: h.PortBindings,
    RestartPolicy: h.RestartPolicy,
    ...(networkMode ? { NetworkMode: networkMode } : {}),
    ...(h.Privileged ? { Privileged: true } : {}),
    ...(h.CapAdd?.length ? { CapAdd: h.CapAdd } : {}),
    ...(h.CapDrop?.length ? { CapDrop: h.CapDrop } : {}),
    ...(h.Devices?.length ? { Devices: h.Devices } : {}),
    ...(h.ExtraHosts?.length ? { ExtraHosts: h.ExtraHosts } : {}),
    ...(h.Memory ? { Memory: h.Memory } : {}),
    ...(h.NanoCpus ? { NanoCpus: h.NanoCpus } : {}),
  };
  return {
    name,
    // The image ID that ran, whatever its tag points to now.
    Image: info.Image,
    Cmd: c.Cmd ?? undefined,
    Entrypoint: c.Entrypoint ?? undefined,
    Env: (c.Env ?? []).filter((e) => !INJECTED_ENV.test(e)),
    WorkingDir: c.WorkingDir || undefined,
    User: c.User || undefined,
    Labels: c.Labels ?? {},
    ExposedPorts: c.ExposedPorts,
    Healthcheck: c.Healthcheck,
    StopSignal: (c as { StopSignal?: string }).StopSignal,
    Tty: c.Tty,
    OpenStdin: c.OpenStdin,
    HostConfig: host,
  };
}
