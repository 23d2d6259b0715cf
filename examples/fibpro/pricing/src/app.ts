import { resolve } from 'node:path';
import { createSmartService, defineConfig, type SmartServiceOptions, type ZodTypeProvider } from 'smart-service';
import { z } from 'zod';
import { routes } from './routes.ts';

/**
 * pricing's own setting: a surcharge in credits on every price, 0 by
 * default; per realm, from the environment (`SMART_PRICING__SURCHARGE=1`) or
 * live from Atlas (the smart dev dashboard's Config panel edits it).
 */
export const config = defineConfig({
  schema: z.object({ pricing: z.object({ surcharge: z.number().int().min(0).max(100) }) }),
  defaults: { pricing: { surcharge: 0 } },
});

/**
 * What fib(n) costs: one credit, plus one per doubling of n (fib(n) has
 * about 0.7 n bits, so the work grows with n; the price grows with its
 * logarithm). n = 0 costs 1: log2(n + 1) is 0 there, never log(0).
 */
export function costOf(n: number): number {
  return 1 + Math.floor(Math.log2(n + 1));
}

/** pricing: `GET /price/:n` (its contract in routes.ts). */
export async function build(options: Partial<SmartServiceOptions<typeof config>> = {}) {
  const app = await createSmartService({
    name: 'pricing',
    version: '1.0.0',
    config,
    root: resolve(import.meta.dirname, '..'),
    ...options,
  });
  app.withTypeProvider<ZodTypeProvider>().route({
    ...routes.price,
    handler: async (request) => {
      const { n } = request.params;
      return { n, cost: costOf(n) + app.config.pricing.surcharge };
    },
  });
  return app;
}
