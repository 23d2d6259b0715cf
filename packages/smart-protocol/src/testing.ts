/**
 * smart-protocol/testing: helpers for every package's own tests.
 *
 * @example
 * import { undocumentedCodes } from 'smart-protocol/testing';
 */
export { type DocumentedCodesInput, undocumentedCodes } from './undocumented-codes.ts';
