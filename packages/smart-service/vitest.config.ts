import { configDefaults, defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'smart-service',
    include: ['test/**/*.test.ts'],
    // Timing tests run alone, after the rest (the root config's `timing` project).
    exclude: [...configDefaults.exclude, '**/*.timing.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
