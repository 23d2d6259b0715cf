import {
  type ChangeFeed,
  type ConfigRow,
  type ExpiredInstance,
  type InstanceRecord,
  type StoreBackend,
  type TokenRecord,
  type TokenStore,
  topics,
} from './store.ts';

// How long a token found stays in memory (see `AtlasStore.tokens`).
const TOKEN_CACHE_MS = 1_000;

/** The topics a change of an instance moves: its service's list and its realm's catalog. */
const instanceTopics = (instance: Pick<InstanceRecord, 'realm' | 'service'>) => [
  topics.instances(instance.realm, instance.service),
  topics.catalog(instance.realm),
];

/**
 * What a registration moves. A heartbeat that changes nothing but the
 * expiry wakes no watcher (it never gets here: `renew` took it); nor does a
 * new TTL alone. Anything callers see does, in the old realm too on a move.
 */
function movedBy(previous: InstanceRecord | undefined, next: InstanceRecord, now: number): string[] {
  if (!previous || previous.expiresAt <= now) return instanceTopics(next);
  const same =
    previous.realm === next.realm &&
    previous.host === next.host &&
    previous.port === next.port &&
    previous.version === next.version &&
    JSON.stringify(previous.metadata) === JSON.stringify(next.metadata);
  if (same) return [];
  return previous.realm === next.realm ? instanceTopics(next) : [...instanceTopics(next), ...instanceTopics(previous)];
}

/**
 * Atlas's data with its rules, over any `StoreBackend`: which writes wake
 * which watchers, what a heartbeat changes, when an expiry is announced.
 * Routes use this; a backend only reads and writes.
 *
 * @example
 * const store = new AtlasStore(await KyselyStore.open(db));
 * await store.instances.register(instance);
 * await store.feed.index([topics.catalog('production')]);
 */
export class AtlasStore {
  readonly #backend: StoreBackend;
  /** Topic indexes and wake-ups (read-only use: writes move topics themselves). */
  readonly feed: Pick<ChangeFeed, 'index' | 'onChange'>;
  /**
   * Tokens and the audit trail. A token found is remembered for a second
   * (every request looks its token up: this halves a heartbeat's round
   * trips); a revocation clears this process's memory at once, and reaches
   * other Atlas processes on the same store within that second.
   */
  readonly tokens: TokenStore;
  readonly #tokenCache = new Map<string, { token: TokenRecord; until: number }>();
  readonly instances;
  readonly config;

  constructor(backend: StoreBackend) {
    this.#backend = backend;
    this.feed = backend.feed;
    const tokens = backend.tokens;
    const cache = this.#tokenCache;
    this.tokens = {
      put: (token) => tokens.put(token),
      find: async (hash) => {
        const hit = cache.get(hash);
        if (hit && hit.until > Date.now()) return hit.token;
        const token = await tokens.find(hash);
        if (token && token.revokedAt === null) {
          if (cache.size > 10_000) cache.clear();
          cache.set(hash, { token, until: Date.now() + TOKEN_CACHE_MS });
        } else cache.delete(hash);
        return token;
      },
      revoke: async (id, at) => {
        const revoked = await tokens.revoke(id, at);
        cache.clear();
        return revoked;
      },
      audit: (entry) => tokens.audit(entry),
      listAudit: (limit) => tokens.listAudit(limit),
    };
    const store = backend.instances;
    const config = backend.config;
    this.instances = {
      get: (service: string, id: string) => store.get(service, id),
      /**
       * Registers or heartbeats. A heartbeat of an unchanged live instance is
       * one round trip (`renew`); otherwise the stored one is read once,
       * `check`ed (a realm move needs rights in the old realm too) and replaced,
       * keeping its `registeredAt` and drain state.
       */
      register: async (next: InstanceRecord, check?: (previous: InstanceRecord) => void): Promise<InstanceRecord> => {
        const now = Date.now();
        const renewed = await store.renew(next, now);
        if (renewed) return renewed;
        const previous = await store.get(next.service, next.id);
        if (previous) check?.(previous);
        const record = {
          ...next,
          registeredAt: previous?.registeredAt ?? next.registeredAt,
          disabled: previous?.disabled ?? false,
        };
        await store.put(record, movedBy(previous, record, now));
        return record;
      },
      deregister: (service: string, id: string) => store.delete(service, id, instanceTopics),
      /** Drains (or restores) an instance; undefined when there is none. */
      setDisabled: async (service: string, id: string, disabled: boolean) => {
        const previous = await store.get(service, id);
        if (!previous) return undefined;
        const record = { ...previous, disabled };
        await store.put(record, instanceTopics(record));
        return record;
      },
      list: (service: string, realm: string) => store.list(service, realm, Date.now()),
      catalog: (realm: string) => store.listServices(realm, Date.now()),
    };
    this.config = {
      list: (services: readonly string[], realm: string) => config.list(services, realm),
      put: (row: ConfigRow) => config.put(row, [topics.config(row.realm, row.service)]),
      delete: (service: string, realm: string, key: string | undefined) =>
        config.delete(service, realm, key, [topics.config(realm, service)]),
    };
  }

  /** Which backend this is (`postgres`, `pglite`, `etcd`). */
  get backend(): string {
    return this.#backend.name;
  }

  /**
   * Announces the instances whose TTL ran out since `since` (their watchers
   * wake) and lets the backend drop those expired before `reapBefore`.
   * Every Atlas process runs it; an expiry announced twice costs a spare wake-up.
   */
  async expire(since: number, now: number, reapBefore: number): Promise<void> {
    const expired = await this.#backend.instances.expire(since, now, reapBefore);
    // One announcement per service: the latest removal covers the earlier ones.
    const latest = new Map<string, ExpiredInstance>();
    for (const instance of expired) {
      const key = `${instance.realm}/${instance.service}`;
      const seen = latest.get(key);
      if (!seen || (instance.index ?? 0) > (seen.index ?? 0)) latest.set(key, instance);
    }
    for (const instance of latest.values()) {
      await this.#backend.feed.announce(instanceTopics(instance), instance.index);
    }
  }

  close(): Promise<void> {
    return this.#backend.close();
  }
}
