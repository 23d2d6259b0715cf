import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as api from '../api/src/errors.ts';
import * as simulator from '../simulator/src/errors.ts';

describe('error codes', () => {
  it.each([
    ['api', api.errorCodes, /^SMART_API_[A-Z_]+$/],
    ['simulator', simulator.errorCodes, /^SIMULATOR_[A-Z_]+$/],
  ] as const)('of %s are unique, prefixed, and each is documented in the README', (_service, codes, pattern) => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(new Set(codes).size).toBe(codes.length);
    for (const code of codes) {
      expect(code).toMatch(pattern);
      expect(readme).toContain(`\`${code}\``);
    }
  });
});
