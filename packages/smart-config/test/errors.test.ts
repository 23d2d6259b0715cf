import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as api from '../src/index.ts';

describe('error codes', () => {
  it('are unique, prefixed SMART_CONFIG_, and each is documented in the README', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(new Set(api.errorCodes).size).toBe(api.errorCodes.length);
    for (const code of api.errorCodes) {
      expect(code).toMatch(/^SMART_CONFIG_[A-Z_]+$/);
      expect(readme).toContain(`\`${code}\``);
    }
  });

  it('every exported error class carries its code and a 500 status', () => {
    const classes = Object.values(api).filter(
      (value): value is typeof api.SmartConfigError & { code: string } =>
        typeof value === 'function' && value.prototype instanceof api.SmartConfigError && 'code' in value,
    );
    expect(classes.map((c) => c.code).sort()).toEqual([...api.errorCodes].sort());
    const err = new api.UnknownKeyError('x');
    expect(err).toBeInstanceOf(api.SmartConfigError);
    expect(err.code).toBe('SMART_CONFIG_UNKNOWN_KEY');
    expect(err.statusCode).toBe(500);
    expect(err.name).toBe('UnknownKeyError');
  });
});
