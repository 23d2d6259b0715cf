import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      'packages/*',
      // The dashboard's browser tests (Chromium): a project of their own.
      'packages/smart-dev/vitest.browser.config.ts',
      // The Atlas suite again with its store on etcd ...
      'packages/atlas/vitest.etcd.config.ts',
      // ... and on the embedded database (PGlite).
      'packages/atlas/vitest.pglite.config.ts',
      'examples/*',
      'e2e',
      // The reliability plan against real Redis, Postgres and Atlas: `pnpm test:chaos`.
      'chaos',
      {
        // Tests that measure time (`*.timing.test.ts`) run in a group of their
        // own, one file at a time, with no other test file running: the rest
        // of the suite would otherwise add tens of ms to what they measure.
        // (With several workers the other projects run first, in parallel; on
        // a 2-core machine vitest uses one worker, and this group runs before
        // the sequential rest.) Each package's own project excludes these files.
        test: {
          name: 'timing',
          include: ['packages/*/test/**/*.timing.test.ts', 'examples/*/test/**/*.timing.test.ts'],
          exclude: [...configDefaults.exclude],
          sequence: { groupOrder: 1 },
          fileParallelism: false,
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
    // Starts throwaway Postgres and Redis when DATABASE_URL / REDIS_URL are unset.
    globalSetup: ['./scripts/vitest-global-setup.ts'],
    reporters: ['default', './scripts/vitest-summary-reporter.ts'],
  },
});
