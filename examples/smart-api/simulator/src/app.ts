import { resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createSmartService, defineConfig, type SmartServiceOptions, type ZodTypeProvider } from 'smart-service';
import { z } from 'zod';
import { simulatedFailure } from './errors.ts';

const percent = z.number().min(0).max(100);
const ms = z.number().int().min(0);

/**
 * How the simulated upstream behaves; set per realm, from the environment
 * (`SMART_SIMULATOR__SLOW_PERCENT=30`) or live from Atlas.
 */
export const config = defineConfig({
  schema: z.object({
    simulator: z.object({
      /** Share of answers that are slow. */
      slowPercent: percent,
      /** Share of answers that are a 500. */
      failPercent: percent,
      fastMs: z.tuple([ms, ms]),
      slowMs: z.tuple([ms, ms]),
    }),
  }),
  defaults: { simulator: { slowPercent: 10, failPercent: 5, fastMs: [10, 100], slowMs: [300, 900] } },
});

const between = ([low = 0, high = 0]: readonly number[]) => low + Math.random() * (high - low);

/**
 * simulator: `GET /api/work`, an upstream like the exercise's testing
 * endpoint: most answers come in 10-100 ms, some after 300-900 ms, some are
 * a 500.
 */
export async function build(options: Partial<SmartServiceOptions<typeof config>> = {}) {
  const app = await createSmartService({
    name: 'simulator',
    version: '1.0.0',
    config,
    root: resolve(import.meta.dirname, '..'),
    ...options,
  });
  app.withTypeProvider<ZodTypeProvider>().get(
    '/api/work',
    {
      schema: {
        summary: 'Some simulated work: usually fast, sometimes slow, sometimes a 500',
        response: {
          200: z.object({
            time: z.number().int().meta({ description: 'ms it waited' }),
            slow: z.boolean().meta({ description: 'whether this was a slow answer' }),
          }),
        },
      },
    },
    async () => {
      const { slowPercent, failPercent, fastMs, slowMs } = app.config.simulator;
      const slow = Math.random() * 100 < slowPercent;
      const waited = Math.round(between(slow ? slowMs : fastMs));
      await sleep(waited);
      if (Math.random() * 100 < failPercent) {
        throw simulatedFailure();
      }
      return { time: waited, slow };
    },
  );
  return app;
}
