import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { Etcd3, type IKeyValue, type IRequestOp, type ITxnResponse, type Watcher } from 'etcd3';
import type { ConfigSchemaRecord, ConfigSchemaStore } from '../config-schemas.ts';
import type {
  AuditEntry,
  ChangeFeed,
  ConfigRow,
  ConfigStore,
  ExpiredInstance,
  InstanceRecord,
  InstanceStore,
  StoreBackend,
  TokenRecord,
  TokenStore,
} from '../store.ts';
import { Batcher } from './batcher.ts';
import { LeaseKeeper } from './lease-keeper.ts';

/** Options of the etcd store. */
export interface EtcdStoreOptions {
  /** Client URLs of the cluster's members, e.g. `['http://10.0.0.1:2379', ...]`. */
  readonly endpoints: readonly string[];
  /** Every key starts with this. Default `/atlas/`. */
  readonly prefix?: string;
  /** A unary request fails after this, and the next member is tried. Default 5 s. */
  readonly timeoutMs?: number;
  /** Reports an interrupted watch (it resumes from its last revision). */
  readonly onError?: (err: Error) => void;
  /** etcd's authentication. */
  readonly auth?: { readonly username: string; readonly password: string };
  /** The CA of `https://` endpoints (PEM). */
  readonly caCertificate?: Buffer;
}

// The key layout under the prefix. Names cannot hold `/` (smart-protocol's
// patterns), so each part is one path segment.
const keys = {
  instance: (service: string, id: string) => `i/${service}/${id}`,
  instancesOf: (service: string) => `i/${service}/`,
  instances: 'i/',
  config: (realm: string, service: string, key: string) => `c/${realm}/${service}/${key}`,
  configOf: (realm: string, service: string) => `c/${realm}/${service}/`,
  tokenByHash: (hash: string) => `k/h/${hash}`,
  tokenById: (id: string) => `k/i/${id}`,
  audit: (id: string) => `a/${id}`,
  audits: 'a/',
  schema: (realm: string, service: string) => `s/${realm}/${service}`,
  schemasOf: (realm: string) => `s/${realm}/`,
  topic: (topic: string) => `t/${topic}`,
  /** The revision up to which lapsed leases have been announced (by any Atlas process). */
  announced: 'f/announced',
  topics: 't/',
};

const json = (kv: IKeyValue) => JSON.parse(kv.value.toString()) as never;

/** The end of the key range holding every key that starts with `prefix` (etcd's `--prefix`). */
function rangeEnd(prefix: Buffer): Buffer {
  const end = Buffer.from(prefix);
  for (let i = end.length - 1; i >= 0; i--) {
    if ((end[i] as number) < 0xff) {
      end[i] = (end[i] as number) + 1;
      return end.subarray(0, i + 1);
    }
  }
  return Buffer.from([0]);
}

/** The raw calls every concern shares: prefixed keys, ranges, transactions. */
class EtcdKv {
  readonly client: Etcd3;
  readonly prefix: string;

  constructor(client: Etcd3, prefix: string) {
    this.client = client;
    this.prefix = prefix;
  }

  key(name: string): Buffer {
    return Buffer.from(this.prefix + name);
  }

  async get(name: string, serializable = false): Promise<IKeyValue | undefined> {
    const res = await this.client.kv.range({ key: this.key(name), serializable });
    return res.kvs[0];
  }

  async range(
    prefix: string,
    sort?: { target: 'Key' | 'Mod'; order: 'Ascend' | 'Descend'; limit?: number },
  ): Promise<IKeyValue[]> {
    const key = this.key(prefix);
    const res = await this.client.kv.range({
      key,
      range_end: rangeEnd(key),
      ...(sort ? { sort_target: sort.target, sort_order: sort.order, limit: sort.limit ?? 0 } : {}),
    });
    return res.kvs;
  }

  put(name: string, value: unknown, extra: { lease?: string; ignore_lease?: boolean } = {}): IRequestOp {
    return { request_put: { key: this.key(name), value: Buffer.from(JSON.stringify(value)), ...extra } };
  }

