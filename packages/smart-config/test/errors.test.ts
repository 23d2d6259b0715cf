import { readFileSync } from 'node:fs';
import { undocumentedCodes } from 'smart-protocol/testing';
import { describe, expect, it } from 'vitest';
import * as api from '../src/index.ts';

describe('error codes', () => {
  it('are unique, prefixed SMART_CONFIG_, and each is documented in the README', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(undocumentedCodes({ codes: api.errorCodes, readme, prefix: 'SMART_CONFIG_' })).toEqual([]);
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
