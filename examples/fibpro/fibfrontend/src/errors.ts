/**
 * fibfrontend's errors: each has the HTTP status it is answered with and a
 * `code`. Every code is listed in the example's README; a test checks it.
 */

import { createError } from 'smart-protocol';
import { SmartServiceError } from 'smart-service';

/** The challenge a 401 carries, so browsers and curl know to send Basic auth. */
export const CHALLENGE = 'Basic realm="FibPro", charset="UTF-8"';

export const codes = {
  /** 400: n is not a whole number from 0 to the maximum (`4.5`, `favicon.ico`, `-3`, `10001`). */
  badN: 'FIBPRO_BAD_N',
  /** 401: no `Authorization: Basic ...` header, or one that does not decode to `user:password`. */
  authRequired: 'FIBPRO_AUTH_REQUIRED',
  /** 401: userstore does not know this user name and password. */
  badCredentials: 'FIBPRO_BAD_CREDENTIALS',
  /** 402: fib(n) costs more than the user's credit; nothing was charged. */
  insufficientCredit: 'FIBPRO_INSUFFICIENT_CREDIT',
} as const;

/** Every code fibfrontend answers with (besides smart-service's and smart-client's). */
export const errorCodes = Object.values(codes);

const base = SmartServiceError;
const challenge = { headers: { 'www-authenticate': CHALLENGE } };
const BadN = createError(codes.badN, 400, (detail: string) => detail, { base });
const AuthRequired = createError(codes.authRequired, 401, 'log in with HTTP Basic auth', { base, ...challenge });
const BadCredentials = createError(codes.badCredentials, 401, 'wrong user name or password for %s', {
  base,
  ...challenge,
});
const InsufficientCredit = createError(codes.insufficientCredit, 402, (detail: string) => detail, { base });

export const badN = (detail: string) => new BadN(detail);

export const authRequired = () => new AuthRequired();

export const badCredentials = (user: string) => new BadCredentials(user);

/** `detail` is userstore's: `fib(10) costs 4, user bob has insufficient credit (3)`. */
export const insufficientCredit = (detail: string) => new InsufficientCredit(detail);