  /** Puts on each topic's marker key: its mod revision is the topic's index. */
  marks(changed: readonly string[]): IRequestOp[] {
    return [...new Set(changed)].map((topic) => ({
      request_put: { key: this.key(keys.topic(topic)), value: Buffer.alloc(0) },
    }));
  }

  /** Runs `success` if `name` is still at `modRevision` (0: absent); false when someone wrote it first. */
  async txnIf(name: string, modRevision: string, success: IRequestOp[]): Promise<ITxnResponse> {
    return this.client.kv.txn({
      compare: [{ key: this.key(name), target: 'Mod', result: 'Equal', mod_revision: modRevision }],
      success,
    });
  }

  async txn(success: IRequestOp[]): Promise<ITxnResponse> {
    return this.client.kv.txn({ success });
  }
}

class EtcdFeed implements ChangeFeed {
  readonly #kv: EtcdKv;
  readonly events = new EventEmitter().setMaxListeners(0);

  constructor(kv: EtcdKv) {
    this.#kv = kv;
  }

  emit(changed: readonly string[]): void {
    for (const topic of new Set(changed)) this.events.emit('change', topic);
  }

  // The blocking queries that arrive together (the watchers a change woke, re-arming) share one
  // round trip: a read-only transaction of one range per marker (128 to a transaction, etcd's default limit).
  readonly #indexes = new Batcher<readonly string[], number>(async (calls) => {
    const wanted = [...new Set(calls.flat())];
    const chunks = Array.from({ length: Math.ceil(wanted.length / 128) }, (_, i) =>
      wanted.slice(i * 128, i * 128 + 128),
    );
    const indexes = new Map<string, number>();
    const answers = await Promise.all(
      chunks.map((chunk) =>
        this.#kv.txn(chunk.map((topic) => ({ request_range: { key: this.#kv.key(keys.topic(topic)) } }))),
      ),
    );
    answers.forEach((res, c) => {
      res.responses.forEach((op, i) => {
        const kv = op.response_range?.kvs[0];
        if (kv) indexes.set(chunks[c]?.[i] as string, Number(kv.mod_revision));
      });
    });
    return calls.map((topics) => Math.max(0, ...topics.map((topic) => indexes.get(topic) ?? 0)));
  });

  async index(wanted: readonly string[]): Promise<number> {
    return wanted.length === 0 ? 0 : this.#indexes.add(wanted);
  }

  onChange(listener: (topic: string) => void): () => void {
    this.events.on('change', listener);
    return () => this.events.off('change', listener);
  }

  async announce(changed: readonly string[], unlessMovedAfter?: number): Promise<void> {
    if (unlessMovedAfter === undefined) {
      await this.#kv.txn(this.#kv.marks(changed));
    } else {
      // Every Atlas process sees a lapsed lease; the first to announce it moves the topic, the rest find it moved.
      for (const topic of new Set(changed)) {
        await this.#kv.client.kv.txn({
          compare: [
            { key: this.#kv.key(keys.topic(topic)), target: 'Mod', result: 'Less', mod_revision: unlessMovedAfter },
          ],
          success: this.#kv.marks([topic]),
        });
      }
    }
    this.emit(changed);
  }
}

const sameShape = (a: InstanceRecord, b: InstanceRecord) =>
  a.realm === b.realm &&
  a.host === b.host &&
  a.port === b.port &&
  a.version === b.version &&
  a.ttlMs === b.ttlMs &&
  JSON.stringify(a.metadata) === JSON.stringify(b.metadata);

// Instances are keys under leases: the TTL is the lease, a heartbeat is a
// keep-alive, and etcd deletes the key when the lease lapses. The record's
// `expiresAt` is as of its last write; etcd, not Atlas's clock, decides expiry.
class EtcdInstances implements InstanceStore {
  readonly #kv: EtcdKv;
  readonly #feed: EtcdFeed;
  readonly #leases: LeaseKeeper;
  #lapsed: ExpiredInstance[] = [];
  /** The latest delete handed over by `expire` (announced once the next `expire` runs). */
  #drainedUpTo = 0;
  /** The latest delete whose announcement is done: what a restarted watch may start after. */
  announcedUpTo = 0;

