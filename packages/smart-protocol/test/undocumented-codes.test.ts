import { describe, expect, it } from 'vitest';
import { undocumentedCodes } from '../src/testing.ts';

const readme = 'Codes: `PKG_A`, `PKG_B`. PKG_C is mentioned without backticks.';

describe('undocumentedCodes', () => {
  it('finds nothing when every code is unique, prefixed and in the README', () => {
    expect(undocumentedCodes({ codes: ['PKG_A', 'PKG_B'], readme, prefix: 'PKG_' })).toEqual([]);
    expect(undocumentedCodes({ codes: { a: 'PKG_A', b: 'PKG_B' }, readme, prefix: 'PKG_' })).toEqual([]);
  });

  it('names a code that is missing from the README as `CODE`', () => {
    expect(undocumentedCodes({ codes: ['PKG_A', 'PKG_C'], readme, prefix: 'PKG_' })).toEqual([
      'PKG_C is not in the README as `PKG_C`',
    ]);
  });

  it('names a code listed twice', () => {
    expect(undocumentedCodes({ codes: ['PKG_A', 'PKG_A'], readme, prefix: 'PKG_' })).toEqual([
      'PKG_A is listed more than once',
    ]);
  });

  it('names a code without the prefix or with other characters', () => {
    const doc = '`OTHER_A` `PKG_a`';
    expect(undocumentedCodes({ codes: ['OTHER_A', 'PKG_a'], readme: doc, prefix: 'PKG_' })).toEqual([
      'OTHER_A is not PKG_ followed by A-Z, 0-9 and _',
      'PKG_a is not PKG_ followed by A-Z, 0-9 and _',
    ]);
  });

  it('says so when given no codes, so a wrong import cannot pass', () => {
    expect(undocumentedCodes({ codes: [], readme, prefix: 'PKG_' })).toEqual(['no codes were given']);
  });
});
