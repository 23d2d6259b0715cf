import type { AtlasClient } from 'atlas-client';
import type { ConfigSource } from './config-source.ts';

/** Options of `atlasSource`. */
export interface AtlasSourceOptions {
  /** The Atlas client to read and watch config with. */
  readonly client: AtlasClient;
  /**
   * Fail the load when Atlas cannot be reached. Default false: start from the
   * last-known-good copy, or from defaults and environment when there is none.
   */
  readonly required?: boolean;
  /** Where warnings go (Atlas unreachable at start, a watch failing). */
  readonly onWarning?: (message: string, detail: Record<string, unknown>) => void;
}

/**
 * The Atlas layer: the service's config for its realm (its keys over
 * `_global`'s), loaded after the environment and kept current with a
 * blocking-query watch. Each update goes through the same validation as a
 * load, so a bad value in Atlas is rejected and the last good config stays.
 *
 * @example
 * const client = createAtlasClient({ url: process.env.SMART_ATLAS_URL, token, cacheDir: '.smart/atlas' });
 * const config = await loadConfig(definition, { service: 'orders', sources: [atlasSource({ client })] });
 */
export function atlasSource(options: AtlasSourceOptions): ConfigSource {
  const warn = options.onWarning ?? (() => {});
  return {
    name: 'atlas',
    async load({ service, realm }) {
      try {
        return (await options.client.getConfig(service, realm)).data.values;
      } catch (err) {
        if (options.required) throw err;
        const cached = await options.client.lastKnownConfig(service, realm);
        const error = (err as Error).message;
        if (cached) {
          warn('Atlas is unavailable at start: using the last-known-good config', { error });
          return cached.values;
        }
        warn(
          'Atlas is unavailable at start and there is no last-known-good copy: starting from defaults and environment',
          { error },
        );
        return {};
      }
    },
    watch({ service, realm }, onUpdate) {
      let failing = false;
      const watch = options.client.watchConfig(
        service,
        realm,
        (config) => {
          failing = false;
          onUpdate(config.values);
        },
        {
          onError: (err) => {
            // One warning per outage; the watch keeps retrying with back-off.
            if (!failing) warn('Atlas config watch failing: keeping the current config', { error: err.message });
            failing = true;
          },
        },
      );
      return () => watch.stop();
    },
  };
}
