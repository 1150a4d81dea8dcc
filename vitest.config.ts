import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// CI asks for a JSON report (to print "N passed, N failed") through VITEST_JSON_OUT.
const jsonOut = process.env.VITEST_JSON_OUT;

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    pool: 'forks',
    // Two test files per core. Most files spend their time waiting (on PostgreSQL, Chromium, a
    // child process, a poll interval) rather than computing: measured on a two-core machine, a
    // file took as long with three files running beside other work as with two on a quiet
    // machine, so more at once finishes sooner. Vitest's default (one fewer than the cores) runs
    // a single file at a time there. TEST_WORKERS overrides. The timeouts are generous for the
    // same reason: a file that computes may wait for a core (a timeout guards against a hang; it
    // measures nothing).
    maxWorkers: Number(process.env.TEST_WORKERS) || availableParallelism() * 2,
    testTimeout: 120_000,
    hookTimeout: 240_000,
    reporters: jsonOut ? ['default', 'json'] : ['default'],
    ...(jsonOut ? { outputFile: { json: jsonOut } } : {}),
  },
});
