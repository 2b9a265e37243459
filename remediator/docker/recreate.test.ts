import { readFileSync } from 'node:fs';
import type Docker from 'dockerode';
import { describe, expect, it } from 'vitest';
import { recreateOptions } from './recreate.js';

const inspect = JSON.parse(
  readFileSync(new URL('../fixtures/podman-4.3.1__compat-inspect__busybox-httpd.json', import.meta.url), 'utf8'),
) as Docker.ContainerInspectInfo;

describe('recreate options from a recorded podman inspection', () => {
  const o = recreateOptions(inspect, 'hs-rec');

  it('pins the image by the ID that ran', () => {
    expect(o.Image).toBe(inspect.Image);
    expect(o.Image).toBe('sha256:b94afce70bbddeb609db3b2c8efc7583be7a8150b82b6d59c5aca0fc293dbe24');
    expect(o.Image).not.toBe(inspect.Config.Image); // the tag it was started from
  });

  it('keeps the user env and drops what the engine injected', () => {
    expect(o.Env).toEqual(['TZ=Europe/Berlin', 'MQTT_URL=mqtt://broker:1883', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'TERM=xterm']);
  });

  it('rebuilds volumes and binds from Mounts, without the engine-added options', () => {
    expect(o.HostConfig?.Binds).toEqual(['hs-rec-data:/data', '/etc/hostname:/host-hostname:ro']);
  });

  it('keeps ports, restart policy, labels and command; leaves RLIMIT_* ulimits to the engine', () => {
    expect(o.HostConfig?.PortBindings).toEqual({ '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '18081' }] });
    expect(o.HostConfig?.RestartPolicy).toEqual({ Name: 'unless-stopped', MaximumRetryCount: 0 });
    expect(o.HostConfig).not.toHaveProperty('NetworkMode');
    expect(o.HostConfig).not.toHaveProperty('Ulimits');
    expect(o.Labels).toMatchObject({ 'homestation.remediate': 'true', 'com.docker.compose.project': 'home' });
    expect(o.Cmd).toEqual(inspect.Config.Cmd);
    expect(o.name).toBe('hs-rec');
  });
});
