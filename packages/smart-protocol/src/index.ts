/**
 * smart-protocol: the wire facts every smart-service package speaks (header
 * names, name patterns, the problem+json shape) and the coded-error
 * factory, defined once, with no dependencies.
 *
 * @example
 * import { CodedError, createError, DEADLINE_HEADER, SERVICE_NAME_PATTERN } from 'smart-protocol';
 */
export {
  blockListOf,
  DENIED_ADDRESS_RANGES,
  type DeniedAddressRule,
  deniedBy,
  LOOPBACK_RANGES,
} from './addresses.ts';
export {
  CodedError,
  type CodedErrorBase,
  type CodedErrorClass,
  type CodedErrorOptions,
  type CreateErrorOptions,
  createError,
  type TemplateArgs,
} from './create-error.ts';
export {
  CALLER_HEADER,
  DEADLINE_HEADER,
  REQUEST_ID_HEADER,
  SERVICE_HEADER,
  TRACEPARENT_HEADER,
  TRACESTATE_HEADER,
} from './headers.ts';
export {
  CONFIG_KEY_PATTERN,
  HOST_PATTERN,
  INSTANCE_ID_PATTERN,
  isRealm,
  isRequestId,
  isServiceName,
  jsonSchemaPatterns,
  REALM_PATTERN,
  REQUEST_ID_PATTERN,
  SERVICE_NAME_PATTERN,
} from './names.ts';
export {
  PROBLEM_CONTENT_TYPE,
  PROBLEM_JSON_SCHEMAS,
  PROBLEM_MEDIA_TYPE,
  type Problem,
  type RemoteCause,
} from './problem.ts';
