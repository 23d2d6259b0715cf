/**
 * atlas-client: a typed client for the Atlas HTTP API.
 *
 * @example
 * import { createAtlasClient } from 'atlas-client';
 * const atlas = createAtlasClient({ url: 'http://127.0.0.1:4100', token: process.env.SMART_ATLAS_TOKEN });
 * const { data } = await atlas.getConfig('orders', 'production');
 */
export {
  AtlasClient,
  type AtlasClientOptions,
  atlasUrls,
  type ConfigEntry,
  type ConfigSnapshot,
  createAtlasClient,
  type Instance,
  type Registration,
  type WatchOptions,
} from './atlas-client.ts';
export { LastKnownGood } from './cache.ts';
export { AtlasClientError, codes, errorCodes } from './errors.ts';
export { type BlockingRead, type Watch, type WatchTiming, watchLoop } from './watch.ts';
