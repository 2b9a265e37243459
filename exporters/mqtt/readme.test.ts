/** The README's example config is valid, and its metric names pass promtool check metrics. */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseConfig } from '../../collector/config/load.js';
import { requireTools } from '../../test/helpers/tools.js';
import { mqtt } from './index.js';

const readme = readFileSync(new URL('./README.md', import.meta.url), 'utf8');
const example = /```yaml\n([\s\S]*?)```/.exec(readme)![1] as string;

describe('the MQTT README example', () => {
  it('passes the config loader (the password file aside)', () => {
    const doc = parse(example) as { exporters: { mqtt: Record<string, unknown>[] } };
    delete doc.exporters.mqtt[0]!.password_file;
    expect(() => parseConfig(JSON.stringify(doc), 'README.md', [mqtt], { env: {} })).not.toThrow();
  });

  it('declares metric names that promtool check metrics accepts', (ctx) => {
    requireTools(ctx, 'promtool');
    const doc = parse(example) as { exporters: { mqtt: { metrics: { name: string; help: string; type?: string }[] }[] } };
    const text = doc.exporters.mqtt[0]!.metrics.map((m) => `# HELP ${m.name} ${m.help}\n# TYPE ${m.name} ${m.type ?? 'gauge'}\n${m.name}{device="a",source="custom"} 1\n`).join('');
    const res = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(res.stdout + res.stderr).toBe('');
    expect(res.status).toBe(0);
  });
});
