/**
 * Golden exposition files: a rendering must equal its committed file (UPDATE_GOLDEN=1
 * rewrites them; in CI a missing one fails), and every golden file must pass
 * `promtool check metrics`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { requireTools } from './tools.js';

export function expectGolden(text: string, golden: URL): void {
  if (process.env.UPDATE_GOLDEN === '1' || !existsSync(golden)) {
    if (process.env.CI === 'true' && !existsSync(golden)) throw new Error(`golden file missing: ${golden.pathname}`);
    mkdirSync(dirname(fileURLToPath(golden)), { recursive: true });
    writeFileSync(golden, text);
  }
  expect(text).toBe(readFileSync(golden, 'utf8'));
}

/** Runs promtool over the golden files of `dir` that `include` selects; returns their names. */
export function expectPromtoolClean(ctx: { skip: (note?: string) => void }, dir: URL, include: (file: string) => boolean = () => true): string[] {
  requireTools(ctx, 'promtool');
  const files = readdirSync(dir).filter((f) => f.endsWith('.prom') && include(f));
  for (const f of files) {
    const res = spawnSync('promtool', ['check', 'metrics'], { input: readFileSync(new URL(f, dir)) });
    expect({ file: f, out: `${res.stdout}${res.stderr}`.trim(), status: res.status }).toEqual({ file: f, out: '', status: 0 });
  }
  return files;
}