  constructor(kv: EtcdKv, feed: EtcdFeed, leases: LeaseKeeper) {
    this.#kv = kv;
    this.#feed = feed;
    this.#leases = leases;
  }

  /** A delete seen by the watch: a lapsed lease, or a deregistration (then already announced). */
  lapsed(kv: IKeyValue, previous: IKeyValue | undefined): void {
    if (!previous) return;
    const record = json(previous) as InstanceRecord;
    this.#lapsed.push({ service: record.service, realm: record.realm, index: Number(kv.mod_revision) });
  }

  async get(service: string, id: string): Promise<InstanceRecord | undefined> {
    const kv = await this.#kv.get(keys.instance(service, id));
    return kv ? json(kv) : undefined;
  }

  // Heartbeats arriving together read their keys in one transaction (see `#renewAll`).
  readonly #renewals = new Batcher<InstanceRecord, InstanceRecord | undefined>(
    (beats) => this.#renewAll(beats),
    (next) => `${next.service}/${next.id}`,
    128, // etcd's default --max-txn-ops
  );

  renew(next: InstanceRecord): Promise<InstanceRecord | undefined> {
    return this.#renewals.add(next);
  }

  // One read-only transaction of serializable ranges for the batch (a stale
  // answer at worst sends a heartbeat down the registration path), then a
  // keep-alive per unchanged instance on the shared stream.
  async #renewAll(beats: readonly InstanceRecord[]): Promise<(InstanceRecord | undefined)[]> {
    const res = await this.#kv.txn(
      beats.map((next) => ({
        request_range: { key: this.#kv.key(keys.instance(next.service, next.id)), serializable: true },
      })),
    );
    return Promise.all(
      beats.map(async (next, i) => {
        const kv = res.responses[i]?.response_range?.kvs[0];
        if (!kv || kv.lease === '0') return undefined;
        const stored = json(kv) as InstanceRecord;
        if (!sameShape(stored, next)) return undefined;
        // A keep-alive that failed (its stream broke twice) sends this one heartbeat down the registration path.
        const alive = await this.#leases.keepAlive(kv.lease).catch(() => false);
        return alive ? { ...next, registeredAt: stored.registeredAt, disabled: stored.disabled } : undefined;
      }),
    );
  }

  async put(instance: InstanceRecord, changed: readonly string[]): Promise<void> {
    const name = keys.instance(instance.service, instance.id);
    for (let attempt = 0; ; attempt++) {
      const kv = await this.#kv.get(name);
      const stored = kv ? (json(kv) as InstanceRecord) : undefined;
      // The same TTL keeps the lease (a drain, a new version); a new TTL or none alive takes a new one.
      const keep = kv && stored && stored.ttlMs === instance.ttlMs && kv.lease !== '0';
      const lease = keep ? undefined : await this.#leases.grant(instance.ttlMs);
      const res = await this.#kv.txnIf(name, kv?.mod_revision ?? '0', [
        this.#kv.put(name, instance, keep ? { ignore_lease: true } : { lease: lease as string }),
        ...this.#kv.marks(changed),
      ]);
      if (res.succeeded) {
        if (keep && stored && instance.expiresAt !== stored.expiresAt) {
          if (!(await this.#leases.keepAlive(kv.lease))) continue; // it lapsed in between: write it again
        }
        if (!keep && kv && kv.lease !== '0') await this.#leases.revoke(kv.lease);
        this.#feed.emit(changed);
        return;
      }
      if (lease) await this.#leases.revoke(lease);
      if (attempt >= 5) throw new Error(`instance ${instance.service}/${instance.id} kept changing under the write`);
    }
  }

  async delete(
    service: string,
    id: string,
    changed: (previous: InstanceRecord) => readonly string[],
  ): Promise<InstanceRecord | undefined> {
    const name = keys.instance(service, id);
    for (;;) {
      const kv = await this.#kv.get(name);
      if (!kv) return undefined;
      const previous = json(kv) as InstanceRecord;
      const moved = changed(previous);
      const res = await this.#kv.txnIf(name, kv.mod_revision, [
        { request_delete_range: { key: this.#kv.key(name) } },
        ...this.#kv.marks(moved),
      ]);
      if (res.succeeded) {
        if (kv.lease !== '0') await this.#leases.revoke(kv.lease);
        this.#feed.emit(moved);
        return previous;
      }
    }
  }

  async list(service: string, realm: string): Promise<InstanceRecord[]> {
    const kvs = await this.#kv.range(keys.instancesOf(service));
    return kvs.map((kv) => json(kv) as InstanceRecord).filter((i) => i.realm === realm && !i.disabled);
  }

  async listServices(realm: string): Promise<{ service: string; instances: number }[]> {
    const counts = new Map<string, number>();
    for (const kv of await this.#kv.range(keys.instances)) {
      const instance = json(kv) as InstanceRecord;
      if (instance.realm === realm && !instance.disabled) {
        counts.set(instance.service, (counts.get(instance.service) ?? 0) + 1);
      }
    }
    return [...counts].map(([service, instances]) => ({ service, instances }));
  }

  // etcd removes lapsed keys itself: hand over the deletes the watch saw.
  // (AtlasStore announces what one call returns before it makes the next.)
  async expire(): Promise<ExpiredInstance[]> {
    const lapsed = this.#lapsed;
    this.#lapsed = [];
    this.announcedUpTo = this.#drainedUpTo;
    for (const instance of lapsed) this.#drainedUpTo = Math.max(this.#drainedUpTo, instance.index ?? 0);
    return lapsed;
  }
}

