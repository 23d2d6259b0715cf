import { CodedError } from 'smart-protocol';

/** Every error code of create-smart-service; callers match `err.code`, never the message. */
export const codes = {
  invalidName: 'SMART_CREATE_INVALID_NAME',
  targetNotEmpty: 'SMART_CREATE_TARGET_NOT_EMPTY',
  invalidOption: 'SMART_CREATE_INVALID_OPTION',
  templateMissing: 'SMART_CREATE_TEMPLATE_MISSING',
  installFailed: 'SMART_CREATE_INSTALL_FAILED',
  gitFailed: 'SMART_CREATE_GIT_FAILED',
} as const;

export type CreateErrorCode = (typeof codes)[keyof typeof codes];

/**
 * An error of create-smart-service, with a code and the advice to fix it.
 * A command-line error, never an HTTP answer: its `statusCode` is 500, as for
 * any coded error nobody answers a request with.
 *
 * @example
 * throw new CreateError(codes.invalidName, '"Orders" is not a valid service name: use kebab-case.');
 */
export class CreateError extends CodedError {
  declare readonly code: CreateErrorCode;

  constructor(code: CreateErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, 500, message, options);
  }
}
