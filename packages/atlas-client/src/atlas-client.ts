import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, request } from 'undici';
import { LastKnownGood } from './cache.ts';
import { AtlasClientError, codes } from './errors.ts';
import { type Watch, type WatchTiming, watchLoop } from './watch.ts';

/** Options of `createAtlasClient`. */
export interface AtlasClientOptions {
  /**
   * Atlas's base URL, e.g. `http://atlas.internal:4100`; or several Atlas
   * processes on one store (a list, or the URLs comma-separated): a call that
   * finds one down, or answering 502/503/504, goes on to the next, and the
   * client keeps using the one that answered.
   */
  readonly url: string | readonly string[];
  /** A bearer token (sent in the Authorization header, never in a URL). */
  readonly token?: string | undefined;
  /** Where the last-known-good copies are kept; none when unset. */
  readonly cacheDir?: string | undefined;
  /** How long a watch's blocking read waits at Atlas. Default 30 s. */
  readonly waitMs?: number;
  /** A plain (non-blocking) request fails after this. Default 5 s. */
  readonly timeoutMs?: number;
  /** Pacing of watches. */
  readonly timing?: Partial<WatchTiming>;
}

/** One key of a config answer; `value` is absent for a secret the token may not see. */
export interface ConfigEntry {
  readonly key: string;
  readonly value?: unknown;
  readonly secret: boolean;
  readonly source: string;
}

/** A service's effective config in a realm (its keys over `_global`'s). */
export interface ConfigSnapshot {
  readonly service: string;
  readonly realm: string;
  /** Dotted keys to values. */
  readonly values: Readonly<Record<string, unknown>>;
  readonly entries: readonly ConfigEntry[];
}

/** A registered instance, as Atlas returns it. */
export interface Instance {
  readonly service: string;
  readonly id: string;
  readonly realm: string;
  readonly host: string;
  readonly port: number;
  readonly url: string;
  readonly version: string;
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly registeredAt: number;
  readonly expiresAt: number;
}

/** What an instance tells Atlas when it registers or heartbeats. */
export interface Registration {
  readonly service: string;
  readonly id: string;
  readonly realm: string;
  readonly host: string;
  readonly port: number;
  readonly version?: string;
  readonly metadata?: Readonly<Record<string, unknown>>;
  readonly ttlSeconds?: number;
}

/** Options of a watch. */
export interface WatchOptions {
  /** Each failed read (the watch goes on, backing off). */
  readonly onError?: (err: AtlasClientError) => void;
}

// An Atlas process that is shutting down or overloaded answers these: another one may not be.
const FAILOVER_STATUS = new Set([502, 503, 504]);
// A short random pause before trying the next Atlas, so a fleet does not move in step.
const FAILOVER_JITTER_MS = 50;

/**
 * The Atlas base URLs of a `url` option: one URL, a list, or URLs comma-separated
 * (`SMART_ATLAS_URL=http://a:4100,http://b:4100`); each http(s), without
 * credentials or a query.
 */