class EtcdConfig implements ConfigStore {
  readonly #kv: EtcdKv;
  readonly #feed: EtcdFeed;

  constructor(kv: EtcdKv, feed: EtcdFeed) {
    this.#kv = kv;
    this.#feed = feed;
  }

  async list(services: readonly string[], realm: string): Promise<ConfigRow[]> {
    const ranges = await Promise.all(services.map((service) => this.#kv.range(keys.configOf(realm, service))));
    return ranges
      .flat()
      .map((kv) => json(kv) as ConfigRow)
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async put(row: ConfigRow, changed: readonly string[]): Promise<void> {
    // A secret's value is never stored: only the ciphertext Atlas sealed.
    const stored = { ...row, value: row.secret ? null : row.value };
    await this.#kv.txn([
      this.#kv.put(keys.config(row.realm, row.service, row.key), stored),
      ...this.#kv.marks(changed),
    ]);
    this.#feed.emit(changed);
  }

  async delete(service: string, realm: string, key: string | undefined, changed: readonly string[]): Promise<string[]> {
    const name = key === undefined ? keys.configOf(realm, service) : keys.config(realm, service, key);
    const start = this.#kv.key(name);
    const res = await this.#kv.txn([
      {
        request_delete_range: {
          key: start,
          ...(key === undefined ? { range_end: rangeEnd(start) } : {}),
          prev_kv: true,
        },
      },
      ...this.#kv.marks(changed),
    ]);
    this.#feed.emit(changed);
    const deleted = res.responses[0]?.response_delete_range?.prev_kvs ?? [];
    return deleted.map((kv) => (json(kv) as ConfigRow).key);
  }
}

class EtcdTokens implements TokenStore {
  readonly #kv: EtcdKv;

  constructor(kv: EtcdKv) {
    this.#kv = kv;
  }

