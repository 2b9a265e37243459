/**
 * Pure: the dependency graph of the services, from what the engine already knows
 * and the config. Edges point from a dependent to what it needs:
 * - `config`: a service's `depends_on`;
 * - `compose`: compose's `com.docker.compose.depends_on` label
 *   (`service:condition:restart`, comma-separated, within the same project);
 * - `network`: `network_mode: container:X` (it lives in X's network namespace, so it
 *   must be restarted when X is, and created again when X is);
 * - `volume`: two containers mounting one named volume (no order; a migrate must
 *   not split them).
 * A node is a listed service by its name, else a container by its name.
 */
import { COMPOSE_PROJECT, COMPOSE_SERVICE } from './docker/driver.js';
import type { ServiceConfig } from './schema.js';

export const COMPOSE_DEPENDS_ON = 'com.docker.compose.depends_on';

/** What the graph needs of a container (from the engine's container list). */
export interface ContainerFacts {
  readonly id: string;
  readonly name: string;
  readonly host: string;
  readonly state: string;
  readonly labels: Readonly<Record<string, string>>;
  /** HostConfig.NetworkMode: `bridge`, `host`, `container:<id or name>`, ... */
  readonly networkMode: string;
  /** Named volumes it mounts. */
  readonly volumes: readonly string[];
}

export type EdgeKind = 'config' | 'compose' | 'network' | 'volume';

export interface Edge {
  /** The dependent. */
  readonly from: string;
  /** What it needs. */
  readonly to: string;
  readonly kind: EdgeKind;
  /** Restarted after `to` is acted on: a shared network namespace, or compose's `restart: true`. */
  readonly restartWith: boolean;
  readonly detail: string;
}

export interface GraphNode {
  readonly name: string;
  /** Listed under remediator.services. */
  readonly listed: boolean;
  readonly container?: ContainerFacts;
}

export interface Graph {
  readonly nodes: readonly GraphNode[];
  readonly edges: readonly Edge[];
  /** Things the graph cannot resolve: a dependency on a container that does not exist, cycles. */
  readonly problems: readonly string[];
}

/** The listed service a container is, by container name or compose project/service. */
function serviceOfContainer(c: ContainerFacts, services: readonly ServiceConfig[]): string | undefined {
  return services.find(
    (s) => s.container === c.name || (s.compose && c.labels[COMPOSE_PROJECT] === s.compose.project && c.labels[COMPOSE_SERVICE] === s.compose.service),
  )?.name;
}

/** Entries of compose's depends_on label: `db:service_healthy:false,redis:service_started:true`. */
export function parseComposeDependsOn(label: string | undefined): { service: string; condition: string; restart: boolean }[] {
  if (!label) return [];
  return label
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)
    .map((e) => {
      const [service = '', condition = 'service_started', restart = 'false'] = e.split(':');
      return { service, condition, restart: restart === 'true' };
    });
}

