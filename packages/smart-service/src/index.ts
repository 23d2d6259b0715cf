/**
 * smart-service: a production-grade Fastify app in one call.
 *
 * @example
 * import { createSmartService, currentApp } from 'smart-service';
 *
 * const app = await createSmartService({ name: 'hello' });
 * app.get('/', async () => ({ hello: currentApp().realm }));
 * await app.start();
 */

// Route contracts, typed service clients and API descriptions (src/api, plugins/openapi.ts).
export type { ZodTypeProvider } from 'fastify-type-provider-zod';
export { defineConfig, type InferConfig, isSecret, type Secret, secret } from 'smart-config';
// The wire facts a service's own code needs, from the one place they are defined.
export { PROBLEM_CONTENT_TYPE, type Problem, REQUEST_ID_HEADER, REQUEST_ID_PATTERN } from 'smart-protocol';
export {
  type Api,
  type ApiMethod,
  type ApiOf,
  defineRoutes,
  type RouteContract,
  type RouteContracts,
  type RouteSchemas,
  type RouteTypes,
} from './api/routes.ts';
export {
  type ApiFor,
  type CallInput,
  fillPath,
  type JsonCaller,
  type PathOf,
  queryString,
  type ServiceClient,
  serviceClient,
} from './api/typed-client.ts';
export { loadApp, migrateCommand } from './cli.ts';
export { currentApp, currentRequest, maybeCurrentRequest } from './context.ts';
export {
  type AppConfig,
  createSmartService,
  type Register,
  type SmartService,
  type SmartServiceConfig,
  type SmartServiceOptions,
} from './create-smart-service.ts';
export {
  DeadlinePassedError,
  EmbeddedDbInUseError,
  errorCodes,
  FeatureDisabledError,
  InvalidServiceOptionError,
  MigrationError,
  MissingSettingError,
  NoCurrentAppError,
  NoCurrentRequestError,
  problemCodes,
  SmartServiceError,
  type SmartServiceErrorOptions,
} from './errors.ts';
export type {} from './fastify-types.ts';
export { migrate, migratorFor } from './migrations.ts';
// For smart-dev's session lock (the same pid-lock as the embedded database's): not for services.
export { acquirePidLock, isAlive } from './pid-lock.ts';
export type { Database } from './plugins/db.ts';
export type { CheckResult, HealthCheckFn, HealthCheckOptions, ReadinessReport } from './plugins/health.ts';
export type { ApiDescription } from './plugins/openapi.ts';
export { type ServiceConfig, serviceSchema } from './service-config.ts';
