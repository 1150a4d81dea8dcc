import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// CI asks for a JSON report (to print "N passed, N failed") through VITEST_JSON_OUT.
const jsonOut = process.env.VITEST_JSON_OUT;

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    pool: 'forks',
    // Most test files wait on PostgreSQL, Chromium or a child process rather than compute, so run
    // more files at once than there are cores (Vitest's default is one fewer than the cores, which
    // is a single file at a time on a two-core machine). TEST_WORKERS overrides.
    maxWorkers: Number(process.env.TEST_WORKERS) || availableParallelism() + 1,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: jsonOut ? ['default', 'json'] : ['default'],
    ...(jsonOut ? { outputFile: { json: jsonOut } } : {}),
  },
});
