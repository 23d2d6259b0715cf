/**
 * What a service's type checker sees on `app`, `request` and `reply`
 * (`app.redis`, `app.db`, `app.client`, `reply.badRequest()`, ...): the
 * `declare module 'fastify'` augmentations of each plugin and of
 * @fastify/sensible.
 *
 * Run from the sources, every file is in the program; from the published
 * declarations, a file's augmentation counts only if some declaration file
 * imports it. `index.ts` re-exports this file, so each augmentation stays
 * reachable from `smart-service`'s types. Type-only: nothing here is loaded at
 * run time. A test checks that every file with such a block is listed.
 */
export type {} from '@fastify/sensible';
export type {} from './create-smart-service.ts';
export type {} from './plugins/bugsnag.ts';
export type {} from './plugins/client.ts';
export type {} from './plugins/db.ts';
export type {} from './plugins/dependencies.ts';
export type {} from './plugins/faults.ts';
export type {} from './plugins/graceful-shutdown.ts';
export type {} from './plugins/health.ts';
export type {} from './plugins/metrics.ts';
export type {} from './plugins/openapi.ts';
export type {} from './plugins/protection.ts';
export type {} from './plugins/redis.ts';
export type {} from './plugins/request-lifecycle.ts';
export type {} from './plugins/tracing.ts';
