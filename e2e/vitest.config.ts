import { defineProject } from 'vitest/config';

// Slow (a registry, real installs): `pnpm test:registry`, run beside the rest by scripts/test.sh.
export default defineProject({
  test: {
    name: 'registry',
    include: ['test/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
  },
});
