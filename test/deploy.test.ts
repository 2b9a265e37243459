/** deploy/: Prometheus and Alertmanager accept their configs, and the timing budget holds. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkTiming, groupWaitFor } from '../collector/check-timing.js';
import { parse } from 'yaml';
import { matchPolicy } from '../remediator/policy.js';
import type { PolicyConfig } from '../remediator/schema.js';
import { runCli, shippedEnv, shippedLaunch, shippedNodeFlags } from './helpers/cli.js';
import { requireTools } from './helpers/tools.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const promFile = join(root, 'deploy/prometheus/prometheus.yml');
const amFile = join(root, 'deploy/alertmanager/alertmanager.yml');

describe('deploy configs', () => {
  it('prometheus.yml passes promtool check config, rule files included', (ctx) => {
    requireTools(ctx, 'promtool');
    // The secret file exists only in the compose stack: point the copy at a real file.
    const dir = mkdtempSync(join(tmpdir(), 'hs-deploy-'));
    writeFileSync(join(dir, 'token'), 'x');
    const copy = join(dir, 'prometheus.yml');
    writeFileSync(
      copy,
      readFileSync(promFile, 'utf8').replaceAll('/run/secrets/remediator_token', join(dir, 'token')).replace('../../rules/', `${join(root, 'rules')}/`),
    );
    const res = spawnSync('promtool', ['check', 'config', copy], { encoding: 'utf8' });
    expect(res.stdout + res.stderr).toMatch(/SUCCESS: \d+ rules found/);
    expect(res.status).toBe(0);
    const syntax = spawnSync('promtool', ['check', 'config', '--syntax-only', promFile], { encoding: 'utf8' });
    expect(syntax.status).toBe(0);
  });

  it('the shipped configs agree: every alert routed to the remediator has a policy, every policy an alert', () => {
    interface Rule { alert?: string; labels?: Record<string, string> }
    const alerts = new Map<string, Record<string, string>>();
    for (const f of readdirSync(join(root, 'rules')).filter((x) => x.endsWith('.rules.yml'))) {
      const doc = parse(readFileSync(join(root, 'rules', f), 'utf8')) as { groups: { rules: Rule[] }[] };
      for (const r of doc.groups.flatMap((g) => g.rules)) if (r.alert) alerts.set(r.alert, { alertname: r.alert, ...(r.labels ?? {}) });
    }
    const am = parse(readFileSync(amFile, 'utf8')) as { route: { routes: { receiver: string; matchers: string[] }[] } };
    const toRemediator = am.route.routes.find((r) => r.receiver === 'remediator')!;
    const routed = [...alerts.values()].filter((labels) =>
      toRemediator.matchers.every((m) => {
        const [, k, v] = /^(\w+)="(.*)"$/.exec(m) ?? [];
        return k !== undefined && labels[k] === v;
      }),
    );
    expect(routed.map((a) => a.alertname).sort()).toEqual(['ServiceDown', 'Zigbee2MQTTBridgeOffline']);
    const rem = parse(readFileSync(join(root, 'deploy/homestation/remediator.yaml'), 'utf8')) as {
      remediator: { policies: PolicyConfig[]; services: { name: string }[] };
    };
    const { policies, services } = rem.remediator;
    for (const labels of routed) {
      const match = matchPolicy(labels, policies);
      expect(match, `no policy in deploy/homestation/remediator.yaml acts on ${labels.alertname}`).toBeDefined();
      // A service named statically (policy or alert label) must be one the remediator knows.
      const service = match!.service;
      if (service) expect(services.map((s) => s.name), `${labels.alertname} names service ${service}`).toContain(service);
    }
    for (const p of policies) {
      const alert = alerts.get(p.match.alertname ?? '');
      expect(alert, `policy ${JSON.stringify(p.match)} names no alert of rules/`).toBeDefined();
      for (const [k, v] of Object.entries(p.match)) if (k !== 'alertname' && alert![k] !== undefined) expect(alert![k], `${p.match.alertname}: ${k}`).toBe(v);
    }
  });

  it('alertmanager.yml passes amtool check-config', (ctx) => {
    requireTools(ctx, 'amtool');
    const res = spawnSync('amtool', ['check-config', amFile], { encoding: 'utf8' });
    expect(res.stdout + res.stderr).toContain('SUCCESS');
    expect(res.status).toBe(0);
  });

  it('routes remediation alerts fast and everything else at the people pace', () => {
    const am = { route: { group_wait: '30s', routes: [{ matchers: ['remediate="true"'], group_wait: '5s' }, { matchers: ['severity="critical"'], group_wait: '10s' }] } };
    expect(groupWaitFor(am.route, { remediate: 'true', severity: 'critical' })).toBe(5);
    expect(groupWaitFor(am.route, { severity: 'critical' })).toBe(10);
    expect(groupWaitFor(am.route, { severity: 'warning' })).toBe(30);
  });

  it('leaves the remediator at least 30 s of the 120 s target for every alert it acts on', () => {
    const rows = checkTiming(promFile, amFile, 30);
    expect(rows.map((r) => r.alert).sort()).toEqual(['ServiceDown', 'Zigbee2MQTTBridgeOffline']);
    const serviceDown = rows.find((r) => r.alert === 'ServiceDown')!;
    // for: 30s is two whole evaluations of 15 s: it fires exactly 30 s after pending, no extra evaluation.
    expect(serviceDown).toMatchObject({ job: 'blackbox', worstSeconds: 70, leftSeconds: 50, ok: true });
    expect(serviceDown.parts).toEqual({ scrape_interval: 15, scrape_timeout: 5, first_evaluation: 15, for: 30, group_wait: 5 });
    // Scraped from HomeStation (global interval and timeout): 15 + 10 + 15 + 30 + 5.
    expect(rows.find((r) => r.alert === 'Zigbee2MQTTBridgeOffline')).toMatchObject({ worstSeconds: 75, leftSeconds: 45, ok: true });
    for (const r of rows) expect(r.ok).toBe(true);
  });

  it('rounds a for: that is not a multiple of the evaluation interval up to the evaluation that fires it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hs-timing-'));
    writeFileSync(join(dir, 'r.rules.yml'), 'groups:\n  - name: g\n    rules:\n      - alert: Odd\n        expr: up{job="x"} == 0\n        for: 20s\n        labels: { remediate: "true" }\n');
    writeFileSync(join(dir, 'p.yml'), 'global: { scrape_interval: 10s, scrape_timeout: 5s, evaluation_interval: 15s }\nrule_files: [r.rules.yml]\nscrape_configs: [{ job_name: x }]\n');
    writeFileSync(join(dir, 'am.yml'), 'route: { receiver: r, group_wait: 5s }\n');
    const [odd] = checkTiming(join(dir, 'p.yml'), join(dir, 'am.yml'), 30);
    expect(odd!.parts).toEqual({ scrape_interval: 10, scrape_timeout: 5, first_evaluation: 15, for: 30, group_wait: 5 });
  });

  it('HomeStation starts with the same malloc setting and V8 flags wherever it is started: the CLI, the image, npm start', () => {
    const { env, flags } = shippedLaunch();
    expect(flags.length).toBeGreaterThan(0);
    expect(Object.keys(env)).toEqual(['GLIBC_TUNABLES']);
    const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
    const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(dockerfile)?.[1];
    expect(JSON.parse(entrypoint ?? '[]')).toEqual(['node', ...flags, 'dist/collector/cli.js']);
    expect(dockerfile).toMatch(new RegExp(`^ENV GLIBC_TUNABLES=${env.GLIBC_TUNABLES}$`, 'm'));
    const start = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.start;
    expect(start).toContain(`GLIBC_TUNABLES=${env.GLIBC_TUNABLES} node ${flags.join(' ')} dist/collector/cli.js run`);
    // And the #! line runs as a user's shell runs it (env -S splits the flags), within
    // the 127 bytes that kernels before 5.1 read of it.
    const cli = join(root, 'dist/collector/cli.js');
    expect(readFileSync(cli, 'utf8').indexOf('\n')).toBeLessThanOrEqual(127);
    const res = spawnSync(cli, ['--version'], { encoding: 'utf8' });
    expect(res.stderr).toBe('');
    expect(res.status).toBe(0);
    // glibc takes the tunable as written (its loader lists what it parsed).
    const loader = '/lib64/ld-linux-x86-64.so.2';
    if (existsSync(loader)) {
      const tunables = spawnSync(loader, ['--list-tunables'], { encoding: 'utf8', env: { ...process.env, ...env } }).stdout;
      expect(tunables).toMatch(/^glibc\.malloc\.mmap_threshold: 0x8000 /m);
    }
  });

  it("the CLI keeps node's CommonJS export lexer out of the optimizing compiler (commands.js alone does not)", () => {
    // --trace-opt names each function V8 marks or compiles for TurboFan.
    const traced = (entry: string) => {
      const res = spawnSync(process.execPath, [...shippedNodeFlags(), '--trace-opt', join(root, 'dist/collector', entry), '--version'], { encoding: 'utf8', env: shippedEnv() });
      expect(res.status).toBe(0);
      return res.stdout.split('\n').filter((l) => /<JSFunction parseSource /.test(l));
    };
    // Without cli.ts's setting, loading the commands' modules makes the lexer hot.
    expect(traced('commands.js').length).toBeGreaterThan(0);
    expect(traced('cli.js')).toEqual([]);
  });

  it('the CLI replaces no function on the stack (no OSR): a long loop runs unoptimized until its next call', () => {
    const loop = 'let s = 0; for (let i = 0; i < 3e7; i++) s += i % 7; console.log(s);';
    const osr = (before: string) => {
      const res = spawnSync(process.execPath, ['--trace-opt', '--input-type=module', '-e', before + loop], { encoding: 'utf8' });
      expect(res.status).toBe(0);
      return res.stdout.split('\n').filter((l) => /\bOSR\b/.test(l));
    };
    expect(osr('').length).toBeGreaterThan(0);
    expect(osr(`await import(${JSON.stringify(pathToFileURL(join(root, 'dist/collector/v8-settings.js')).href)});`)).toEqual([]);
  });

  it('homestation check-timing prints the budget and fails when it does not fit', () => {
    const ok = runCli(['check-timing']);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('OK   ServiceDown (job blackbox)');
    const tight = runCli(['check-timing', '--action-budget', '60']);
    expect(tight.code).toBe(1);
    expect(tight.stdout).toContain('FAIL ServiceDown');
  });
});
