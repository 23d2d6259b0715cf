/**
 * userstore's errors: each has the HTTP status it is answered with and a
 * `code` its callers match (fibfrontend, through `RemoteError.remoteCode`).
 * Every code is listed in the example's README; a test checks it.
 */
import { createError } from 'smart-protocol';
import { SmartServiceError } from 'smart-service';

export const codes = {
  /** 401: unknown user or wrong password (one answer for both: names cannot be probed). */
  badCredentials: 'USERSTORE_BAD_CREDENTIALS',
  /** 404: no user of that name. */
  noSuchUser: 'USERSTORE_NO_SUCH_USER',
  /** 402: the charge would take the credit below zero; nothing was charged. */
  insufficientCredit: 'USERSTORE_INSUFFICIENT_CREDIT',
  /** 400: a charge without an `idempotency-key` header. */
  idempotencyKeyRequired: 'USERSTORE_IDEMPOTENCY_KEY_REQUIRED',
  /** 422: an idempotency key already used for a charge of another user or amount. */
  idempotencyKeyReused: 'USERSTORE_IDEMPOTENCY_KEY_REUSED',
  /** 500: a stored password hash in a scheme this service does not know (a record an older system left). */
  unsupportedHash: 'USERSTORE_UNSUPPORTED_HASH',
} as const;

/** Every code userstore answers with. */
export const errorCodes = Object.values(codes);

const base = SmartServiceError;
const BadCredentials = createError(codes.badCredentials, 401, 'wrong user name or password for %s', { base });
const NoSuchUser = createError(codes.noSuchUser, 404, 'no user %s', { base });
const InsufficientCredit = createError(
  codes.insufficientCredit,
  402,
  (name: string, credit: number, amount: number, item: string | undefined) =>
    item
      ? `${item} costs ${amount}, user ${name} has insufficient credit (${credit})`
      : `user ${name} has insufficient credit (${credit}) for a charge of ${amount}`,
  { base },
);
const IdempotencyKeyRequired = createError(
  codes.idempotencyKeyRequired,
  400,
  'a charge needs an idempotency-key header (1 to 128 characters), so that a retried charge is applied once',
  { base },
);
const IdempotencyKeyReused = createError(
  codes.idempotencyKeyReused,
  422,
  'idempotency key %s was already used for a charge of another user or amount',
  { base },
);
const UnsupportedHash = createError(
  codes.unsupportedHash,
  500,
  (scheme: string | undefined) => `unsupported password hash scheme "${scheme ?? ''}": the record needs migrating`,
  { base },
);

export const badCredentials = (name: string) => new BadCredentials(name);

export const noSuchUser = (name: string) => new NoSuchUser(name);

/** `item` names what was bought (`fib(10)`): the message is the one FibPro 365 showed its users. */
export const insufficientCredit = (name: string, credit: number, amount: number, item?: string) =>
  new InsufficientCredit(name, credit, amount, item);

export const idempotencyKeyRequired = () => new IdempotencyKeyRequired();

export const idempotencyKeyReused = (key: string) => new IdempotencyKeyReused(key);

/** A 500: not the caller's fault, so it is logged with its stack, reported, and shows as a RemoteError upstream. */
export const unsupportedHash = (scheme: string | undefined) => new UnsupportedHash(scheme);
