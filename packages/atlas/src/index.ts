/**
 * smart-atlas: the registry and config service of smart services.
 *
 * @example
 * import { createAtlas } from 'smart-atlas';
 * const atlas = await createAtlas();
 * await atlas.start();
 */

export { AtlasStore } from './atlas-store.ts';
export { hashToken, newToken, type Principal } from './auth.ts';
export { INDEX_HEADER, parseWait } from './blocking.ts';
export { type AtlasOptions, atlasConfig, createAtlas } from './create-atlas.ts';
export { AtlasError, codes, errorCodes } from './errors.ts';
export { parseMasterKey, SecretBox } from './secret-box.ts';
export type {
  AuditEntry,
  ChangeFeed,
  ConfigRow,
  ConfigStore,
  ExpiredInstance,
  InstanceRecord,
  InstanceStore,
  StoreBackend,
  TokenRecord,
  TokenScope,
  TokenStore,
} from './store.ts';
export { EtcdStore, type EtcdStoreOptions } from './stores/etcd-store.ts';
export { KyselyStore, type KyselyStoreOptions } from './stores/kysely-store.ts';
