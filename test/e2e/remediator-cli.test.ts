/**
 * `homestation run` with a remediator section, driven by the CLI a human uses
 * (pause, resume, incidents, remediate) and traced over OTLP/HTTP.
 */
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, startDaemon } from '../helpers/cli.js';
import { containerState, freePort, podman, podmanSuite, runWeb } from '../helpers/podman.js';
import { TOKEN } from '../helpers/remediator.js';

const name = `hs-t-cli-${process.pid}`;
const suite = podmanSuite('hs-remcli', () => [name]);
const missing = suite.missing;


interface Span { name: string; spanId: string; parentSpanId?: string; attributes: { key: string; value: { stringValue?: string; intValue?: string } }[] }

describe.runIf(!missing)('remediator through homestation run and the CLI', () => {
  it('pauses, resumes, lists incidents and remediates by hand, with a span per incident and step', async () => {
    const received: unknown[] = [];
    const otlp: Server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.url === '/v1/traces') received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => otlp.listen(0, '127.0.0.1', r));
    const port = await freePort();
    writeFileSync(join(suite.dir(), 'token'), `${TOKEN}\n`);
    const config = join(suite.dir(), 'config.yaml');
    writeFileSync(
      config,
      `server: { host: 127.0.0.1, port: 0 }
remediator:
  host: 127.0.0.1
  port: ${port}
  auth: { bearer_token_file: ${join(suite.dir(), 'token')} }
  docker: { host: "${suite.engine().dockerHost}" }
  journal: ${join(suite.dir(), 'journal.db')}
  # The alert path under test: the fast paths (container events, liveness watch) would act first.
  events: { enabled: false }
  watch: { enabled: false }
  services:
    - { name: web, container: ${name}, stop_timeout: 1s, recovery_deadline: 20s }
  policies:
    - { match: { alertname: ServiceDown }, ladder: [{ action: restart }] }
`,
    );
    const web = await runWeb(name);
    podman(['stop', '-t', '0', web.name]);
    const d = await startDaemon(['--config', config], { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${(otlp.address() as { port: number }).port}` });
    try {
      await expect.poll(() => d.logs.some((l) => String(l.msg).startsWith('remediator listening')), { timeout: 15_000 }).toBe(true);
      const cli = (...args: string[]) => runCli([...args, '--config', config]);

      expect(cli('pause')).toMatchObject({ code: 0, stdout: '{"paused":true}\n' });
      expect(await (await fetch(`${d.url}/metrics`)).text()).toContain('homestation_remediator_paused 1');
      const refused = JSON.parse(cli('remediate', 'web', '--action', 'restart').stdout) as { incident: { state: string; reason: string } };
      expect(refused.incident).toMatchObject({ state: 'refused', reason: 'paused' });
      expect(cli('resume')).toMatchObject({ code: 0, stdout: '{"paused":false}\n' });

      const dry = JSON.parse(cli('remediate', 'web', '--action', 'restart', '--dry-run').stdout) as { incident: { id: number } };
      const manual = JSON.parse(cli('remediate', 'web', '--action', 'restart').stdout) as { incident: { id: number } };
      expect(manual.incident.id).toBeGreaterThan(dry.incident.id);
      await expect.poll(() => containerState(name).running, { timeout: 20_000 }).toBe(true);

      const listed = cli('incidents', '--json');
      expect(listed.code).toBe(0);
      const { incidents } = JSON.parse(listed.stdout) as { incidents: { id: number; state: string; reason: string; steps: { kind: string; result: string }[] }[] };
      await expect.poll(() => (JSON.parse(cli('incidents', '--json').stdout) as typeof listed & { incidents: { id: number; state: string }[] }).incidents.find((i) => i.id === manual.incident.id)?.state, { timeout: 20_000 }).toBe('recovered');
      expect(incidents.find((i) => i.id === dry.incident.id)).toMatchObject({ state: 'refused', reason: 'dry_run' });
      // For people: a table, from the journal alone, without the config or any ${VAR} of it.
      const table = runCli(['incidents', '--journal', join(suite.dir(), 'journal.db'), '--steps']);
      expect(table.code).toBe(0);
      const lines = table.stdout.split('\n');
      expect(lines[0]).toMatch(/^ID\s+STARTED \(UTC\)\s+SERVICE\s+ALERT\s+STATE\s+RECOVERY\s+REASON$/);
      expect(lines.find((l) => l.startsWith(`${manual.incident.id} `))).toMatch(/\bweb\s+manual\s+recovered\s+[\d.]+ s\s+restart \(attempt 1\)$/);
      expect(table.stdout).toContain(`Incident ${manual.incident.id} (web):`);
      const withEnvConfig = join(suite.dir(), 'env-config.yaml');
      writeFileSync(withEnvConfig, `remediator:\n  auth:\n    bearer_token_file: \${UNSET_TOKEN_FILE}\n  journal: \${HS_JOURNAL:-${join(suite.dir(), 'journal.db')}}\n`);
      expect(runCli(['incidents', '--config', withEnvConfig]).stdout).toMatch(/^ID\s+STARTED/);
      expect(runCli(['remediate', 'web', '--config', config])).toMatchObject({ code: 2 });
    } finally {
      expect((await d.stop()).code).toBe(0);
      otlp.close();
    }
    const spans: Span[] = (received as { resourceSpans: { scopeSpans: { spans: Span[] }[] }[] }[]).flatMap((r) =>
      r.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((s) => s.spans)),
    );
    // No OTEL_SERVICE_NAME here: the default name.
    const names = (received as { resourceSpans: { resource: { attributes: { key: string; value: { stringValue?: string } }[] } }[] }[]).flatMap((r) =>
      r.resourceSpans.map((rs) => rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue),
    );
    expect(new Set(names)).toEqual(new Set(['homestation']));
    const incidentSpan = spans.filter((s) => s.name === 'remediate web').find((s) => s.attributes.some((a) => a.key === 'homestation.outcome' && a.value.stringValue === 'recovered'));
    expect(incidentSpan).toBeDefined();
    const child = spans.find((s) => s.name === 'restart web' && s.parentSpanId === incidentSpan!.spanId);
    expect(child).toBeDefined();
  }, 120_000);
});