  async put(token: TokenRecord): Promise<void> {
    await this.#kv.txn([
      this.#kv.put(keys.tokenByHash(token.hash), token),
      this.#kv.put(keys.tokenById(token.id), token.hash),
    ]);
  }

  async find(hash: string): Promise<TokenRecord | undefined> {
    const kv = await this.#kv.get(keys.tokenByHash(hash));
    return kv ? json(kv) : undefined;
  }

  async revoke(id: string, at: number): Promise<boolean> {
    const byId = await this.#kv.get(keys.tokenById(id));
    if (!byId) return false;
    const name = keys.tokenByHash(json(byId) as string);
    for (;;) {
      const kv = await this.#kv.get(name);
      if (!kv) return false;
      const token = json(kv) as TokenRecord;
      if (token.revokedAt !== null) return false;
      const res = await this.#kv.txnIf(name, kv.mod_revision, [this.#kv.put(name, { ...token, revokedAt: at })]);
      if (res.succeeded) return true;
    }
  }

  async audit(entry: AuditEntry): Promise<void> {
    await this.#kv.txn([this.#kv.put(keys.audit(randomUUID()), entry)]);
  }

  // Newest first by revision: the order the entries were written in, whatever the clocks said.
  async listAudit(limit: number): Promise<AuditEntry[]> {
    const kvs = await this.#kv.range(keys.audits, { target: 'Mod', order: 'Descend', limit });
    return kvs.map((kv) => json(kv) as AuditEntry);
  }
}

// The config schemas services publish, shared by every Atlas process on the cluster.
class EtcdConfigSchemas implements ConfigSchemaStore {
  readonly #kv: EtcdKv;

  constructor(kv: EtcdKv) {
    this.#kv = kv;
  }

  async get(service: string, realm: string): Promise<ConfigSchemaRecord | undefined> {
    const kv = await this.#kv.get(keys.schema(realm, service));
    return kv ? json(kv) : undefined;
  }

  async list(realm: string): Promise<ConfigSchemaRecord[]> {
    return (await this.#kv.range(keys.schemasOf(realm))).map((kv) => json(kv) as ConfigSchemaRecord);
  }

  async put(record: ConfigSchemaRecord): Promise<void> {
    await this.#kv.txn([this.#kv.put(keys.schema(record.realm, record.service), record)]);
  }
}

/**
 * The Atlas store on etcd v3: instances are keys under leases (the TTL is
 * the lease, a heartbeat a keep-alive), config and tokens are keys, and the
 * change feed is etcd's revision: each topic has a marker key written in the
 * same transaction as the change, whose mod revision is the topic's index,
 * and one watch on the markers wakes this process's blocking queries,
 * whichever Atlas process wrote. Secrets arrive sealed by Atlas.
 *
 * @example
 * const backend = await EtcdStore.open({ endpoints: ['http://127.0.0.1:2379'] });
 * const store = new AtlasStore(backend);
 */
export class EtcdStore implements StoreBackend {
  readonly name = 'etcd';
  readonly instances: EtcdInstances;
  readonly config: ConfigStore;
  readonly tokens: TokenStore;
  readonly feed: EtcdFeed;
  /** Published config schemas, in the cluster like the rest (not a concern of the four: the schema routes use it). */
  readonly configSchemas: ConfigSchemaStore;
  readonly #client: Etcd3;
  readonly #leases: LeaseKeeper;
  readonly #watchers: Watcher[] = [];
  readonly #kv: EtcdKv;
  #saver: NodeJS.Timeout | undefined;
  #saved = 0;

  private constructor(client: Etcd3, prefix: string, timeoutMs: number) {
    const kv = new EtcdKv(client, prefix);
    this.#kv = kv;
    this.#client = client;
    this.#leases = new LeaseKeeper(client, timeoutMs);
    this.feed = new EtcdFeed(kv);
    this.instances = new EtcdInstances(kv, this.feed, this.#leases);
    this.config = new EtcdConfig(kv, this.feed);
    this.tokens = new EtcdTokens(kv);
    this.configSchemas = new EtcdConfigSchemas(kv);
  }

  /** Connects, and starts the watches on topic markers and on instances (for lapsed leases). */
  static async open(options: EtcdStoreOptions): Promise<EtcdStore> {
    const timeoutMs = options.timeoutMs ?? 5_000;
    const prefix = options.prefix ?? '/atlas/';
    const client = new Etcd3({
      hosts: [...options.endpoints],
      ...(options.auth ? { auth: { ...options.auth } } : {}),
      ...(options.caCertificate ? { credentials: { rootCertificate: options.caCertificate } } : {}),
      // Unary calls get a deadline, so a dead member costs one timeout and the next is tried; streams none.
      defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + timeoutMs }),
    });
    const store = new EtcdStore(client, prefix, timeoutMs);
    try {
      await store.#watch(prefix, options.onError);
    } catch (err) {
      await store.close();
      throw err;
    }
    return store;
  }

