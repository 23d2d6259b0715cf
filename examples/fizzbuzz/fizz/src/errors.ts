/**
 * FizzBuzz's errors (the three services share their input rules). Every
 * code is listed in the example's README; a test checks it.
 */
import { createError } from 'smart-protocol';
import { SmartServiceError } from 'smart-service';

export const codes = {
  /** 400: n, from or to is not a whole number from 1 to 999999999, or from..to is decreasing or over 10,000 numbers. */
  badRange: 'FIZZBUZZ_BAD_RANGE',
} as const;

/** Every code the FizzBuzz services answer with. */
export const errorCodes = Object.values(codes);

const BadRange = createError(codes.badRange, 400, (detail: string) => detail, { base: SmartServiceError });

/**
 * A 400 problem for bad input.
 *
 * @example
 * throw badRange('n must be a whole number >= 1');
 */
export const badRange = (detail: string) => new BadRange(detail);
