import { networkInterfaces } from 'node:os';
import { resolve } from 'node:path';
import type { AtlasClient } from 'atlas-client';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { type ConfigDefinition, configJsonSchema, type Env } from 'smart-config';

/**
 * How a service finds Atlas. These are read from the environment before the
 * config loads (the config itself comes partly from Atlas):
 * `SMART_ATLAS_URL`, `SMART_ATLAS_TOKEN`, `SMART_ATLAS_REQUIRED`,
 * `SMART_ATLAS_CACHE_DIR`, `SMART_ATLAS_TTL_SECONDS`, `SMART_ATLAS_ADVERTISE_HOST`.
 * `SMART_ATLAS_URL` may list several Atlas processes on one store,
 * comma-separated: the client fails over between them (watches resume from
 * their index, heartbeats go on through another).
 */
export interface AtlasSettings {
  /** One Atlas URL, or several comma-separated. */
  readonly url: string;
  readonly token: string | undefined;
  readonly required: boolean;
  readonly cacheDir: string;
  readonly ttlSeconds: number;
  readonly advertiseHost: string | undefined;
}

/** The Atlas settings from the environment, or undefined when `SMART_ATLAS_URL` is unset. */
export function atlasSettings(env: Env, root: string): AtlasSettings | undefined {
  const url = env.SMART_ATLAS_URL;
  if (!url) return undefined;
  const ttl = Number(env.SMART_ATLAS_TTL_SECONDS ?? 15);
  return {
    url,
    token: env.SMART_ATLAS_TOKEN,
    required: env.SMART_ATLAS_REQUIRED === 'true',
    cacheDir: resolve(root, env.SMART_ATLAS_CACHE_DIR ?? '.smart/atlas'),
    ttlSeconds: Number.isInteger(ttl) && ttl > 0 ? ttl : 15,
    advertiseHost: env.SMART_ATLAS_ADVERTISE_HOST,
  };
}

/**
 * The config schema a service publishes to Atlas, or undefined when zod
 * cannot express it (the service then registers without one).
 */
export function configSchemaOf(definition: ConfigDefinition): Record<string, unknown> | undefined {
  try {
    return configJsonSchema(definition);
  } catch {
    return undefined;
  }
}

/** A client for these settings (atlas-client is imported only here: a service without Atlas does not load it). */
export async function atlasClientFor(settings: AtlasSettings): Promise<AtlasClient> {
  const { createAtlasClient } = await import('atlas-client');
  return createAtlasClient({ url: settings.url, token: settings.token, cacheDir: settings.cacheDir });
}

// The address others reach this instance at: the listen host when it is a
// specific one, else this machine's first external IPv4 address.
function advertisedHost(listenHost: string): string {
  if (listenHost !== '0.0.0.0' && listenHost !== '::') return listenHost;
  for (const addresses of Object.values(networkInterfaces())) {
    const external = addresses?.find((a) => a.family === 'IPv4' && !a.internal);
    if (external) return external.address;
  }
  return '127.0.0.1';
}

interface RegistrationOptions {
  readonly client: AtlasClient;
  readonly settings: AtlasSettings;
  readonly listenHost: string;
  /** The service's config schema (smart-config's `configJsonSchema`), published with the first registration. */
  readonly configSchema?: Record<string, unknown> | undefined;
}

/**
 * Self-registration: once the server listens, register in Atlas and
 * heartbeat at a third of the TTL; publish the config schema once registered
 * (Atlas then refuses config writes the schema refuses); deregister first thing on shutdown; a
 * non-critical `atlas` readiness check. Atlas being down never stops the
 * service: it logs once per outage and keeps trying.
 */
export const atlasRegistration = fp(
  async function atlasRegistration(app: FastifyInstance, options: RegistrationOptions) {
    const { client, settings } = options;
    let heartbeat: NodeJS.Timeout | undefined;
    let failing = false;
    // Published once per start, after a registration succeeds (so Atlas is up and the token works).
    let schemaPending = options.configSchema !== undefined;
    const publishSchema = async () => {
      try {
        await client.publishConfigSchema(
          app.serviceInfo.name,
          app.realm,
          options.configSchema as Record<string, unknown>,
        );
        schemaPending = false;
      } catch (err) {
        // An Atlas without the endpoint (404) will not grow one: stop; anything else, try at the next heartbeat.
        if ((err as { status?: number }).status === 404) schemaPending = false;
        app.log.warn({ err: { message: (err as Error).message } }, 'could not publish the config schema to Atlas');
      }
    };

    // The API document's hash, read at the first registration (the document is built at its first use):
    // a document that cannot be built is logged once, and the instance registers without it.
    let apiHash: string | undefined | null = null;
    const hashOfApi = (): string | undefined => {
      if (apiHash !== null) return apiHash;
      try {
        apiHash = app.openapi?.hash;
      } catch (err) {
        apiHash = undefined;
        app.log.error({ err }, 'the OpenAPI document could not be built: registering without its hash');
      }
      return apiHash;
    };
    const registration = () => {
      const apiHash = hashOfApi();
      const address = app.server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      return {
        service: app.serviceInfo.name,
        id: app.serviceInfo.instanceId,
        realm: app.realm,
        host: settings.advertiseHost ?? advertisedHost(options.listenHost),
        port,
        version: app.serviceInfo.version,
        // The API document's hash: instances of one version with different APIs show apart (smart monitor, dashboard).
        metadata: { pid: process.pid, ...(apiHash ? { apiHash } : {}) },
        ttlSeconds: settings.ttlSeconds,
      };
    };
    const beat = async () => {
      try {
        await client.register(registration());
        if (failing) app.log.info('registered in Atlas again');
        failing = false;
        if (schemaPending) await publishSchema();
      } catch (err) {
        if (!failing)
          app.log.warn({ err: { message: (err as Error).message } }, 'could not register in Atlas: retrying');
        failing = true;
      }
    };

    app.healthCheck('atlas', () => client.ping(), { critical: false });
    app.addHook('onListen', async () => {
      await beat();
      if (!failing)
        app.log.info({ instance: app.serviceInfo.instanceId, ttlSeconds: settings.ttlSeconds }, 'registered in Atlas');
      heartbeat = setInterval(beat, (settings.ttlSeconds * 1_000) / 3);
      heartbeat.unref();
    });
    app.onShutdown('deregister from Atlas', async () => {
      clearInterval(heartbeat);
      heartbeat = undefined;
      await client.deregister(app.serviceInfo.name, app.serviceInfo.instanceId).catch(() => {});
      app.log.info('deregistered from Atlas');
    });
    app.addHook('onClose', async () => {
      clearInterval(heartbeat);
      await client.close();
    });
  },
  { name: 'smart-atlas-registration', dependencies: ['smart-health', 'smart-graceful-shutdown'] },
);
