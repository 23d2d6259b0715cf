import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as fibfrontend from '../fibfrontend/src/errors.ts';
import * as userstore from '../userstore/src/errors.ts';

describe('error codes', () => {
  it.each([
    ['fibfrontend', fibfrontend.errorCodes, /^FIBPRO_[A-Z_]+$/],
    ['userstore', userstore.errorCodes, /^USERSTORE_[A-Z_]+$/],
  ] as const)('of %s are unique, prefixed, and each is documented in the README', (_service, codes, pattern) => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(new Set(codes).size).toBe(codes.length);
    for (const code of codes) {
      expect(code).toMatch(pattern);
      expect(readme).toContain(`\`${code}\``);
    }
  });
});
