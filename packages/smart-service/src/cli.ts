import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
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

/** What smart-dev exports for the `smart` command to hand over to. */
interface SmartDevModule {
  runCli(argv: readonly string[], name?: string): Promise<number>;
}

/** Where `smart-dev` is installed: the project's own first (the folder it runs in), else next to smart-service. */
function findSmartDev(cwd: string): string | undefined {
  for (const from of [join(cwd, 'package.json'), import.meta.filename]) {
    try {
      return createRequire(from).resolve('smart-dev');
    } catch {}
  }
  return undefined;
}

/**
 * `smart dev` and `smart monitor` live in the smart-dev package (a
 * development tool, not part of a service's runtime): this hands the command
 * line to it when it is installed, and says how to install it when not.
 * smart-service cannot depend on smart-dev (smart-dev is built on it), so it
 * is found at run time. Resolves with the exit code.
 *
 * @example
 * process.exitCode = await delegateToSmartDev(['dev', 'examples/fibpro']);
 */
export async function delegateToSmartDev(argv: readonly string[], cwd = process.cwd()): Promise<number> {
  const entry = findSmartDev(cwd);
  if (!entry) {
    console.error(
      `smart: \`smart ${argv[0]}\` is in the smart-dev package, which is not installed here: install it as a dev dependency (pnpm add -D smart-dev, or npm install -D smart-dev)`,
    );
    return 1;
  }
  const smartDev = (await import(pathToFileURL(entry).href)) as SmartDevModule;
  return smartDev.runCli(argv, 'smart');
}
