import type { AtlasClient, ConfigSnapshot } from 'atlas-client';
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
 * blocking-query watch. Its values are judged key by key: a bad value is
 * rejected and named, the key keeps its lower layers' value (at start) or
 * its last good value (in a live update), and every other key applies.
 *
 * @example
 * const client = createAtlasClient({ url: process.env.SMART_ATLAS_URL, token, cacheDir: '.smart/atlas' });
 * const config = await loadConfig(definition, { service: 'orders', sources: [atlasSource({ client })] });
 */
export function atlasSource(options: AtlasSourceOptions): ConfigSource {
  const warn = options.onWarning ?? (() => {});
  // What Atlas gave last, and what was last saved as known good (accepted values, no secrets).
  let last: ConfigSnapshot | undefined;
  let saved: Readonly<Record<string, unknown>> = {};
  const remember = async (refused: readonly string[], secrets: ReadonlySet<string>) => {
    if (!last) return;
    const values: Record<string, unknown> = {};
    const under = (key: string, set: Iterable<string>) => [...set].some((k) => key === k || key.startsWith(`${k}.`));
    for (const [key, value] of Object.entries(last.values)) {
      if (under(key, secrets)) continue;
      // A refused key keeps its last accepted value in the copy (as in the running config), or none.
      if (!under(key, refused)) values[key] = value;
      else if (key in saved) values[key] = saved[key];
    }
    saved = values;
    await options.client.rememberConfig({ ...last, values });
  };
  return {
    name: 'atlas',
    // A bad key in Atlas is rejected on its own: the others apply, and a starting instance still starts.
    perKey: true,
    async load({ service, realm }) {
      try {
        last = (await options.client.getConfig(service, realm)).data;
        return last.values;
      } catch (err) {
        if (options.required) throw err;
        const cached = await options.client.lastKnownConfig(service, realm);
        const error = (err as Error).message;
        if (cached) {
          warn('Atlas is unavailable at start: using the last-known-good config', { error });
          saved = cached.values;
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
          last = config;
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
    async accepted({ keys }, refused) {
      const secrets = new Set(keys.filter((key) => key.secret).map((key) => key.key));
      await remember(refused, secrets).catch((err: Error) =>
        warn('could not save the last-known-good config', { error: err.message }),
      );
    },
  };
}
