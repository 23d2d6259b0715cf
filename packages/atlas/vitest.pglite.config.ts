import { configDefaults, defineProject } from 'vitest/config';

// The Atlas suite again, on the embedded database (PGlite): the test helper
// reads ATLAS_TEST_STORE and gives each test file a copy of a migrated
// template. PGlite is one process's database, so the tests of several Atlas
// processes on one store run on Postgres and etcd only.
export default defineProject({
  test: {
    name: 'atlas-pglite',
    include: ['test/**/*.test.ts'],
    exclude: [
      ...configDefaults.exclude,
      'test/**/*.timing.test.ts',
      'test/pglite.test.ts',
      'test/failover.test.ts',
      'test/replication-postgres.test.ts',
      'test/replication-etcd.test.ts',
      'test/etcd-auth.test.ts',
    ],
    env: { ATLAS_TEST_STORE: 'pglite' },
    globalSetup: ['./test/support/pglite-global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
