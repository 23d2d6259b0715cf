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

/** An error of create-smart-service, with a code and the advice to fix it. */
export class CreateError extends Error {
  readonly code: CreateErrorCode;

  constructor(code: CreateErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CreateError';
    this.code = code;
  }
}