export function atlasUrls(url: string | readonly string[]): string[] {
  const list = (typeof url === 'string' ? url.split(',') : [...url]).map((u) => u.trim()).filter(Boolean);
  if (list.length === 0) throw new AtlasClientError(codes.invalidOption, 'Atlas url is empty');
  return list.map((text) => {
    let parsed: URL;
    try {
      parsed = new URL(text);
    } catch {
      throw new AtlasClientError(codes.invalidOption, `Atlas url "${text}" is not a URL`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
      throw new AtlasClientError(codes.invalidOption, 'Atlas url must be http: or https:');
    }
    if (parsed.username || parsed.password || parsed.search) {
      throw new AtlasClientError(
        codes.invalidOption,
        'Atlas url must not carry credentials or a query: use the token option',
      );
    }
    return parsed.toString().replace(/\/$/, '');
  });
}

const DEFAULT_TIMING: WatchTiming = { minIntervalMs: 100, backoffBaseMs: 100, backoffMaxMs: 10_000 };
const enc = encodeURIComponent;

/**
 * A typed client for the Atlas HTTP API (over undici, keep-alive).
 *
 * @example
 * const atlas = createAtlasClient({ url: process.env.SMART_ATLAS_URL, token, cacheDir: '.smart/atlas' });
 * const watch = atlas.watchConfig('orders', 'production', (config) => apply(config.values));
 * await atlas.register({ service: 'orders', id, realm: 'production', host, port, ttlSeconds: 15 });
 */
export class AtlasClient {
  readonly #bases: readonly string[];
  /** The base that answered last: calls start there. */
  #current = 0;
  readonly #token: string | undefined;
  readonly #agent: Agent;
  readonly #cache: LastKnownGood | undefined;
  readonly #waitMs: number;
  readonly #timeoutMs: number;
  readonly #timing: WatchTiming;
  readonly #watches = new Set<Watch>();

  constructor(options: AtlasClientOptions) {
    this.#bases = atlasUrls(options.url);
    // Spread clients over the Atlas processes; each stays on its own until that one fails.
    this.#current = Math.floor(Math.random() * this.#bases.length);
    this.#token = options.token;
    this.#waitMs = options.waitMs ?? 30_000;
    this.#timeoutMs = options.timeoutMs ?? 5_000;
    this.#timing = { ...DEFAULT_TIMING, ...options.timing };
    // Blocking reads hold a response for up to wait + Atlas's jitter: allow for it.
    this.#agent = new Agent({ headersTimeout: this.#waitMs * 1.2 + 5_000, bodyTimeout: this.#waitMs * 1.2 + 5_000 });
    this.#cache = options.cacheDir ? new LastKnownGood(options.cacheDir) : undefined;
  }

  async #call<T>(
    method: 'GET' | 'PUT' | 'POST' | 'DELETE',
    path: string,
    options: { body?: unknown; signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<{ data: T; index: number }> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.#token) headers.authorization = `Bearer ${this.#token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    // Each Atlas once, starting with the one that answered last; the caller (a watch, the
    // heartbeat loop) backs off when all of them failed.
    let res: Awaited<ReturnType<typeof request>> | undefined;
    let failure: AtlasClientError | undefined;
    for (let tried = 0; tried < this.#bases.length && !options.signal?.aborted; tried++) {
      const at = (this.#current + tried) % this.#bases.length;
      const base = this.#bases[at] as string;
      if (tried > 0) await sleep(Math.random() * FAILOVER_JITTER_MS);
      const timeout = AbortSignal.timeout(options.timeoutMs ?? this.#timeoutMs);
      const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
      try {
        res = await request(`${base}${path}`, { method, headers, body, dispatcher: this.#agent, signal });
      } catch (err) {
        const why = `Atlas at ${base} is unavailable: ${(err as Error).message}`;
        failure = new AtlasClientError(codes.unavailable, why, { cause: err });
        // Every call but POST is idempotent: sent again elsewhere it does the same. A POST goes
        // elsewhere only when it never reached this Atlas.
        if (method === 'POST' && (err as { code?: string }).code !== 'ECONNREFUSED') break;
        continue;
      }
      if (this.#bases.length > 1 && FAILOVER_STATUS.has(res.statusCode)) {
        await res.body.dump().catch(() => {});
        failure = new AtlasClientError(codes.unavailable, `Atlas at ${base} answered ${res.statusCode}`, {
          status: res.statusCode,
        });
        res = undefined;
        continue;
      }
      this.#current = at;
      break;
    }
    if (!res) {
      throw failure ?? new AtlasClientError(codes.unavailable, 'Atlas call aborted', { cause: options.signal?.reason });
    }
    const text = await res.body.text();
    const data = text ? JSON.parse(text) : undefined;
    if (res.statusCode >= 400) {
      const problem = (data ?? {}) as { detail?: string; code?: string };
      throw new AtlasClientError(
        codes.http,
        `Atlas answered ${res.statusCode} to ${method} ${path}: ${problem.detail ?? text}`,
        {
          status: res.statusCode,
          ...(problem.code ? { remoteCode: problem.code } : {}),
        },
      );
    }
    return { data: data as T, index: Number(res.headers['x-atlas-index'] ?? 0) };
  }

  #blocking(path: string, index: number, signal?: AbortSignal) {
    const query = index > 0 ? `${path.includes('?') ? '&' : '?'}index=${index}&wait=${this.#waitMs}ms` : '';
    const timeoutMs = index > 0 ? this.#waitMs * 1.2 + 5_000 : this.#timeoutMs;
    return { path: `${path}${query}`, timeoutMs, ...(signal ? { signal } : {}) };
  }

  /**
   * A service's config in a realm. With `index`, a blocking read. Not saved
   * as last known good by itself: what the service accepted is, through
   * `rememberConfig` (smart-config's Atlas source calls it).
   */
  async getConfig(service: string, realm: string, options: { index?: number; signal?: AbortSignal } = {}) {
    const { path, ...rest } = this.#blocking(
      `/v1/config/${enc(service)}/${enc(realm)}`,
      options.index ?? 0,
      options.signal,
    );
    return this.#call<ConfigSnapshot>('GET', path, rest);
  }

  /**
   * Saves a config snapshot as the last known good copy (for a start while
   * Atlas is down), without its secret entries: a secret is never written to
   * disk in clear text (at such a start, secrets come from the environment).
   * Give it only values the service accepted.
   *
   * @example
   * await atlas.rememberConfig({ ...snapshot, values: acceptedValues });
   */
  async rememberConfig(snapshot: ConfigSnapshot): Promise<void> {
    if (!this.#cache) return;
    const secrets = new Set(snapshot.entries.filter((entry) => entry.secret).map((entry) => entry.key));
    const values = Object.fromEntries(Object.entries(snapshot.values).filter(([key]) => !secrets.has(key)));
    const entries = snapshot.entries.filter((entry) => !entry.secret && entry.key in values);
    await this.#cache.save('config', [snapshot.service, snapshot.realm], { ...snapshot, values, entries });
  }

  /** The last config read from Atlas for (service, realm), from disk; undefined when none. */
  async lastKnownConfig(service: string, realm: string): Promise<ConfigSnapshot | undefined> {
    return (await this.#cache?.load<ConfigSnapshot>('config', [service, realm]))?.data;
  }

  /** Sets a key (admin token). */
  async setConfig(service: string, realm: string, key: string, value: unknown, options: { secret?: boolean } = {}) {
    await this.#call('PUT', `/v1/config/${enc(service)}/${enc(realm)}/${enc(key)}`, {
      body: { value, secret: options.secret ?? false },
    });
  }

  /** Removes a key (admin token). */
  async unsetConfig(service: string, realm: string, key: string) {
    await this.#call('DELETE', `/v1/config/${enc(service)}/${enc(realm)}/${enc(key)}`);
  }

  /** Live instances of a service in a realm. With `index`, a blocking read. Saved as last known good. */
  async instances(service: string, realm: string, options: { index?: number; signal?: AbortSignal } = {}) {
    const { path, ...rest } = this.#blocking(
      `/v1/services/${enc(service)}/instances?realm=${enc(realm)}`,
      options.index ?? 0,
      options.signal,
    );
    const result = await this.#call<Instance[]>('GET', path, rest);
    await this.#cache?.save('instances', [service, realm], result.data);
    return result;
  }

  /** The last instances read for (service, realm), from disk. */
  async lastKnownInstances(service: string, realm: string): Promise<Instance[] | undefined> {
    return (await this.#cache?.load<Instance[]>('instances', [service, realm]))?.data;
  }

  /** Services with live instances in a realm. */
  async services(realm: string) {
    return (await this.#call<{ service: string; instances: number }[]>('GET', `/v1/services?realm=${enc(realm)}`)).data;
  }

  /**
   * The catalog with its index: services with live instances in a realm.
   * With `index`, a blocking read (it answers when the catalog moves past it).
   */
  async catalog(realm: string, options: { index?: number; signal?: AbortSignal } = {}) {
    const { path, ...rest } = this.#blocking(`/v1/services?realm=${enc(realm)}`, options.index ?? 0, options.signal);
    return this.#call<{ service: string; instances: number }[]>('GET', path, rest);
  }

  /** Registers an instance, or heartbeats it: its TTL starts again. */
  async register(registration: Registration): Promise<Instance> {
    const { service, id, ...body } = registration;
    return (await this.#call<Instance>('PUT', `/v1/services/${enc(service)}/instances/${enc(id)}`, { body })).data;
  }

  /** Removes an instance at once. */
  async deregister(service: string, id: string): Promise<void> {
    await this.#call('DELETE', `/v1/services/${enc(service)}/instances/${enc(id)}`);
  }

  /**
   * Publishes the service's config schema for a realm (JSON Schema; secret
   * keys marked `x-smart-secret`): Atlas then refuses config writes the
   * schema refuses (422) and plain writes to secret keys. The service's own
   * token or an admin's.
   */
  async publishConfigSchema(service: string, realm: string, schema: Record<string, unknown>): Promise<void> {
    await this.#call('PUT', `/v1/config-schema/${enc(service)}/${enc(realm)}`, { body: { schema } });
  }

  /** The config schema a service published for a realm. */
  async getConfigSchema(service: string, realm: string): Promise<Record<string, unknown>> {
    return (
      await this.#call<{ schema: Record<string, unknown> }>('GET', `/v1/config-schema/${enc(service)}/${enc(realm)}`)
    ).data.schema;
  }

  /** Drains (or restores) an instance (admin token). */
  async setDisabled(service: string, id: string, disabled: boolean): Promise<void> {
    await this.#call('PUT', `/v1/services/${enc(service)}/instances/${enc(id)}/disabled`, { body: { disabled } });
  }

  /** Creates a token (admin token); the answer holds the token text, shown this once. */
  async createToken(spec: { name: string; scope: 'admin' | 'service' | 'catalog'; realm: string; service?: string }) {
    return (await this.#call<{ id: string; token: string }>('POST', '/v1/tokens', { body: spec })).data;
  }

  /** Answers when Atlas is up (for readiness checks). */
  async ping(): Promise<void> {
    await this.#call('GET', '/health/live');
  }

  #watch<T>(
    read: (index: number, signal: AbortSignal) => Promise<{ data: T; index: number }>,
    onChange: (data: T) => void,
    options: WatchOptions,
  ): Watch {
    const watch = watchLoop(
      read,
      this.#timing,
      (data) => onChange(data),
      (err) => {
        options.onError?.(
          err instanceof AtlasClientError ? err : new AtlasClientError(codes.unavailable, String(err), { cause: err }),
        );
      },
    );
    this.#watches.add(watch);
    return {
      stop: async () => {
        this.#watches.delete(watch);
        await watch.stop();
      },
    };
  }

  /** Calls `onChange` with the config now and whenever it changes, until stopped. */
  watchConfig(
    service: string,
    realm: string,
    onChange: (config: ConfigSnapshot) => void,
    options: WatchOptions = {},
  ): Watch {
    return this.#watch((index, signal) => this.getConfig(service, realm, { index, signal }), onChange, options);
  }

  /** Calls `onChange` with the live instances now and whenever they change, until stopped. */
  watchInstances(
    service: string,
    realm: string,
    onChange: (instances: Instance[]) => void,
    options: WatchOptions = {},
  ): Watch {
    return this.#watch((index, signal) => this.instances(service, realm, { index, signal }), onChange, options);
  }

  /**
   * Calls `onChange` with the catalog (services with live instances) now and
   * whenever it changes, until stopped.
   *
   * @example
   * atlas.watchCatalog('production', (services) => console.log(services.map((s) => s.service)));
   */
  watchCatalog(
    realm: string,
    onChange: (services: { service: string; instances: number }[]) => void,
    options: WatchOptions = {},
  ): Watch {
    return this.#watch((index, signal) => this.catalog(realm, { index, signal }), onChange, options);
  }

  /** Stops every watch and closes the connections. */
  async close(): Promise<void> {
    await Promise.all([...this.#watches].map((watch) => watch.stop()));
    this.#watches.clear();
    await this.#agent.close();
  }
}

/** Creates an Atlas client. */
export function createAtlasClient(options: AtlasClientOptions): AtlasClient {
  return new AtlasClient(options);
}