  async #watch(prefix: string, onError: ((err: Error) => void) | undefined): Promise<void> {
    // Leases lapse whether an Atlas runs or not: the watch of deletes starts
    // after the last one announced (by any process), so the lapses nobody saw
    // are announced now (each only if its topics did not move since). A plain
    // read first, also: a cluster we may not read fails here, not in a watch that retries forever.
    const found = await this.#client.kv.range({ key: this.#kv.key(keys.announced) });
    const saved = found.kvs[0];
    this.#saved = saved ? Number(json(saved)) : 0;
    if (!saved) {
      // The first Atlas on this prefix: from now on.
      this.#saved = Number(found.header.revision);
      await this.#kv.txnIf(keys.announced, '0', [this.#kv.put(keys.announced, this.#saved)]);
    }
    const topicsFrom = prefix.length + keys.topics.length;
    const markers = await this.#client
      .watch()
      .prefix(prefix + keys.topics)
      .only('put')
      .create();
    markers.on('put', (kv) => this.feed.emit([kv.key.toString().slice(topicsFrom)]));
    markers.on('disconnected', (err) => onError?.(err));
    markers.on('error', (err) => onError?.(err));
    this.#watchers.push(markers);
    await this.#watchLapses(prefix, this.#saved > 0 ? this.#saved + 1 : undefined, onError);
    this.#saver = setInterval(() => {
      this.#save().catch((err: Error) => onError?.(err));
    }, 2_000);
    this.#saver.unref();
  }

  async #watchLapses(prefix: string, from: number | undefined, onError: ((err: Error) => void) | undefined) {
    let builder = this.#client
      .watch()
      .prefix(prefix + keys.instances)
      .only('delete')
      .withPreviousKV();
    if (from !== undefined) builder = builder.startRevision(String(from));
    const watcher = await builder.create();
    watcher.on('delete', (kv, previous) => this.instances.lapsed(kv, previous));
    watcher.on('disconnected', (err) => onError?.(err));
    watcher.on('error', (err) => {
      onError?.(err);
      // Compacted past where we stopped: watch from now, and wake every instance watcher once to be safe.
      if (from !== undefined && /compact/i.test(err.message)) {
        this.#watchers.splice(this.#watchers.indexOf(watcher), 1);
        watcher.cancel().catch(() => {});
        this.#watchLapses(prefix, undefined, onError)
          .then(() => this.#announceAllInstances())
          .catch((e: Error) => onError?.(e));
      }
    });
    this.#watchers.push(watcher);
  }

  async #announceAllInstances(): Promise<void> {
    const markers = await this.#kv.range(keys.topics);
    const all = markers
      .map((kv) => kv.key.toString().slice(this.#kv.prefix.length + keys.topics.length))
      .filter((topic) => topic.startsWith('instances/') || topic.startsWith('catalog/'));
    if (all.length > 0) await this.feed.announce(all);
  }

  // Written now and then, and only forward: any process's value will do, an older one only means more replay.
  async #save(): Promise<void> {
    const upTo = this.instances.announcedUpTo;
    if (upTo <= this.#saved) return;
    const name = keys.announced;
    const current = await this.#kv.get(name);
    if (current && Number(json(current)) >= upTo) return;
    await this.#kv.txnIf(name, current?.mod_revision ?? '0', [this.#kv.put(name, upTo)]);
    this.#saved = upTo;
  }

  async close(): Promise<void> {
    clearInterval(this.#saver);
    await this.#save().catch(() => {});
    this.feed.events.removeAllListeners();
    await Promise.all(this.#watchers.map((w) => w.cancel().catch(() => {})));
    this.#leases.close();
    this.#client.close();
  }
}
