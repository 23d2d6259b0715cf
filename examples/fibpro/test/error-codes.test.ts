import { readFileSync } from 'node:fs';
import { undocumentedCodes } from 'smart-protocol/testing';
import { describe, expect, it } from 'vitest';
import * as fibfrontend from '../fibfrontend/src/errors.ts';
import * as userstore from '../userstore/src/errors.ts';

describe('error codes', () => {
  it.each([
    ['fibfrontend', fibfrontend.errorCodes, 'FIBPRO_'],
    ['userstore', userstore.errorCodes, 'USERSTORE_'],
  ] as const)('of %s are unique, prefixed, and each is documented in the README', (_service, codes, prefix) => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(undocumentedCodes({ codes, readme, prefix })).toEqual([]);
  });
});
