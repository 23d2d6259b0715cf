/**
 * Every error smart-config throws or emits. Callers match `err.code`, never
 * the message; the codes are listed (and tested to be listed) in the README.
 */
import { CodedError, createError } from 'smart-protocol';

/** One problem with one config key, as reported by load and live updates. */
export interface ConfigIssue {
  /** Dotted key, e.g. `db.poolMax`; empty for a problem with the whole config. */
  readonly key: string;
  /** The layer whose value failed (`env`, `realm:production`, a source name), or `unset`. */
  readonly layer: string;
  /** What is wrong. Never contains a secret's value. */
  readonly message: string;
  /** The environment variable that sets this key, as a hint for the fix. */
  readonly envVar?: string | undefined;
}

/**
 * Base class of every smart-config error. Its `statusCode` is 500: a config
 * problem is the service's fault, never the caller's.
 *
 * @example
 * try { await loadConfig(definition, { service: 'orders' }) }
 * catch (err) { if (err instanceof SmartConfigError && err.code === 'SMART_CONFIG_INVALID') ... }
 */
export class SmartConfigError extends CodedError {}

const base = SmartConfigError;

function formatIssues(issues: readonly ConfigIssue[]): string {
  return issues
    .map((issue) => {
      const where = issue.layer === 'unset' ? 'not set by any layer' : `from ${issue.layer}`;
      const hint = issue.envVar ? ` [${issue.envVar}]` : '';
      return `  - ${issue.key || '(config)'} (${where})${hint}: ${issue.message}`;
    })
    .join('\n');
}

/** Base of the two load-time failures; `issues` lists every bad key with its layer. */
export class ConfigIssuesError extends SmartConfigError {
  readonly issues: readonly ConfigIssue[];

  constructor(code: string, service: string, realm: string, issues: readonly ConfigIssue[]) {
    super(code, 500, `Invalid config for service "${service}" in realm "${realm}":\n${formatIssues(issues)}`);
    this.issues = issues;
  }
}

/** The merged config does not satisfy the schema. */
export class ConfigValidationError extends ConfigIssuesError {
  static readonly code = 'SMART_CONFIG_INVALID';
  static readonly statusCode = 500;

  constructor(service: string, realm: string, issues: readonly ConfigIssue[]) {
    super(ConfigValidationError.code, service, realm, issues);
  }
}

/** Only `secret()` keys are missing: each must come from the environment or Atlas. */
export class MissingSecretError extends ConfigIssuesError {
  static readonly code = 'SMART_CONFIG_SECRET_MISSING';
  static readonly statusCode = 500;

  constructor(service: string, realm: string, issues: readonly ConfigIssue[]) {
    super(MissingSecretError.code, service, realm, issues);
  }
}

/** A live update from a watching source failed validation; the last good config stays. */
export class UpdateRejectedError extends createError(
  'SMART_CONFIG_UPDATE_REJECTED',
  500,
  (source: string, issues: readonly ConfigIssue[]) =>
    `Rejected a config update from "${source}"; the last good config stays:\n${formatIssues(issues)}`,
  { base },
) {
  readonly source: string;
  readonly issues: readonly ConfigIssue[];

  constructor(source: string, issues: readonly ConfigIssue[]) {
    super(source, issues);
    this.source = source;
    this.issues = issues;
  }
}

/** `defineConfig` was given something that cannot work (caught at import time). */
export class InvalidDefinitionError extends createError(
  'SMART_CONFIG_INVALID_DEFINITION',
  500,
  (message: string) => `Invalid config definition: ${message}`,
  { base },
) {}

/** `loadConfig` was given a bad option (service name, realm, sources). */
export class InvalidOptionError extends createError(
  'SMART_CONFIG_INVALID_OPTION',
  500,
  (message: string) => `Invalid loadConfig option: ${message}`,
  { base },
) {}

/** A source's `load()` or `watch()` failed at start; `cause` holds its error. */
export class SourceFailedError extends createError(
  'SMART_CONFIG_SOURCE_FAILED',
  500,
  (source: string, cause: unknown) =>
    `Config source "${source}" failed: ${cause instanceof Error ? cause.message : String(cause)}`,
  { base },
) {
  readonly source: string;

  constructor(source: string, cause: unknown) {
    super(source, cause, { cause });
    this.source = source;
  }
}

/** `explain(key)` was asked about a key the schema does not have. */
export class UnknownKeyError extends createError(
  'SMART_CONFIG_UNKNOWN_KEY',
  500,
  (key: string) => `Unknown config key "${key}"`,
  { base },
) {
  readonly key: string;

  constructor(key: string) {
    super(key);
    this.key = key;
  }
}

/** Every error code of this package, for documentation and exhaustive matching. */
export const errorCodes = [
  ConfigValidationError.code,
  MissingSecretError.code,
  UpdateRejectedError.code,
  InvalidDefinitionError.code,
  InvalidOptionError.code,
  SourceFailedError.code,
  UnknownKeyError.code,
] as const;

/** The union of smart-config's error codes. */
export type SmartConfigErrorCode = (typeof errorCodes)[number];
