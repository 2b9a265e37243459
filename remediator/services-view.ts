/**
 * `homestation services` and `GET /api/v1/services`: the managed services, where
 * each runs, its container's state, and the dependency graph as the engines and the
 * config give it, in the order a cold start would bring them up.
 */
import { OPT_IN_LABEL, type DockerDriver } from './docker/driver.js';
import { buildGraph, dependenciesOf, startOrder, type ContainerFacts, type Edge, type Graph } from './graph.js';
import { LOCAL_HOST, type RemediatorConfig } from './schema.js';

export interface ServicesView {
  readonly hosts: { name: string; reachable: boolean; error?: string; containers: number }[];
  readonly services: {
    name: string;
    listed: boolean;
    host: string | null;
    container: string | null;
    state: string;
    needs: Pick<Edge, 'to' | 'kind' | 'detail'>[];
    sharesVolumeWith: string[];
  }[];
  /** Needed before needing: how a cold start would go. */
  readonly order: string[];
  readonly problems: string[];
  /** Containers unrelated to any managed service, not shown. */
  readonly others: number;
}

export async function servicesView(
  config: Pick<RemediatorConfig, 'services' | 'hosts'>,
  driver: (host: string) => DockerDriver,
): Promise<ServicesView> {
  const hostNames = [LOCAL_HOST, ...config.hosts.map((h) => h.name)];
  const hosts: ServicesView['hosts'] = [];
  const facts: ContainerFacts[] = [];
  for (const h of hostNames) {
    try {
      const found = await driver(h).containerFacts(h);
      facts.push(...found);
      hosts.push({ name: h, reachable: true, containers: found.length });
    } catch (err) {
      hosts.push({ name: h, reachable: false, error: (err as Error).message, containers: 0 });
    }
  }
  const graph: Graph = buildGraph(config.services, facts);
  // Shown: listed services, containers opted in by label, and whatever an edge ties to them.
  const managed = new Set(graph.nodes.filter((n) => n.listed || n.container?.labels[OPT_IN_LABEL] === 'true').map((n) => n.name));
  const shown = new Set(managed);
  for (const e of graph.edges) {
    if (managed.has(e.from) || managed.has(e.to)) {
      shown.add(e.from);
      shown.add(e.to);
    }
  }
  const services = graph.nodes
    .filter((n) => shown.has(n.name))
    .map((n) => ({
      name: n.name,
      listed: n.listed,
      host: n.container?.host ?? null,
      container: n.container?.name ?? null,
      state: n.container?.state ?? 'no container',
      needs: dependenciesOf(graph, n.name).map(({ to, kind, detail }) => ({ to, kind, detail })),
      sharesVolumeWith: graph.edges.filter((e) => e.kind === 'volume' && (e.from === n.name || e.to === n.name)).map((e) => (e.from === n.name ? e.to : e.from)),
    }));
  return {
    hosts,
    services,
    order: startOrder(graph).filter((n) => shown.has(n)),
    problems: [...graph.problems],
    others: graph.nodes.filter((n) => !shown.has(n.name)).length,
  };
}

/** The view as a table for a terminal. */
export function formatServices(v: ServicesView): string {
  const rows = [['SERVICE', 'HOST', 'CONTAINER', 'STATE', 'NEEDS'], ...v.services.map((s) => [
    `${s.name}${s.listed ? '' : ' *'}`,
    s.host ?? '-',
    s.container ?? '-',
    s.state,
    [...s.needs.map((e) => `${e.to} (${e.kind === 'network' ? 'its network namespace' : e.kind})`), ...s.sharesVolumeWith.map((x) => `shares a volume with ${x}`)].join(', ') || '-',
  ])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const lines = rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] as number))).join('  ').trimEnd());
  const out = [...lines, ''];
  if (v.services.some((s) => !s.listed)) out.push('* not listed under remediator.services (opted in by label, or tied to a service that is)');
  out.push(`start order: ${v.order.join(' -> ') || '-'}`);
  for (const h of v.hosts) out.push(`host ${h.name}: ${h.reachable ? `${h.containers} containers` : `unreachable (${h.error})`}`);
  if (v.others) out.push(`${v.others} other containers are not tied to a managed service (not shown)`);
  for (const p of v.problems) out.push(`problem: ${p}`);
  return `${out.join('\n')}\n`;
}
