import { configDefaults, defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'smart-sidecar',
    include: ['test/**/*.test.ts'],
    exclude: [...configDefaults.exclude, 'test/**/*.timing.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
