import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import type { AtlasClient } from 'atlas-client';
import Fastify, { type FastifyInstance, type FastifyServerOptions, LogController } from 'fastify';
import type { DestinationStream } from 'pino';
import {
  atlasSource,
  type ConfigDefinition,
  type ConfigSource,
  type Env,
  type InferConfig,
  isSecret,
  loadConfig,
  type Secret,
  type SmartConfig,
} from 'smart-config';
import { isServiceName, SERVICE_NAME_PATTERN } from 'smart-protocol';
import { trackApp } from './context.ts';
import { FeatureDisabledError, InvalidServiceOptionError, MissingSettingError } from './errors.ts';
import { lazySchemaCompilers } from './lazy-compilers.ts';
import { createLogger } from './logger.ts';
import {
  type AtlasSettings,
  atlasClientFor,
  atlasRegistration,
  atlasSettings,
  configSchemaOf,
} from './plugins/atlas.ts';
import { bugsnag } from './plugins/bugsnag.ts';
import { client } from './plugins/client.ts';
import { configHealth } from './plugins/config-health.ts';
import type { DbOptions } from './plugins/db.ts';
import { dependencies } from './plugins/dependencies.ts';
import { faults } from './plugins/faults.ts';
import { gracefulShutdown } from './plugins/graceful-shutdown.ts';
import { health } from './plugins/health.ts';
import { metrics } from './plugins/metrics.ts';
import { openapi } from './plugins/openapi.ts';
import { frameworkErrors, problemErrors } from './plugins/problem-errors.ts';
import { protection } from './plugins/protection.ts';
import type { RedisOptions } from './plugins/redis.ts';
import { requestIdFor } from './plugins/request-context.ts';
import { requestLifecycle } from './plugins/request-lifecycle.ts';
import { sensible } from './plugins/sensible.ts';
import { tracing } from './plugins/tracing.ts';
import { otelEnvSource } from './plugins/tracing-settings.ts';
import { type ServiceConfig, withServiceKeys } from './service-config.ts';

/** Options of `createSmartService`. */
export interface SmartServiceOptions<Def extends ConfigDefinition | undefined = undefined> {
  /** The service's name (kebab-case): in every log line, metric, problem and Atlas. */
  readonly name: string;
  readonly version?: string;
  /** The service's own config (`defineConfig`); the service keys (http, db, redis, ...) are added to it. */
  readonly config?: Def;
  /** The service's folder: migrations and the embedded database live under it. Default: the working directory. */
  readonly root?: string;
  /** Use a database. Default: only when `db.url` is set. In realm `local` with no URL, PGlite. */
  readonly db?: boolean;
  /** Use Redis. Default: only when `redis.url` is set. In realm `local` with no URL, redis://127.0.0.1:6379. */
  readonly redis?: boolean;
  /** The realm; default `SMART_REALM`, then `local`. */
  readonly realm?: string;
  /** The environment to read config from; default `process.env`. */
  readonly env?: Env;
  /** Config sources above the environment (Atlas is one). */
  readonly sources?: readonly ConfigSource[];
  /** Where log lines go; default stdout. */
  readonly logDestination?: DestinationStream;
  /** Extra Fastify server options, applied last. */
  readonly fastify?: Partial<FastifyServerOptions>;
  /** The API reference page at `/docs`; default: outside realm `production`. `/openapi.json` is always served. */
  readonly docs?: boolean;
}

/** The service's config value: the service keys plus the service's own. */
export type SmartServiceConfig<Def> = Def extends ConfigDefinition ? ServiceConfig & InferConfig<Def> : ServiceConfig;

/** A smart service: a Fastify instance whose `config` has the service's own type. */
export type SmartService<C = ServiceConfig> = FastifyInstance & { readonly config: C };

/**
 * Tells every `FastifyInstance` (and so `currentApp()`) your config's type:
 *
 * @example
 * declare module 'smart-service' {
 *   interface Register { config: SmartServiceConfig<typeof definition> }
 * }
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled in by users through declaration merging.
export interface Register {}

/** The config type every app has: the registered one, else the service keys. */
export type AppConfig = Register extends { config: infer C } ? C : ServiceConfig;

