/**
 * How the MQTT client reaches its broker. mqtt.js's connect() requires every transport
 * it knows on its first call (WebSocket's ws, and SOCKS with ip-address and
 * smart-buffer): 3 MB of RSS in a process whose broker speaks TCP or TLS (measured:
 * `mqtt` alone 54 MB, with ws and socks 57 MB). For mqtt:// and mqtts:// the client is
 * built with mqtt.js's documented `new MqttClient(streamBuilder, options)` and a
 * socket from here; WebSocket URLs and a SOCKS proxy (MQTTJS_SOCKS_PROXY) still go
 * through connect().
 */
import { createConnection, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';

export interface TlsMaterial {
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

export interface DirectTransport {
  /** Called by the client for each (re)connection. */
  readonly stream: () => Socket;
  /** From the URL's user info, as connect() takes them: they win over the config's. */
  readonly username?: string;
  readonly password?: string;
}

const DEFAULT_PORT = { tcp: 1883, tls: 8883 } as const;

/** A socket builder for a TCP or TLS broker URL; undefined where connect() must build the stream. */
export function directTransport(url: string, tls: TlsMaterial, env: NodeJS.ProcessEnv = process.env): DirectTransport | undefined {
  if (env.MQTTJS_SOCKS_PROXY) return undefined;
  const u = new URL(url);
  const scheme = u.protocol.slice(0, -1);
  const secure = scheme === 'mqtts' || scheme === 'ssl';
  if (!secure && scheme !== 'mqtt' && scheme !== 'tcp') return undefined;
  // WHATWG URL keeps an IPv6 host in brackets; sockets want it bare.
  const host = u.hostname.replace(/^\[(.*)\]$/, '$1') || 'localhost';
  const port = u.port ? Number(u.port) : DEFAULT_PORT[secure ? 'tls' : 'tcp'];
  const stream = secure
    ? () =>
        tlsConnect({
          host,
          port,
          // SNI for a name, not an address (as mqtt.js and browsers do).
          ...(isIP(host) === 0 ? { servername: host } : {}),
          rejectUnauthorized: true,
          ...tls,
        })
    : () => createConnection({ host, port });
  return {
    stream,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
  };
}
