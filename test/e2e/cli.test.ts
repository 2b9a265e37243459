/** The `homestation` command as a user runs it: built, in a child process. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startDaemon } from '../helpers/cli.js';
import { requireTools } from '../helpers/tools.js';
import { startMosquitto } from '../helpers/mosquitto.js';
import { connectAsync } from 'mqtt';

let dir: string;
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hs-cli-'));
  mkdirSync(join(dir, 'dumps'));
  writeFileSync(join(dir, 'dumps', 'db.sql'), '-- PostgreSQL database dump complete\n');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function config(name: string, yaml: string): string {
  const file = join(dir, name);
  writeFileSync(file, yaml);
  return file;
}

describe('homestation CLI', () => {
  it('prints its version and help', () => {
    expect(runCli(['--version'])).toMatchObject({ code: 0, stdout: `${pkg.version}\n` });
    const help = runCli(['--help']);
    expect(help.code).toBe(0);
    for (const cmd of ['check-config', 'collect', 'metrics', 'schema']) expect(help.stdout).toContain(cmd);
  });

  it('answers mistakes on the command line with a message, never a stack trace', () => {
    const typo = runCli(['--conifg', 'x.yaml']);
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('unknown option --conifg (did you mean --config?)');
    expect(typo.stderr).not.toMatch(/TypeError|at .*\.js:\d+/);
    const unknown = runCli(['hepl']);
    expect(unknown).toMatchObject({ code: 2 });
    expect(unknown.stderr).toContain('unknown command "hepl" (did you mean "help"?)');
    const misplaced = runCli(['metrics', '--instance', 'x']);
    expect(misplaced.code).toBe(2);
    expect(misplaced.stderr).toContain('metrics takes no option --instance');
    const extra = runCli(['schema', 'extra']);
    expect(extra.code).toBe(2);
    expect(extra.stderr).toContain('unexpected argument: extra');
  });

  it('has help per command, as `help COMMAND` and `COMMAND --help`', () => {
    const a = runCli(['help', 'collect']);
    const b = runCli(['collect', '--help']);
    expect(a).toMatchObject({ code: 0 });
    expect(a.stdout).toMatch(/^Usage: homestation collect EXPORTER/);
    expect(b.stdout).toBe(a.stdout);
    expect(runCli(['check-config', '--help']).stdout).toMatch(/^Usage: homestation check-config FILE\.\.\./);
    expect(runCli(['help']).stdout).toContain('homestation help [COMMAND]');
  });

  it('check-config checks every file it is given, and refuses empty and oversized files', () => {
    const good = config('two-good.yaml', 'exporters:\n  filesystem:\n    - name: local\n');
    const empty = config('empty.yaml', '# nothing but a comment\n');
    const big = config('big.yaml', `# ${'x'.repeat(2 * 1024 * 1024)}\n`);
    const res = runCli(['check-config', good, empty, big]);
    expect(res.code).toBe(1);
    expect(res.stdout).toContain(`${good}: OK (1 exporter instance: filesystem/local)`);
    expect(res.stderr).toContain(`${empty}:1:1: (top level): the file is empty`);
    expect(res.stderr).toMatch(new RegExp(`${big}: \\(top level\\): the file is \\d+ bytes; a config is at most 1048576 bytes`));
  });

  it('substitutes ${VAR:-default} and then takes the schema type (a port from the environment)', () => {
    const file = config('env-port.yaml', 'server:\n  port: ${HS_TEST_PORT:-19101}\nexporters:\n  filesystem:\n    - name: local\n');
    expect(runCli(['check-config', file]).code).toBe(0);
    expect(runCli(['check-config', file], { HS_TEST_PORT: '19102' }).code).toBe(0);
    const bad = runCli(['check-config', file], { HS_TEST_PORT: 'eighty' });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`${file}:2:9: server.port: must be an integer (got "eighty")`);
  });

  it('check-config lists every problem with file:line:column and exits 1', () => {
    const file = config(
      'bad.yaml',
      'server:\n  port: 99999\nexporters:\n  backup:\n    - name: x\n      intervall: 5m\n    - name: y\n      interval: 1m\n',
    );
    const res = runCli(['check-config', file]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`${file}:2:9: server.port: must be <= 65535 (got 99999)`);
    expect(res.stderr).toContain(`${file}:6:7: exporters.backup[0].intervall: unknown key "intervall" (did you mean "interval"?)`);
    expect(res.stderr).toContain(`${file}:7:7: exporters.backup[1]: set one source: restic, borg, borgmatic, files or velero`);
  });

  it('check-config accepts a good file', () => {
    const file = config('good.yaml', `exporters:\n  backup:\n    - name: d\n      files: { sets: [{ name: s, glob: "${dir}/dumps/*" }] }\n`);
    expect(runCli(['check-config', file])).toMatchObject({ code: 0, stdout: `${file}: OK (1 exporter instance: backup/d)\n` });
  });

  it('run refuses to start on a bad config, naming the line', () => {
    const file = config('bad-run.yaml', 'exporters:\n  nosuch: []\n');
    const res = runCli(['run', '--config', file]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain(`${file}:2:3: exporters.nosuch: unknown key "nosuch"`);
  });

  it('metrics prints the catalogue', () => {
    const res = runCli(['metrics']);
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/^homestation_backup_last_timestamp_seconds\tgauge\tseconds\t\{exporter_instance,set\}\t/m);
  });

  it('collect backup prints correct values from a real restic repository', (ctx) => {
    requireTools(ctx, 'restic');
    const repo = join(dir, 'restic');
    const pw = join(dir, 'pw');
    writeFileSync(pw, 'pw\n');
    const env = { ...process.env, RESTIC_PASSWORD_FILE: pw, TZ: 'America/New_York' };
    execFileSync('restic', ['-r', repo, 'init', '-q'], { env });
    execFileSync('restic', ['-r', repo, 'backup', '-q', '--host', 'nas', '--time', '2025-06-01 23:15:00', join(dir, 'dumps')], { env });
    const file = config('restic.yaml', `exporters:\n  backup:\n    - name: nas\n      restic: { repository: "${repo}", password_file: "${pw}" }\n`);
    const res = runCli(['collect', 'backup', '--instance', 'nas', '--config', file]);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    const set = 'nas/dumps';
    // 23:15 EDT (UTC-4) on 1 June is 03:15 UTC on 2 June.
    expect(res.stdout).toContain(`homestation_backup_last_timestamp_seconds{exporter_instance="nas",set="${set}"} ${Date.UTC(2025, 5, 2, 3, 15) / 1000}\n`);
    expect(res.stdout).toContain(`homestation_backup_snapshots{exporter_instance="nas",set="${set}"} 1\n`);
    expect(res.stdout).toContain('homestation_exporter_up{exporter="backup",exporter_instance="nas"} 1\n');
    expect(res.stdout).not.toContain('process_cpu');
  });

  it('collect mqtt connects, reads retained state and prints it', async (ctx) => {
    requireTools(ctx, 'mosquitto');
    const broker = await startMosquitto();
    try {
      const pub = await connectAsync(broker.url, { reconnectPeriod: 0 });
      await pub.publishAsync('zigbee2mqtt/bridge/state', '{"state":"online"}', { retain: true, qos: 1 });
      await pub.endAsync();
      const file = config('mqtt.yaml', `exporters:\n  mqtt:\n    - { name: local, url: "${broker.url}", timeout: 5s }\n`);
      const res = runCli(['collect', 'mqtt', '--config', file]);
      expect(res.code).toBe(0);
      expect(res.stdout).toContain('homestation_mqtt_zigbee2mqtt_bridge_online{exporter_instance="local",base_topic="zigbee2mqtt"} 1');
      expect(res.stdout).toContain('homestation_exporter_up{exporter="mqtt",exporter_instance="local"} 1');
    } finally {
      await broker.stop();
    }
  });

  it('collect exits 1 and says why when the instance fails', () => {
    const file = config('fail.yaml', 'exporters:\n  backup:\n    - name: b\n      restic: { repository: /x, password: p, command: /nonexistent/restic }\n');
    const res = runCli(['collect', 'backup', '--config', file]);
    expect(res.code).toBe(1);
    expect(res.stdout).toContain('homestation_exporter_errors_total{exporter="backup",exporter_instance="b",reason="command_missing"} 1');
    expect(res.stderr).toContain('/nonexistent/restic was not found');
  });

  it('runs, serves /metrics, and shuts down on SIGTERM within 10 s', async () => {
    const file = config(
      'run.yaml',
      `server: { host: 127.0.0.1, port: 0 }\nexporters:\n  backup:\n    - name: d\n      files: { sets: [{ name: s, glob: "${dir}/dumps/*.sql" }] }\n`,
    );
    const d = await startDaemon(['--config', file]);
    try {
      await expect.poll(async () => (await fetch(`${d.url}/readyz`)).status, { timeout: 10_000 }).toBe(200);
      const body = await (await fetch(`${d.url}/metrics`)).text();
      expect(body).toContain('homestation_backup_snapshots{exporter_instance="d",set="s"} 1');
      expect(body).toContain('process_resident_memory_bytes');
      expect(await (await fetch(`${d.url}/`)).text()).toContain('<td>backup</td><td>d</td><td>up</td>');
    } finally {
      const { code, ms } = await d.stop();
      expect(code).toBe(0);
      expect(ms).toBeLessThan(10_000);
      expect(d.logs.some((l) => l.msg === 'stopped')).toBe(true);
    }
  });

  it('sends a span per collection over OTLP/HTTP when OTEL_EXPORTER_OTLP_ENDPOINT is set, flushed at shutdown', async () => {
    const received: unknown[] = [];
    const server: Server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (req.url === '/v1/traces') received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const file = config(
      'otel.yaml',
      `server: { host: 127.0.0.1, port: 0 }
exporters:
  backup:
    - name: fine
      files: { sets: [{ name: s, glob: "${dir}/dumps/*.sql" }] }
    - name: broken
      restic: { repository: /x, password: p, command: /nonexistent/restic }
`,
    );
    const d = await startDaemon(['--config', file], { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, OTEL_SERVICE_NAME: 'hs-test' });
    try {
      await expect.poll(async () => (await fetch(`${d.url}/readyz`)).status, { timeout: 10_000 }).toBe(200);
    } finally {
      expect((await d.stop()).code).toBe(0);
      server.close();
    }
    interface Attr { key: string; value: { stringValue?: string } }
    interface Span { name: string; attributes: Attr[]; status?: { code?: number } }
    const spans: Span[] = (received as { resourceSpans: { scopeSpans: { spans: Span[] }[] }[] }[]).flatMap((r) =>
      r.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((s) => s.spans)),
    );
    const attrs = (s: Span) => Object.fromEntries(s.attributes.map((a) => [a.key, a.value.stringValue]));
    // The resource: OTEL_SERVICE_NAME over the default name, and the host it runs on.
    const resources = (received as { resourceSpans: { resource: { attributes: Attr[] } }[] }[]).flatMap((r) => r.resourceSpans.map((rs) => rs.resource));
    expect(resources.length).toBeGreaterThan(0);
    for (const r of resources) expect(Object.fromEntries(r.attributes.map((a) => [a.key, a.value.stringValue]))).toMatchObject({ 'service.name': 'hs-test', 'host.name': hostname() });
    expect(spans.map((s) => s.name).sort()).toEqual(['collect backup/broken', 'collect backup/fine']);
    const fine = spans.find((s) => s.name === 'collect backup/fine')!;
    const broken = spans.find((s) => s.name === 'collect backup/broken')!;
    expect(attrs(fine)).toEqual({ 'homestation.exporter': 'backup', 'homestation.instance': 'fine', 'homestation.outcome': 'success' });
    expect(attrs(broken)).toMatchObject({ 'homestation.outcome': 'command_missing' });
    expect(broken.status?.code).toBe(2); // ERROR
  });
});