declare module 'fastify' {
  interface FastifyInstance {
    /** The current config: typed, frozen, replaced as a whole by each accepted live change. */
    readonly config: AppConfig;
    /** The realm this service runs in (`local`, `testing`, `production`, ...). */
    readonly realm: string;
    /** The service's name, version and this instance's id. */
    readonly serviceInfo: { readonly name: string; readonly version: string; readonly instanceId: string };
    /** The loaded config, for `explain()` and `on('change')`. `app.config` is its current value. */
    readonly smartConfig: SmartConfig<unknown>;
  }
}

// A service secret's value; a service may also give it as a plain default (a local URL).
function revealed(value: Secret<string> | string | undefined): string | undefined {
  return isSecret(value) ? (value.reveal() as string) : value;
}

// What `app.db` / `app.redis` do in a service that has none: say how to get one.
function disabled(feature: 'db' | 'redis'): () => never {
  return () => {
    throw new FeatureDisabledError(feature);
  };
}

// The phases of the first start in a process, as performance marks
// (`smart-service:<phase>`, milliseconds since the process started):
// bench/cold-start.ts reads them to say where a cold start goes. Later
// apps (tests make hundreds) add none.
let firstStart = true;
function phaseMarker(): ((phase: string) => void) | undefined {
  if (!firstStart) return undefined;
  firstStart = false;
  return (phase) => performance.mark(`smart-service:${phase}`);
}

// A timeout for Node that cuts by `ms` though checked every `interval` (0 stays off).
function cutBy(ms: number, interval: number): number {
  return ms === 0 ? 0 : Math.max(Math.ceil(ms / 2), ms - 2 * interval);
}

function dbOptions(
  config: ServiceConfig,
  realm: string,
  root: string,
  wanted: boolean | undefined,
): DbOptions | undefined {
  const url = revealed(config.db.url);
  if (!(wanted ?? url !== undefined)) return undefined;
  if (!url && realm !== 'local')
    throw new MissingSettingError('db.url', 'SMART_DB__URL', 'this service uses a database');
  return {
    ...config.db,
    url,
    embeddedDir: resolve(root, config.db.embeddedDir),
    migrationsDir: resolve(root, config.db.migrationsDir),
    migrateAtStart: config.db.migrateAtStart ?? realm === 'local',
    healthTimeoutMs: config.health.timeoutMs,
  };
}

function redisOptions(config: ServiceConfig, realm: string, wanted: boolean | undefined): RedisOptions | undefined {
  const url = revealed(config.redis.url);
  if (!(wanted ?? url !== undefined)) return undefined;
  if (!url && realm !== 'local')
    throw new MissingSettingError('redis.url', 'SMART_REDIS__URL', 'this service uses Redis');
  return { ...config.redis, url: url ?? 'redis://127.0.0.1:6379' };
}

/**
 * Creates a smart service: loads its config (defaults, realm, environment,
 * Atlas), then builds a Fastify app with logging and request ids, problem+json
 * errors reported to Bugsnag, health and readiness, metrics, and, when asked,
 * Postgres (`app.db`) and Redis (`app.redis`). Register routes, then `start()`.
 *
 * @example
 * const app = await createSmartService({ name: 'hello', config: definition });
 * app.get('/hello', async () => ({ hello: currentApp().config.greeting }));
 * await app.start();
 */
