import { describe, expect, it } from 'vitest';
import { buildGraph, dependenciesOf, parseComposeDependsOn, restartedWith, startOrder, type ContainerFacts } from './graph.js';
import type { ServiceConfig } from './schema.js';

const svc = (s: Partial<ServiceConfig> & { name: string }): ServiceConfig => ({ recovery_deadline: 60_000, stop_timeout: 10_000, ...s });
const box = (c: Partial<ContainerFacts> & { name: string }): ContainerFacts => ({
  id: `${c.name}-id-0123456789abcdef`,
  host: 'local',
  state: 'running',
  labels: {},
  networkMode: 'bridge',
  volumes: [],
  ...c,
});
const compose = (service: string, dependsOn = '') => ({ 'com.docker.compose.project': 'home', 'com.docker.compose.service': service, 'com.docker.compose.depends_on': dependsOn });

describe('the dependency graph from the engine and the config', () => {
  it("reads compose's depends_on label as compose v2 writes it", () => {
    expect(parseComposeDependsOn('db:service_healthy:false,redis:service_started:true')).toEqual([
      { service: 'db', condition: 'service_healthy', restart: false },
      { service: 'redis', condition: 'service_started', restart: true },
    ]);
    // Containers of services without dependencies carry the label empty.
    expect(parseComposeDependsOn('')).toEqual([]);
  });

  const containers = [
    box({ name: 'home-db-1', labels: compose('db'), volumes: ['home_dbdata'] }),
    box({ name: 'home-app-1', labels: compose('app', 'db:service_healthy:false,cache:service_started:true') }),
    box({ name: 'home-cache-1', labels: compose('cache') }),
    box({ name: 'vpn' }),
    box({ name: 'torrent', networkMode: 'container:vpn-id-0123456789abcdef' }),
    box({ name: 'db-backup', volumes: ['home_dbdata'] }),
    box({ name: 'mosquitto' }),
  ];
  const services = [
    svc({ name: 'app', compose: { project: 'home', service: 'app' } }),
    svc({ name: 'db', compose: { project: 'home', service: 'db' } }),
    svc({ name: 'zigbee2mqtt', container: 'z2m', depends_on: ['mosquitto'] }),
  ];
  const graph = buildGraph(services, containers);

  it('names listed services by their service name, other containers by theirs', () => {
    expect(graph.nodes.find((n) => n.name === 'app')).toMatchObject({ listed: true, container: { name: 'home-app-1' } });
    expect(graph.nodes.find((n) => n.name === 'home-cache-1')).toMatchObject({ listed: false });
    // Listed, but no container now: still a node.
    expect(graph.nodes.find((n) => n.name === 'zigbee2mqtt')).toEqual({ name: 'zigbee2mqtt', listed: true });
  });

  it('takes dependencies from compose labels, network namespaces and the config', () => {
    expect(dependenciesOf(graph, 'app').map((e) => `${e.to}:${e.kind}`)).toEqual(['db:compose', 'home-cache-1:compose']);
    expect(dependenciesOf(graph, 'torrent')).toEqual([{ from: 'torrent', to: 'vpn', kind: 'network', restartWith: true, detail: 'network_mode: container:vpn' }]);
    expect(dependenciesOf(graph, 'zigbee2mqtt').map((e) => `${e.to}:${e.kind}`)).toEqual(['mosquitto:config']);
  });

  it('knows what must be restarted with a service: its network namespace, and compose restart: true', () => {
    expect(restartedWith(graph, 'vpn').map((e) => e.from)).toEqual(['torrent']);
    expect(restartedWith(graph, 'home-cache-1').map((e) => e.from)).toEqual(['app']);
    expect(restartedWith(graph, 'db')).toEqual([]);
  });

  it('records a shared volume without an order', () => {
    expect(graph.edges.filter((e) => e.kind === 'volume')).toEqual([{ from: 'db', to: 'db-backup', kind: 'volume', restartWith: false, detail: 'share volume home_dbdata' }]);
    expect(dependenciesOf(graph, 'db-backup')).toEqual([]);
  });

  it('orders what is needed before what needs it', () => {
    const order = startOrder(graph);
    const before = (a: string, b: string) => order.indexOf(a) < order.indexOf(b);
    expect(before('db', 'app') && before('home-cache-1', 'app') && before('vpn', 'torrent') && before('mosquitto', 'zigbee2mqtt')).toBe(true);
    expect(graph.problems).toEqual([]);
  });

  it('says what it cannot resolve: a missing dependency, a namespace owner gone, a cycle', () => {
    const broken = buildGraph(
      [svc({ name: 'a', container: 'a', depends_on: ['b'] }), svc({ name: 'b', container: 'b', depends_on: ['a'] })],
      [box({ name: 'a' }), box({ name: 'b' }), box({ name: 'x', labels: compose('x', 'gone:service_started:false') }), box({ name: 'y', networkMode: 'container:deadbeef0000' })],
    );
    expect(broken.problems).toEqual([
      'x depends on compose service gone of project home, which has no container on local',
      'y uses the network namespace of container deadbeef0000, which does not exist on local (it has no network until it is created again)',
      'dependency cycle: a -> b -> a',
    ]);
  });
});
