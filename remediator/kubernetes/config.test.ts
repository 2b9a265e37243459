/** The Kubernetes parts of the remediator's config: what is refused, and where. */
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../collector/config/load.js';
import { EXPORTERS } from '../../collector/registry.js';

const problems = (yaml: string): string => {
  try {
    parseConfig(yaml, 'remediator.yaml', EXPORTERS, { env: {} });
    return '';
  } catch (err) {
    return (err as Error).message;
  }
};

const base = `remediator:
  insecure: true
  journal: /tmp/j.db
`;

describe('remediator config: Kubernetes', () => {
  it('accepts Kubernetes services and leader election with their defaults', () => {
    const config = parseConfig(
      `${base}  kubernetes: { enabled: true }
  leader_election: { enabled: true }
  services:
    - { name: z2m, kubernetes: { namespace: home, name: zigbee2mqtt } }
`,
      'remediator.yaml',
      EXPORTERS,
      { env: {} },
    );
    const r = config.remediator!;
    expect(r.services[0]!.kubernetes).toEqual({ namespace: 'home', kind: 'Deployment', name: 'zigbee2mqtt' });
    expect(r.leader_election).toMatchObject({ enabled: true, lease_name: 'homestation-remediator', lease_duration: 15_000, renew_deadline: 10_000, retry_period: 2_000 });
  });

  it('names the line and field of each problem', () => {
    const text = problems(`${base}  leader_election: { enabled: true, lease_duration: 10s, renew_deadline: 10s }
  services:
    - { name: a, container: a, kubernetes: { namespace: home, name: a } }
    - { name: b, kubernetes: { namespace: home } }
`);
    expect(text).toContain('remediator.leader_election.renew_deadline: must be shorter than lease_duration');
    expect(text).toContain('remediator.services[0].kubernetes: a service is a container (container/compose) or a Kubernetes workload, not both');
    expect(text).toContain('remediator.services[1].kubernetes: set one of name or selector to find the workload');
    expect(text).toContain('remediator.services[1].kubernetes: set remediator.kubernetes.enabled: true to drive Kubernetes workloads');
    expect(text).toMatch(/remediator\.yaml:\d+:\d+: remediator\.services\[1\]\.kubernetes/);
  });
});
