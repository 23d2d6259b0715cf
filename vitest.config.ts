import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: ['packages/*'],
    // Starts throwaway Postgres and Redis when DATABASE_URL / REDIS_URL are unset.
    globalSetup: ['./scripts/vitest-global-setup.ts'],
    reporters: ['default', './scripts/vitest-summary-reporter.ts'],
  },
});
