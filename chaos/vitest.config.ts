import { defineProject } from 'vitest/config';

// The reliability plan: `pnpm test:chaos`, beside the main suite in CI. One
// file at a time (they measure latencies and kill servers of their own), and
// each prints its figures. Client-side parts (breaker, bad service:// URLs,
// SSRF, the Atlas auth matrix) go in test/client-*.test.ts of this project.
export default defineProject({
  test: {
    name: 'chaos',
    include: ['test/**/*.test.ts'],
    fileParallelism: false,
    testTimeout: 90_000,
    hookTimeout: 60_000,
  },
});
