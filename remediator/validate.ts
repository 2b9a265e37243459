/** Cross-field checks of the remediator config that a schema cannot state. */
import type { ConfigProblem } from '../collector/contract.js';
import { LOCAL_HOST, type RemediatorConfig } from './schema.js';

const LOOPBACK = ['127.0.0.1', '::1', 'localhost'];

export function validateRemediator(c: RemediatorConfig): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  const hasAuth = Boolean(c.auth?.bearer_token_file || c.auth?.basic);
  if (!hasAuth && !c.insecure) {
    out.push({
      path: [],
      message: 'set auth.bearer_token_file or auth.basic (Alertmanager sends them), or insecure: true for a loopback-only test setup',
    });
  }
  if (c.insecure && !LOOPBACK.includes(c.host)) {
    out.push({ path: ['host'], message: `insecure: true listens on loopback only; host "${c.host}" is not loopback` });
  }
  const le = c.leader_election;
  if (le.enabled && le.renew_deadline >= le.lease_duration) {
    out.push({ path: ['leader_election', 'renew_deadline'], message: 'must be shorter than lease_duration: a leader must stop acting before a standby may take the Lease' });
  }
  if (le.enabled && le.retry_period >= le.renew_deadline) {
    out.push({ path: ['leader_election', 'retry_period'], message: 'must be shorter than renew_deadline (several renewals fit before the deadline)' });
  }
  const hostNames = new Set<string>([LOCAL_HOST]);
  c.hosts.forEach((h, i) => {
    if (hostNames.has(h.name)) {
      out.push({ path: ['hosts', i, 'name'], message: h.name === LOCAL_HOST ? `"${LOCAL_HOST}" is the docker: engine's name; choose another` : `duplicate host "${h.name}"` });
    }
    hostNames.add(h.name);
    if (!/^(unix|tcp|ssh):\/\//.test(h.host)) out.push({ path: ['hosts', i, 'host'], message: `"${h.host}" is not unix://, tcp:// or ssh://` });
  });
  const names = new Set<string>();
  c.services.forEach((s, i) => {
    (s.hosts ?? []).forEach((h, j) => {
      if (!hostNames.has(h)) out.push({ path: ['services', i, 'hosts', j], message: `unknown host "${h}" (list it under remediator.hosts)` });
    });
    if (names.has(s.name)) out.push({ path: ['services', i, 'name'], message: `duplicate service "${s.name}"` });
    names.add(s.name);
    if (s.kubernetes) {
      if (s.container || s.compose) out.push({ path: ['services', i, 'kubernetes'], message: 'a service is a container (container/compose) or a Kubernetes workload, not both' });
      if (!s.kubernetes.name === !s.kubernetes.selector) out.push({ path: ['services', i, 'kubernetes'], message: 'set one of name or selector to find the workload' });
      if (!c.kubernetes.enabled) out.push({ path: ['services', i, 'kubernetes'], message: 'set remediator.kubernetes.enabled: true to drive Kubernetes workloads' });
    } else if (!s.container === !s.compose) {
      out.push({ path: ['services', i], message: 'set one of container or compose to find the service' });
    }
    if (s.probe) {
      const kinds = (['http', 'tcp', 'exec'] as const).filter((k) => s.probe?.[k] !== undefined);
      if (kinds.length !== 1) out.push({ path: ['services', i, 'probe'], message: 'set exactly one of http, tcp or exec' });
    }
  });
  c.services.forEach((s, i) =>
    (s.depends_on ?? []).forEach((d, j) => {
      if (!names.has(d)) out.push({ path: ['services', i, 'depends_on', j], message: `unknown service "${d}"` });
      if (d === s.name) out.push({ path: ['services', i, 'depends_on', j], message: 'a service cannot depend on itself' });
    }),
  );
  c.policies.forEach((p, i) => {
    if (p.service !== undefined && !names.has(p.service)) {
      out.push({ path: ['policies', i, 'service'], message: `unknown service "${p.service}" (list it under services)` });
    }
    p.ladder.forEach((step, j) => {
      if (step.to !== undefined && step.action !== 'migrate') out.push({ path: ['policies', i, 'ladder', j, 'to'], message: 'to is for the migrate action' });
      if (step.to !== undefined && !hostNames.has(step.to)) out.push({ path: ['policies', i, 'ladder', j, 'to'], message: `unknown host "${step.to}"` });
      const svc = c.services.find((s) => s.name === p.service);
      if (step.action === 'migrate' && svc && (svc.hosts ?? [LOCAL_HOST]).length < 2 && step.to === undefined) {
        out.push({ path: ['policies', i, 'ladder', j], message: `service "${svc.name}" lists no second host to migrate to (services[].hosts)` });
      }
    });
    if (Object.keys(p.match).length === 0) {
      out.push({ path: ['policies', i, 'match'], message: 'match at least one label (e.g. alertname)' });
    }
  });
  return out;
}
