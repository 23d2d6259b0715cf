import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { codes } from '../src/index.ts';

describe('error codes', () => {
  it('are unique, prefixed SMART_CREATE_, and each is documented in the README', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const all = Object.values(codes);
    expect(new Set(all).size).toBe(all.length);
    for (const code of all) {
      expect(code).toMatch(/^SMART_CREATE_[A-Z_]+$/);
      expect(readme).toContain(`\`${code}\``);
    }
  });
});
