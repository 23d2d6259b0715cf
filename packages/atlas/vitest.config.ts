import { configDefaults, defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'atlas',
    include: ['test/**/*.test.ts'],
    // The etcd cluster tests run in the atlas-etcd project (vitest.etcd.config.ts), with the suite on etcd.
    exclude: [...configDefaults.exclude, 'test/replication-etcd.test.ts', 'test/etcd-auth.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
