/**
 * userstore's errors: each has the HTTP status it is answered with and a
 * `code` its callers match (fibfrontend, through `RemoteError.remoteCode`).
 * Every code is listed in the example's README; a test checks it.
 */
import { SmartServiceError } from 'smart-service';

export const codes = {
  /** 400: a parameter or the body is not what the route takes. */
  badRequest: 'USERSTORE_BAD_REQUEST',
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

export const badRequest = (detail: string) => new SmartServiceError(codes.badRequest, 400, detail);

export const badCredentials = (name: string) =>
  new SmartServiceError(codes.badCredentials, 401, `wrong user name or password for ${name}`);

export const noSuchUser = (name: string) => new SmartServiceError(codes.noSuchUser, 404, `no user ${name}`);

/** `item` names what was bought (`fib(10)`): the message is the one FibPro 365 showed its users. */
export const insufficientCredit = (name: string, credit: number, amount: number, item?: string) =>
  new SmartServiceError(
    codes.insufficientCredit,
    402,
    item
      ? `${item} costs ${amount}, user ${name} has insufficient credit (${credit})`
      : `user ${name} has insufficient credit (${credit}) for a charge of ${amount}`,
  );

export const idempotencyKeyRequired = () =>
  new SmartServiceError(
    codes.idempotencyKeyRequired,
    400,
    'a charge needs an idempotency-key header (1 to 128 characters), so that a retried charge is applied once',
  );

export const idempotencyKeyReused = (key: string) =>
  new SmartServiceError(
    codes.idempotencyKeyReused,
    422,
    `idempotency key ${key} was already used for a charge of another user or amount`,
  );

/** A 500: not the caller's fault, so it is logged with its stack, reported, and shows as a RemoteError upstream. */
export const unsupportedHash = (scheme: string | undefined) =>
  new SmartServiceError(
    codes.unsupportedHash,
    500,
    `unsupported password hash scheme "${scheme ?? ''}": the record needs migrating`,
  );
