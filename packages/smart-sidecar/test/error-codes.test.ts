import { readFileSync } from 'node:fs';
import { undocumentedCodes } from 'smart-protocol/testing';
import { describe, expect, it } from 'vitest';
import { errorCodes } from '../src/index.ts';

describe('error codes', () => {
  it('are unique, prefixed SMART_SIDECAR_, and each is documented in the README', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(undocumentedCodes({ codes: errorCodes, readme, prefix: 'SMART_SIDECAR_' })).toEqual([]);
  });
});
