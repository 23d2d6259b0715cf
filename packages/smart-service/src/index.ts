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
export { defineConfig, type InferConfig, isSecret, type Secret, secret } from 'smart-config';
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
export { migrate, migratorFor } from './migrations.ts';
export type { Database } from './plugins/db.ts';
export type { CheckResult, HealthCheckFn, HealthCheckOptions, ReadinessReport } from './plugins/health.ts';
export { PROBLEM_CONTENT_TYPE, type Problem } from './plugins/problem-errors.ts';
export { REQUEST_ID_HEADER, REQUEST_ID_PATTERN } from './plugins/request-context.ts';
export { type ServiceConfig, serviceSchema } from './service-config.ts';
