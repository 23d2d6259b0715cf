import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'smart-config',
    include: ['test/**/*.test.ts'],
  },
});
