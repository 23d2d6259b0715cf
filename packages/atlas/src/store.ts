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
  /** Epoch ms after which the instance is no longer returned. */
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

/**
 * Everything Atlas keeps. Each write advances the index of the topics it
 * touches and tells `onChange` listeners, in this process and (for a
 * shared database) in every other Atlas process. A backend (Postgres, etcd,
 * Consul) implements this and nothing else.
 */
export interface AtlasStore {
  /** The highest index of these topics (0 when none was ever written). */
  index(topics: readonly string[]): Promise<number>;
  /** Calls `listener` with each changed topic; returns a function that stops it. */
  onChange(listener: (topic: string) => void): () => void;

  putInstance(instance: InstanceRecord): Promise<void>;
  deleteInstance(service: string, id: string): Promise<InstanceRecord | undefined>;
  getInstance(service: string, id: string): Promise<InstanceRecord | undefined>;
  setDisabled(service: string, id: string, disabled: boolean): Promise<InstanceRecord | undefined>;
  /** Live (unexpired, enabled) instances of a service in a realm. */
  listInstances(service: string, realm: string, now: number): Promise<InstanceRecord[]>;
  /** Services with live instances in a realm, and how many. */
  listServices(realm: string, now: number): Promise<{ service: string; instances: number }[]>;
  /** Announces instances that expired since `since`, and deletes those expired before `reapBefore`. */
  expire(since: number, now: number, reapBefore: number): Promise<void>;

  /** Rows of these services in a realm (e.g. the service and `_global`). */
  getConfig(services: readonly string[], realm: string): Promise<ConfigRow[]>;
  putConfig(row: ConfigRow): Promise<void>;
  /** Deletes one key, or every key of the service in the realm; returns the keys deleted. */
  deleteConfig(service: string, realm: string, key: string | undefined): Promise<string[]>;

  putToken(token: TokenRecord): Promise<void>;
  findToken(hash: string): Promise<TokenRecord | undefined>;
  revokeToken(id: string, at: number): Promise<boolean>;

  audit(entry: AuditEntry): Promise<void>;
  listAudit(limit: number): Promise<AuditEntry[]>;

  close(): Promise<void>;
}
