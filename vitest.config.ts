import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['collector/**/*.test.ts', 'exporters/**/*.test.ts', 'remediator/**/*.test.ts', 'test/**/*.test.ts'],
    // Integration tests start real tools (restic, borg, child processes): one file
    // at a time per core is plenty on a 2-core CI machine.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    reporters: ['default'],
  },
});
