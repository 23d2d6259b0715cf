/**
 * smart-config: typed, layered, live configuration.
 *
 * @example
 * import { z } from 'zod';
 * import { defineConfig, loadConfig, secret } from 'smart-config';
 *
 * const definition = defineConfig({
 *   schema: z.object({ port: z.number().int(), apiKey: z.string() }),
 *   defaults: { port: 3000, apiKey: secret({ local: 'dev-key' }) },
 *   realms: { production: { port: 8080 } },
 * });
 * const config = await loadConfig(definition, { service: 'orders' });
 */
export { type AtlasSourceOptions, atlasSource } from './atlas-source.ts';
export { type Coerced, coerce } from './coerce.ts';
export { type ConfigKey, ENV_PREFIX, envVarFor, type ValueKind } from './config-keys.ts';
export {
  type ConfigSource,
  type Env,
  envSource,
  type MemorySource,
  memorySource,
  type SourceContext,
  type Unwatch,
} from './config-source.ts';
export {
  type ConfigDefinition,
  type ConfigSpec,
  type ConfigValue,
  type DeepReadonly,
  type DefaultsOf,
  defineConfig,
  type InferConfig,
  type OverridesOf,
  REALM_PATTERN,
} from './define-config.ts';
export {
  type ConfigIssue,
  ConfigIssuesError,
  ConfigValidationError,
  errorCodes,
  InvalidDefinitionError,
  InvalidOptionError,
  MissingSecretError,
  SmartConfigError,
  type SmartConfigErrorCode,
  SourceFailedError,
  UnknownKeyError,
  UpdateRejectedError,
} from './errors.ts';
export { configJsonSchema, SECRET_KEYWORD } from './json-schema.ts';
export { isSecret, Secret, type SecretOptions, SecretPlaceholder, secret } from './secret.ts';
export {
  type ConfigChange,
  type ConfigEvents,
  type KeyExplanation,
  type LoadConfigOptions,
  loadConfig,
  SmartConfig,
} from './smart-config.ts';
