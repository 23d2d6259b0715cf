import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { undocumentedCodes } from 'smart-protocol/testing';
import { describe, expect, it } from 'vitest';
import { errorCodes } from '../src/index.ts';

describe('error codes', () => {
  it('are unique, SMART_DEV_ and each documented in the README', () => {
    const readme = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');
    expect(undocumentedCodes({ codes: errorCodes, readme, prefix: 'SMART_DEV_' })).toEqual([]);
  });
});
