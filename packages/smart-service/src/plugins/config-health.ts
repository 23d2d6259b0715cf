import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/**
 * What became of values Atlas gave that the config refused (smart-config
 * judges Atlas key by key): each refused key is logged as an error once at
 * start (later ones by the config's `error` event), and the non-critical
 * `config` readiness check fails while any is refused, naming the keys, so
 * the instance keeps serving on the keys' lower layers and the problem shows
 * in `/health/ready` and the dev dashboard.
 *
 * @example
 * // GET /health/ready -> { checks: { config: { status: 'fail', critical: false,
 * //   error: 'config refused from atlas: db.poolMax (Too small: expected number to be >0)' } } }
 */
export const configHealth = fp(
  async function configHealth(app: FastifyInstance) {
    for (const issue of app.smartConfig.rejected) {
      app.log.error(
        { key: issue.key, source: issue.layer },
        `config key ${issue.key} from ${issue.layer} refused (${issue.message}): running on its lower layers`,
      );
    }
    app.healthCheck(
      'config',
      () => {
        const rejected = app.smartConfig.rejected;
        if (rejected.length === 0) return;
        const keys = rejected.map((issue) => `${issue.key} (${issue.message})`).join('; ');
        throw new Error(
          `config refused from ${[...new Set(rejected.map((issue) => issue.layer))].join(', ')}: ${keys}`,
        );
      },
      { critical: false },
    );
  },
  { name: 'smart-config-health', dependencies: ['smart-health'] },
);
