import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { InvalidServiceOptionError } from './errors.ts';

/** A module that builds (but does not start) the service's app. */
interface AppModule {
  build?: () => Promise<FastifyInstance>;
  default?: () => Promise<FastifyInstance>;
}

/**
 * Imports the service's app module and builds the app without listening.
 * The module exports `build()` (or a default function) returning the app.
 */
export async function loadApp(modulePath: string): Promise<FastifyInstance> {
  const url = pathToFileURL(resolve(modulePath)).href;
  const mod = (await import(url)) as AppModule;
  const build = mod.build ?? mod.default;
  if (typeof build !== 'function') {
    throw new InvalidServiceOptionError(`${modulePath} must export a build() function that returns the app`);
  }
  return build();
}

/**
 * `smart migrate`: builds the app from its module, applies every pending
 * migration and closes it. Returns the names applied.
 *
 * @example
 * await migrateCommand({ app: 'src/app.ts' }); // ['0001_create_users']
 */
export async function migrateCommand(options: { app: string }): Promise<string[]> {
  const app = await loadApp(options.app);
  try {
    await app.ready();
    // In realm local the app already migrated while it was built: count those too.
    return [...app.migratedAtStart, ...(await app.migrate())];
  } finally {
    await app.close();
  }
}
