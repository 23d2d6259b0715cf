/**
 * smart-atlas: the registry and config service of smart services.
 *
 * @example
 * import { createAtlas } from 'smart-atlas';
 * const atlas = await createAtlas();
 * await atlas.start();
 */
export { hashToken, newToken, type Principal } from './auth.ts';
export { INDEX_HEADER, parseWait } from './blocking.ts';
export { type AtlasOptions, atlasConfig, createAtlas } from './create-atlas.ts';
export { AtlasError, codes, errorCodes } from './errors.ts';
export { KyselyStore, type KyselyStoreOptions } from './kysely-store.ts';
export { parseMasterKey, SecretBox } from './secret-box.ts';
export type { AtlasStore, AuditEntry, ConfigRow, InstanceRecord, TokenRecord, TokenScope } from './store.ts';
