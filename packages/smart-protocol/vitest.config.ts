import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'smart-protocol',
    include: ['test/**/*.test.ts'],
  },
});
