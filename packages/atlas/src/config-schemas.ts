import type { Kysely } from 'kysely';

/** The config schema a service published for a realm: JSON Schema of its whole config, secrets marked `x-smart-secret`. */
export interface ConfigSchemaRecord {
  readonly service: string;
  readonly realm: string;
  readonly schema: Readonly<Record<string, unknown>>;
  readonly updatedAt: number;
  readonly updatedBy: string;
}

/**
 * Where published config schemas are kept: one per service and realm.
 *
 * @example
 * await schemas.put({ service: 'orders', realm: 'production', schema, updatedAt: Date.now(), updatedBy: 'orders' });
 */
export interface ConfigSchemaStore {
  get(service: string, realm: string): Promise<ConfigSchemaRecord | undefined>;
  /** Every schema published in a realm (a `_global` write is checked against each). */
  list(realm: string): Promise<ConfigSchemaRecord[]>;
  put(record: ConfigSchemaRecord): Promise<void>;
}

interface Tables {
  atlas_config_schemas: {
    service: string;
    realm: string;
    schema: Record<string, unknown> | string;
    updated_at: string | number;
    updated_by: string;
  };
}

function toRecord(row: Tables['atlas_config_schemas']): ConfigSchemaRecord {
  return {
    service: row.service,
    realm: row.realm,
    schema: typeof row.schema === 'string' ? JSON.parse(row.schema) : row.schema,
    updatedAt: Number(row.updated_at),
    updatedBy: row.updated_by,
  };
}

/**
 * Config schemas in Atlas's database (table `atlas_config_schemas`,
 * migration 0002), through Kysely: Postgres or PGlite.
 *
 * @example
 * const schemas = new KyselyConfigSchemas(app.db);
 */
export class KyselyConfigSchemas implements ConfigSchemaStore {
  readonly #db: Kysely<Tables>;

  constructor(db: Kysely<never>) {
    this.#db = db as unknown as Kysely<Tables>;
  }

  async get(service: string, realm: string): Promise<ConfigSchemaRecord | undefined> {
    const row = await this.#db
      .selectFrom('atlas_config_schemas')
      .selectAll()
      .where('service', '=', service)
      .where('realm', '=', realm)
      .executeTakeFirst();
    return row ? toRecord(row) : undefined;
  }

  async list(realm: string): Promise<ConfigSchemaRecord[]> {
    return (await this.#db.selectFrom('atlas_config_schemas').selectAll().where('realm', '=', realm).execute()).map(
      toRecord,
    );
  }

  async put(record: ConfigSchemaRecord): Promise<void> {
    const values = {
      service: record.service,
      realm: record.realm,
      schema: JSON.stringify(record.schema),
      updated_at: record.updatedAt,
      updated_by: record.updatedBy,
    };
    await this.#db
      .insertInto('atlas_config_schemas')
      .values(values)
      .onConflict((oc) => oc.columns(['service', 'realm']).doUpdateSet(values))
      .execute();
  }
}

/**
 * Config schemas in memory, for an Atlas without a SQL database (the etcd
 * backend): lost on restart, and published again by every service at its
 * next registration.
 *
 * @example
 * const schemas = new MemoryConfigSchemas();
 */
export class MemoryConfigSchemas implements ConfigSchemaStore {
  readonly #byName = new Map<string, ConfigSchemaRecord>();

  async get(service: string, realm: string): Promise<ConfigSchemaRecord | undefined> {
    return this.#byName.get(`${service}/${realm}`);
  }

  async list(realm: string): Promise<ConfigSchemaRecord[]> {
    return [...this.#byName.values()].filter((record) => record.realm === realm);
  }

  async put(record: ConfigSchemaRecord): Promise<void> {
    this.#byName.set(`${record.service}/${record.realm}`, record);
  }
}