export function buildGraph(services: readonly ServiceConfig[], containers: readonly ContainerFacts[]): Graph {
  const nodeName = new Map<string, string>(); // container id -> node name
  const byName = new Map<string, ContainerFacts>();
  for (const c of containers) {
    nodeName.set(c.id, serviceOfContainer(c, services) ?? c.name);
    byName.set(`${c.host}/${c.name}`, c);
  }
  const nodes = new Map<string, GraphNode>();
  for (const s of services) nodes.set(s.name, { name: s.name, listed: true });
  for (const c of containers) {
    const name = nodeName.get(c.id) as string;
    const existing = nodes.get(name);
    // A listed service's own container; else an unlisted container, once.
    if (!existing?.container) nodes.set(name, { name, listed: existing?.listed ?? false, container: c });
  }
  const edges: Edge[] = [];
  const problems: string[] = [];
  const add = (e: Edge) => {
    if (e.from !== e.to && !edges.some((x) => x.from === e.from && x.to === e.to && x.kind === e.kind)) edges.push(e);
  };
  for (const s of services) for (const d of s.depends_on ?? []) add({ from: s.name, to: d, kind: 'config', restartWith: false, detail: 'depends_on in the config' });
  for (const c of containers) {
    const from = nodeName.get(c.id) as string;
    const project = c.labels[COMPOSE_PROJECT];
    for (const dep of parseComposeDependsOn(c.labels[COMPOSE_DEPENDS_ON])) {
      const target = containers.find((x) => x.host === c.host && x.labels[COMPOSE_PROJECT] === project && x.labels[COMPOSE_SERVICE] === dep.service);
      if (!target) {
        problems.push(`${from} depends on compose service ${dep.service} of project ${project}, which has no container on ${c.host}`);
        continue;
      }
      add({ from, to: nodeName.get(target.id) as string, kind: 'compose', restartWith: dep.restart, detail: `compose depends_on ${dep.service} (${dep.condition}${dep.restart ? ', restart: true' : ''})` });
    }
    if (c.networkMode.startsWith('container:')) {
      const ref = c.networkMode.slice('container:'.length);
      const target = containers.find((x) => x.host === c.host && (x.id === ref || x.id.startsWith(ref) || x.name === ref)) ?? byName.get(`${c.host}/${ref}`);
      if (!target) problems.push(`${from} uses the network namespace of container ${ref.slice(0, 12)}, which does not exist on ${c.host} (it has no network until it is created again)`);
      else add({ from, to: nodeName.get(target.id) as string, kind: 'network', restartWith: true, detail: `network_mode: container:${target.name}` });
    }
  }
  // Shared named volumes: one undirected edge per pair (from < to), no order implied.
  const users = new Map<string, ContainerFacts[]>();
  for (const c of containers) for (const v of c.volumes) users.set(`${c.host}/${v}`, [...(users.get(`${c.host}/${v}`) ?? []), c]);
  for (const [key, list] of users) {
    const names = [...new Set(list.map((c) => nodeName.get(c.id) as string))].sort();
    for (let i = 0; i < names.length; i++) {
      for (let j = i + 1; j < names.length; j++) add({ from: names[i] as string, to: names[j] as string, kind: 'volume', restartWith: false, detail: `share volume ${key.split('/')[1]}` });
    }
  }
  for (const cycle of findCycles(edges.filter((e) => e.kind !== 'volume'))) problems.push(`dependency cycle: ${cycle.join(' -> ')}`);
  return { nodes: [...nodes.values()], edges, problems };
}

/** What `name` needs first (ordered edges only). */
export function dependenciesOf(graph: Graph, name: string): Edge[] {
  return graph.edges.filter((e) => e.from === name && e.kind !== 'volume');
}

/** What must be restarted after `name` is acted on: what lives in its network namespace, and compose's restart: true. */
export function restartedWith(graph: Graph, name: string): Edge[] {
  return graph.edges.filter((e) => e.to === name && e.restartWith);
}

/** Every node in an order where what is needed comes before what needs it (cycles broken where found). */
export function startOrder(graph: Graph): string[] {
  const ordered: string[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (n: string) => {
    if (state.get(n)) return;
    state.set(n, 'visiting');
    for (const e of dependenciesOf(graph, n)) visit(e.to);
    state.set(n, 'done');
    ordered.push(n);
  };
  for (const n of [...graph.nodes.map((x) => x.name)].sort()) visit(n);
  return ordered;
}

function findCycles(edges: readonly Edge[]): string[][] {
  const cycles: string[][] = [];
  const seen = new Set<string>();
  const next = (n: string) => edges.filter((e) => e.from === n).map((e) => e.to);
  const walk = (n: string, path: string[]) => {
    const at = path.indexOf(n);
    if (at >= 0) {
      const cycle = [...path.slice(at), n];
      const key = [...cycle.slice(0, -1)].sort().join(',');
      if (!seen.has(key)) {
        seen.add(key);
        cycles.push(cycle);
      }
      return;
    }
    if (path.length > 50) return;
    for (const m of next(n)) walk(m, [...path, n]);
  };
  for (const n of new Set(edges.map((e) => e.from))) walk(n, []);
  return cycles;
}