export async function createSmartService<Def extends ConfigDefinition | undefined = undefined>(
  options: SmartServiceOptions<Def>,
): Promise<SmartService<SmartServiceConfig<Def>>> {
  if (!options || !isServiceName(options.name)) {
    throw new InvalidServiceOptionError(`name must be a kebab-case service name matching ${SERVICE_NAME_PATTERN}`);
  }
  const mark = phaseMarker();
  mark?.('create');
  const { name } = options;
  const version = options.version ?? '0.0.0';
  const root = options.root ?? process.cwd();
  const atlas = atlasSettings(options.env ?? process.env, root);
  const atlasClient = atlas ? await atlasClientFor(atlas) : undefined;
  // Until the logger exists, warnings from the Atlas source wait here.
  let warn: (message: string, detail: Record<string, unknown>) => void;
  const early: [string, Record<string, unknown>][] = [];
  warn = (message, detail) => early.push([message, detail]);
  const sources = [
    // The standard OTEL_* variables, as the tracing.* keys: just above the SMART_* environment.
    otelEnvSource(options.env ?? process.env),
    ...(options.sources ?? []),
    ...(atlasClient
      ? [atlasSource({ client: atlasClient, required: atlas?.required ?? false, onWarning: (m, d) => warn(m, d) })]
      : []),
  ];
  const smartConfig = (await loadConfig(withServiceKeys(options.config), {
    service: name,
    ...(options.realm ? { realm: options.realm } : {}),
    ...(options.env ? { env: options.env } : {}),
    sources,
  }).catch(async (err: unknown) => {
    await atlasClient?.close();
    throw err;
  })) as unknown as SmartConfig<ServiceConfig>;
  mark?.('config');
  const { realm } = smartConfig;
  const config = smartConfig.value;
  const dbSettings = dbOptions(config, realm, root, options.db);
  const redisSettings = redisOptions(config, realm, options.redis);

  const logger = createLogger({
    service: name,
    version,
    realm,
    level: config.log.level,
    pretty: config.log.pretty ?? (realm === 'local' && process.stdout.isTTY === true),
    destination: options.logDestination,
  });
  const serverOptions: FastifyServerOptions = {
    loggerInstance: logger,
    genReqId: requestIdFor,
    requestIdHeader: false,
    // Our own access line replaces Fastify's two lines per request.
    logController: new LogController({ requestIdLogLabel: 'requestId', disableRequestLogging: true }),
    bodyLimit: config.http.bodyLimit,
    // Node checks these two timeouts every `connectionsCheckingInterval` (30 s
    // by default, so a 30 s timeout took up to 60 s) and cuts one or two checks
    // after they pass (measured): given two intervals early, a request is cut
    // by the configured time.
    requestTimeout: cutBy(config.http.requestTimeoutMs, config.http.timeoutCheckIntervalMs),
    // (Fastify passes `http` to http.createServer; its types only know http2/https.)
    ...({
      http: {
        headersTimeout: cutBy(config.http.headersTimeoutMs, config.http.timeoutCheckIntervalMs),
        connectionsCheckingInterval: config.http.timeoutCheckIntervalMs,
      },
    } as Partial<FastifyServerOptions>),
    // Our graceful-shutdown plugin answers requests during close (problem+json, x-request-id).
    return503OnClosing: false,
    frameworkErrors: frameworkErrors({ service: name, production: realm === 'production' }),
    keepAliveTimeout: config.http.keepAliveTimeoutMs,
    // Fastify takes a hop count at run time, though its types do not say so.
    trustProxy: config.http.trustProxy as boolean | string,
    forceCloseConnections: 'idle',
    // Fastify gives each plugin 10 s to load. On a busy machine (a CI runner,
    // a laptop running a fleet under smart dev) loading the OTel SDK or
    // joining Atlas took longer and failed starts that would have succeeded:
    // 30 s. The embedded database (PGlite) alone takes 2-7 s to start cold,
    // and far more on a busy machine: a service with one gets a minute.
    pluginTimeout: dbSettings && !dbSettings.url ? 60_000 : 30_000,
    // Ajv and fast-json-stringify, required by the first route with a JSON Schema (lazy-compilers.ts).
    schemaController: { compilersFactory: lazySchemaCompilers() },
    ...options.fastify,
  };
  const app = Fastify(serverOptions);
  mark?.('fastify');
  warn = (message, detail) => app.log.warn(detail, message);
  for (const [message, detail] of early) warn(message, detail);

  app.decorate('realm', realm);
  app.decorate('serviceInfo', Object.freeze({ name, version, instanceId: randomUUID() }));
  app.decorate('smartConfig', smartConfig as SmartConfig<unknown>);
  // Typed through `Register` where users declare it; the value is the loaded config either way.
  app.decorate('config', { getter: () => smartConfig.value as unknown as AppConfig });
  trackApp(app);

  smartConfig.on('change', ({ changed, next }) => {
    logger.level = next.log.level;
    app.log.info({ changed }, 'config changed');
  });
  smartConfig.on('error', (err) => app.log.error({ code: err.code, source: err.source }, err.message));
  app.addHook('onClose', async () => {
    await smartConfig.close();
    logger.flush();
  });

  try {
    await registerPlugins(app, {
      name,
      version,
      realm,
      config,
      atlas,
      atlasClient,
      dbSettings,
      redisSettings,
      env: options.env ?? process.env,
      docs: options.docs ?? realm !== 'production',
      ...(atlas ? { configSchema: configSchemaOf(withServiceKeys(options.config) as ConfigDefinition) } : {}),
    });
    mark?.('plugins');
  } catch (err) {
    // A half-built app (a failed migration, say) must not stay alive or hold sockets.
    await app.close().catch(() => {});
    throw err;
  }
  if (mark) {
    app.addHook('onReady', async () => {
      mark('ready');
    });
    app.server.once('listening', () => {
      mark('listening');
    });
  }
  return app as unknown as SmartService<SmartServiceConfig<Def>>;
}

