import { defineProject } from 'vitest/config';

// The dashboard in a real browser: Debian's Chromium (/usr/bin/chromium,
// never a downloaded one) driven by playwright-core, against FibPro under
// smart dev. A project of its own so CI can run it beside the main suite:
// `pnpm vitest run --project smart-dev-browser`.
export default defineProject({
  test: {
    name: 'smart-dev-browser',
    include: ['test/browser/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // One browser and one FibPro for the file: its tests run in order.
    fileParallelism: false,
  },
});
