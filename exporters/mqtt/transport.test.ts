/** The MQTT client's own TCP/TLS sockets (transport.ts): which URLs take them, and what that leaves unloaded. */
import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { startMosquitto, type Broker } from '../../test/helpers/mosquitto.js';
import { missingToolsMessage } from '../../test/helpers/tools.js';
import { directTransport } from './transport.js';

const missing = missingToolsMessage(['mosquitto']);
if (missing && process.env.CI) throw new Error(missing);

describe('directTransport', () => {
  it('takes mqtt:// and tcp:// (1883) and mqtts:// and ssl:// (8883); WebSocket URLs go to connect()', () => {
    for (const url of ['mqtt://broker.lan', 'tcp://broker.lan:1884', 'mqtts://broker.lan', 'ssl://10.0.0.2:8884']) expect(directTransport(url, {}, {}), url).toBeDefined();
    for (const url of ['ws://broker.lan:9001/mqtt', 'wss://broker.lan/mqtt']) expect(directTransport(url, {}, {}), url).toBeUndefined();
  });

  it('leaves a SOCKS proxy (MQTTJS_SOCKS_PROXY) to connect()', () => {
    expect(directTransport('mqtt://broker.lan', {}, { MQTTJS_SOCKS_PROXY: 'socks5h://proxy.lan:1080' })).toBeUndefined();
  });

  it('takes credentials from the URL, decoded, as connect() does', () => {
    expect(directTransport('mqtt://home%40lab:p%3Ass@broker.lan', {}, {})).toMatchObject({ username: 'home@lab', password: 'p:ss' });
    const plain = directTransport('mqtt://broker.lan', {}, {});
    expect(plain && 'username' in plain).toBe(false);
  });
});

describe.runIf(!missing)('the client on its own socket, against Mosquitto', () => {
  let broker: Broker | undefined;
  afterEach(async () => {
    await broker?.stop();
    broker = undefined;
  });

  /** In a fresh node: connect, then say which of mqtt.js's optional transports got loaded. */
  function connectAndList(url: string, how: 'direct' | 'connect') {
    const script = `
      import { createRequire } from 'node:module';
      import { once } from 'node:events';
      const { connect, MqttClient } = await import('mqtt');
      const { directTransport } = await import(${JSON.stringify(new URL('./transport.ts', import.meta.url).href.replace('/exporters/', '/dist/exporters/').replace(/\.ts$/, '.js'))});
      const url = ${JSON.stringify(url)};
      const client = ${JSON.stringify(how)} === 'direct' ? new MqttClient(directTransport(url, {}, {}).stream, { reconnectPeriod: 0 }) : connect(url, { reconnectPeriod: 0 });
      const [ack] = await once(client, 'connect');
      const loaded = Object.keys(createRequire(import.meta.url).cache);
      const has = (pkg) => loaded.some((k) => k.includes('/node_modules/' + pkg + '/'));
      console.log(JSON.stringify({ returnCode: ack.returnCode ?? ack.reasonCode ?? 0, ws: has('ws'), socks: has('socks') }));
      await client.endAsync();
    `;
    const res = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', cwd: new URL('../..', import.meta.url).pathname, timeout: 20_000 });
    expect(res.stderr).toBe('');
    return JSON.parse(res.stdout) as { returnCode: number; ws: boolean; socks: boolean };
  }

  it('connects without loading ws or socks, which connect() loads for the same broker', async () => {
    broker = await startMosquitto();
    expect(connectAndList(broker.url, 'direct')).toEqual({ returnCode: 0, ws: false, socks: false });
    expect(connectAndList(broker.url, 'connect')).toEqual({ returnCode: 0, ws: true, socks: true });
  });
});
