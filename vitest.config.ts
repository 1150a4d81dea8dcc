import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// CI asks for a JSON report (to print "N passed, N failed") through VITEST_JSON_OUT.
const jsonOut = process.env.VITEST_JSON_OUT;

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    pool: 'forks',
    // A worker loads the modules once for all the files it runs, not once per file: the service
    // graph takes about 3 s to import, which every one of the ~180 files paid before. Measured
    // over the whole suite on PGlite, the files' import time came to 75 s in all (it was about
    // 3 s per file). Every test opens its own database and server, and no test mocks a module, so
    // nothing a file leaves behind reaches the next one.
    isolate: false,
    // The migrated database templates, made once per run (test/support/db.ts).
    globalSetup: ['test/support/global-setup.ts'],
    // One test file per core: Vitest's default (one fewer than the cores) runs a single file at a
    // time on a two-core machine. Measured there, the whole suite is bound by the cores: two files
    // at once finished as many files per minute as four. TEST_WORKERS overrides. The timeouts are
    // generous because a file that computes may wait for a core (a timeout guards against a hang;
    // it measures nothing).
    maxWorkers: Number(process.env.TEST_WORKERS) || availableParallelism(),
    testTimeout: 120_000,
    hookTimeout: 240_000,
    reporters: jsonOut ? ['default', 'json'] : ['default'],
    ...(jsonOut ? { outputFile: { json: jsonOut } } : {}),
  },
});
