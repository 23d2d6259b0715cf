import { configDefaults, defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'example-smart-api',
    include: ['test/**/*.test.ts'],
    exclude: [...configDefaults.exclude, '**/*.timing.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 90_000,
  },
});
