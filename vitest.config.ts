import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// CI asks for a JSON report (to print "N passed, N failed") through VITEST_JSON_OUT.
const jsonOut = process.env.VITEST_JSON_OUT;

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    pool: 'forks',
    // One test file per core (Vitest's default is one fewer than the cores: a single file at a
    // time on a two-core machine, with the core left idle while that file waits on PostgreSQL,
    // Chromium or a child process). With more files than cores, CPU-bound files timed out.
    // TEST_WORKERS overrides.
    maxWorkers: Number(process.env.TEST_WORKERS) || availableParallelism(),
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: jsonOut ? ['default', 'json'] : ['default'],
    ...(jsonOut ? { outputFile: { json: jsonOut } } : {}),
  },
});
