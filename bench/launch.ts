/**
 * How the benches start HomeStation: as a user's `homestation` does, with the malloc
 * setting and V8 flags of the CLI's own `#!` line (the one place they are set), then
 * HS_NODE_ARGS (say `--cpu-prof --cpu-prof-dir=DIR`, or flags to compare against the
 * shipped ones) and HS_GLIBC_TUNABLES (a malloc setting to compare; empty: glibc's
 * defaults).
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { CLI, shippedEnv, shippedNodeFlags } from '../test/helpers/cli.js';

/** process.execPath's arguments for `homestation ARGS`. */
export function homestationArgs(...args: string[]): string[] {
  return [...shippedNodeFlags(), ...(process.env.HS_NODE_ARGS?.split(' ').filter(Boolean) ?? []), CLI, ...args];
}

/** Starts `homestation ARGS` with the shipped flags and environment (plus `options.env`). */
export function spawnHomestation(args: string[], options: SpawnOptions = {}): ChildProcess {
  const compare = process.env.HS_GLIBC_TUNABLES;
  const env = shippedEnv({ ...(compare === undefined ? {} : { GLIBC_TUNABLES: compare }), ...options.env });
  return spawn(process.execPath, homestationArgs(...args), { ...options, env });
}
