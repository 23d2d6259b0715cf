import { defineRoutes } from 'smart-service';
import { z } from 'zod';

/**
 * pricing's API: its contract with callers (fibfrontend imports `Routes`
 * as a type for its typed client) and the schemas `/openapi.json` shows.
 */
export const routes = defineRoutes({
  price: {
    method: 'GET',
    url: '/price/:n',
    schema: {
      summary: 'What fib(n) costs, in credits',
      params: z.object({ n: z.coerce.number().int().min(0).max(999_999) }),
      response: { 200: z.object({ n: z.number().int(), cost: z.number().int().min(1) }) },
    },
  },
});

export type Routes = typeof routes;
