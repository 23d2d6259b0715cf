import { readFileSync } from 'node:fs';
import { undocumentedCodes } from 'smart-protocol/testing';
import { describe, expect, it } from 'vitest';
import * as api from '../api/src/errors.ts';
import * as simulator from '../simulator/src/errors.ts';

describe('error codes', () => {
  it.each([
    ['api', api.errorCodes, 'SMART_API_'],
    ['simulator', simulator.errorCodes, 'SIMULATOR_'],
  ] as const)('of %s are unique, prefixed, and each is documented in the README', (_service, codes, prefix) => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(undocumentedCodes({ codes, readme, prefix })).toEqual([]);
  });
});
