import { configDefaults, defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'smart-dev',
    include: ['test/**/*.test.ts'],
    // The browser tests are their own project (vitest.browser.config.ts, `smart-dev-browser`);
    // timing tests run alone (the root config's `timing` project).
    exclude: [...configDefaults.exclude, 'test/browser/**', '**/*.timing.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 90_000,
  },
});
