/**
 * How the benches start HomeStation: as a user's `homestation` does, with the V8
 * flags of the CLI's own `#!` line (the one place they are set), then HS_NODE_ARGS
 * (say `--cpu-prof --cpu-prof-dir=DIR`, or flags to compare against the shipped ones).
 */
import { CLI, shippedNodeFlags } from '../test/helpers/cli.js';

/** process.execPath's arguments for `homestation ARGS`. */
export function homestationArgs(...args: string[]): string[] {
  return [...shippedNodeFlags(), ...(process.env.HS_NODE_ARGS?.split(' ').filter(Boolean) ?? []), CLI, ...args];
}
