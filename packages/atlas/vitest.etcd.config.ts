import { configDefaults, defineProject } from 'vitest/config';

// The Atlas suite again, on etcd: the test helper reads ATLAS_TEST_STORE and
// points every Atlas at the etcd member the global setup started.
export default defineProject({
  test: {
    name: 'atlas-etcd',
    include: ['test/**/*.test.ts'],
    exclude: [
      ...configDefaults.exclude,
      'test/**/*.timing.test.ts',
      // The embedded database and the Postgres replication tests are about those backends only.
      'test/pglite.test.ts',
      'test/replication-postgres.test.ts',
    ],
    env: { ATLAS_TEST_STORE: 'etcd' },
    globalSetup: ['./test/support/etcd-global-setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
