/** Cross-field checks of the remediator config that a schema cannot state. */
import type { ConfigProblem } from '../collector/contract.js';
import type { RemediatorConfig } from './schema.js';

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
  const names = new Set<string>();
  c.services.forEach((s, i) => {
    if (names.has(s.name)) out.push({ path: ['services', i, 'name'], message: `duplicate service "${s.name}"` });
    names.add(s.name);
    if (!s.container === !s.compose) {
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
    if (Object.keys(p.match).length === 0) {
      out.push({ path: ['policies', i, 'match'], message: 'match at least one label (e.g. alertname)' });
    }
  });
  return out;
}
