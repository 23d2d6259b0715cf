/**
 * What Atlas keeps, split by concern the way Kysely splits a `Dialect`:
 * instances (with their TTL), config (secrets arrive sealed), tokens and the
 * audit trail, and the change feed (topic indexes and wake-ups). A backend
 * (`KyselyStore` on Postgres/PGlite, `EtcdStore` on etcd v3) implements the
 * four as plain reads and writes; the rules (which writes move which topics,
 * what a heartbeat changes, when an expiry is announced) live once, above
 * them, in `AtlasStore` (./atlas-store.ts).
 */

/** A registered service instance. */
export interface InstanceRecord {
  readonly service: string;
  readonly id: string;
  readonly realm: string;
  readonly host: string;
  readonly port: number;
  readonly version: string;
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly ttlMs: number;
  /** Epoch ms after which the instance is no longer returned (as of its last write or heartbeat). */
  readonly expiresAt: number;
  readonly registeredAt: number;
  /** Drained by an admin: kept, but not returned to callers. */
  readonly disabled: boolean;
}

/** One config key as stored: a secret has a ciphertext and no plain value. */
export interface ConfigRow {
  readonly service: string;
  readonly realm: string;
  readonly key: string;
  readonly value: unknown;
  readonly secret: boolean;
  readonly ciphertext: string | null;
  readonly updatedAt: number;
  readonly updatedBy: string;
}

/** What a token may do. */
export type TokenScope = 'admin' | 'service' | 'catalog';

/** A stored token: only its hash is kept. */
export interface TokenRecord {
  readonly id: string;
  readonly name: string;
  readonly hash: string;
  readonly scope: TokenScope;
  /** For `service` tokens: the service they act as. */
  readonly service: string | null;
  /** The realm the token belongs to; `*` for admins of every realm. */
  readonly realm: string;
  readonly createdAt: number;
  readonly createdBy: string;
  readonly revokedAt: number | null;
}

/** One audit line: who changed what, never a value. */
export interface AuditEntry {
  readonly at: number;
  readonly actor: string;
  readonly action: string;
  readonly target: string;
  readonly key: string | null;
}

/** The topics a blocking query can wait on. */
export const topics = {
  instances: (realm: string, service: string) => `instances/${realm}/${service}`,
  catalog: (realm: string) => `catalog/${realm}`,
  config: (realm: string, service: string) => `config/${realm}/${service}`,
};

/** An instance whose TTL ran out, as a backend reports it. */
export interface ExpiredInstance {
  readonly service: string;
  readonly realm: string;
  /** The feed index at which the backend removed it (etcd: the lease's delete revision), if it did. */
  readonly index?: number;
}

/**
 * Instances and their TTL. Every write names the topics it moves (`changed`,
 * decided by the caller); the backend moves them in the same transaction.
 *
 * @example
 * const beat = await instances.renew(next, Date.now()); // a heartbeat: one round trip
 * if (!beat) await instances.put(next, [topics.instances(next.realm, next.service)]);
 */
export interface InstanceStore {
  get(service: string, id: string): Promise<InstanceRecord | undefined>;
  /**
   * A heartbeat: when the stored instance is live and equal to `next` in
   * every field a registration sets (realm, host, port, version, metadata,
   * ttlMs), extends its expiry to `next.expiresAt` and returns it (with its
   * own `registeredAt` and `disabled`); otherwise changes nothing and
   * returns undefined. Moves no topic.
   */
  renew(next: InstanceRecord, now: number): Promise<InstanceRecord | undefined>;
  /** Writes the whole record (a registration, a change, a drain). */
  put(instance: InstanceRecord, changed: readonly string[]): Promise<void>;
  /** Deletes it; returns what was stored. */
  delete(
    service: string,
    id: string,
    changed: (previous: InstanceRecord) => readonly string[],
  ): Promise<InstanceRecord | undefined>;
  /** Live (unexpired, enabled) instances of a service in a realm, by id. */
  list(service: string, realm: string, now: number): Promise<InstanceRecord[]>;
  /** Services with live instances in a realm, and how many, by name. */
  listServices(realm: string, now: number): Promise<{ service: string; instances: number }[]>;
  /**
   * Instances whose TTL ran out after `since` (up to `now`), and deletes
   * those that expired before `reapBefore`. (etcd: the leases that lapsed
   * since the last call; etcd deletes them itself.)
   */
  expire(since: number, now: number, reapBefore: number): Promise<ExpiredInstance[]>;
}

/** Config rows per service and realm; secret values arrive sealed by Atlas. */
export interface ConfigStore {
  /** Rows of these services in a realm (e.g. the service and `_global`), by key. */
  list(services: readonly string[], realm: string): Promise<ConfigRow[]>;
  put(row: ConfigRow, changed: readonly string[]): Promise<void>;
  /** Deletes one key, or every key of the service in the realm; returns the keys deleted. */
  delete(service: string, realm: string, key: string | undefined, changed: readonly string[]): Promise<string[]>;
}

/** Tokens (by hash) and the audit trail. */
export interface TokenStore {
  put(token: TokenRecord): Promise<void>;
  find(hash: string): Promise<TokenRecord | undefined>;
  /** Marks it revoked; false when there is no such unrevoked token. */
  revoke(id: string, at: number): Promise<boolean>;
  audit(entry: AuditEntry): Promise<void>;
  /** The newest entries first. */
  listAudit(limit: number): Promise<AuditEntry[]>;
}

/**
 * Topic indexes and wake-ups. An index only grows and never repeats; every
 * Atlas process on the same backend sees the same indexes (Postgres: one
 * sequence; etcd: the revision), so a watcher may move between them.
 */
export interface ChangeFeed {
  /** The highest index of these topics (0 when none was ever written). */
  index(topics: readonly string[]): Promise<number>;
  /** Calls `listener` with each changed topic, whichever process wrote it; returns a function that stops it. */
  onChange(listener: (topic: string) => void): () => void;
  /** Moves these topics without writing data; with `unlessMovedAfter`, only a topic whose index is still below it. */
  announce(topics: readonly string[], unlessMovedAfter?: number): Promise<void>;
}

/**
 * A backend: the four concerns over one store, and how to close it.
 *
 * @example
 * const backend = await KyselyStore.open(db, { listenUrl });
 * const store = new AtlasStore(backend);
 */
export interface StoreBackend {
  readonly name: string;
  readonly instances: InstanceStore;
  readonly config: ConfigStore;
  readonly tokens: TokenStore;
  readonly feed: ChangeFeed;
  close(): Promise<void>;
}

export type { AtlasStore } from './atlas-store.ts';
