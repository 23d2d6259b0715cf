import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { errorCodes } from '../fizz/src/errors.ts';

describe('error codes', () => {
  it('are unique, prefixed FIZZBUZZ_, and each is documented in the README', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(new Set(errorCodes).size).toBe(errorCodes.length);
    for (const code of errorCodes) {
      expect(code).toMatch(/^FIZZBUZZ_[A-Z_]+$/);
      expect(readme).toContain(`\`${code}\``);
    }
  });
});