interface Parts {
  readonly name: string;
  readonly version: string;
  readonly realm: string;
  readonly config: ServiceConfig;
  readonly atlas: AtlasSettings | undefined;
  readonly atlasClient: AtlasClient | undefined;
  readonly dbSettings: DbOptions | undefined;
  readonly redisSettings: RedisOptions | undefined;
  readonly env: Env;
  /** Serve the API reference page at /docs. */
  readonly docs: boolean;
  /** The config schema published to Atlas at registration. */
  readonly configSchema?: Record<string, unknown> | undefined;
}

// The composition: one plugin per feature, in dependency order.
async function registerPlugins(app: FastifyInstance, parts: Parts): Promise<void> {
  const { name, version, realm, config, atlas, atlasClient, dbSettings, redisSettings } = parts;
  await app.register(sensible);
  await app.register(gracefulShutdown, { host: config.http.host, port: config.http.port, ...config.shutdown });
  await app.register(requestLifecycle);
  await app.register(bugsnag, {
    ...config.bugsnag,
    apiKey: config.bugsnag.apiKey?.reveal(),
    service: name,
    version,
    realm,
  });
  await app.register(dependencies, config.dependencies);
  await app.register(problemErrors, { service: name, production: realm === 'production' });
  await app.register(health, config.health);
  await app.register(configHealth);
  if (config.metrics.enabled) await app.register(metrics, { service: name });
  // Before any route of the service's own: zod schemas validate and describe the routes after it.
  await app.register(openapi, { service: name, version, docs: parts.docs });
  // After the probes and metrics (left untraced), before every plugin that makes spans.
  await app.register(tracing);
  if (atlas && atlasClient)
    await app.register(atlasRegistration, {
      client: atlasClient,
      settings: atlas,
      listenHost: config.http.host,
      configSchema: parts.configSchema,
    });
  await app.register(faults, { realm });
  await app.register(client, { env: parts.env, atlasClient });
  // Redis and the database are imported only when used (ioredis, Kysely, pg,
  // PGlite): a service without them does not load them at start.
  if (redisSettings) await app.register((await import('./plugins/redis.ts')).redis, redisSettings);
  else app.decorate('redis', { getter: disabled('redis') });
  if (dbSettings) await app.register((await import('./plugins/db.ts')).db, dbSettings);
  else {
    app.decorate('db', { getter: disabled('db') });
    app.decorate('migrate', disabled('db'));
    app.decorate('migratedAtStart', []);
  }
  // After the probes and metrics (never limited), before the service's own routes.
  await app.register(protection, {
    realm,
    shedding: config.protection.shedding,
    maxJsonDepth: config.http.maxJsonDepth,
    redis: redisSettings ? app.redis : undefined,
  });
}
