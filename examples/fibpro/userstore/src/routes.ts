import { defineRoutes } from 'smart-service';
import { z } from 'zod';

const userParams = z.object({ name: z.string().min(1).max(64) });
const user = z.object({ name: z.string(), credit: z.number().int() });

/**
 * userstore's API: its contract with callers (fibfrontend imports `Routes`
 * as a type for its typed client) and the schemas `/openapi.json` shows.
 * Bad input is the framework's 400 problem listing each failing field.
 */
export const routes = defineRoutes({
  verify: {
    method: 'POST',
    url: '/users/:name/verify',
    schema: {
      summary: "Checks a user's password",
      params: userParams,
      body: z.object({ password: z.string().max(256) }),
      response: { 200: user },
    },
  },
  charge: {
    method: 'POST',
    url: '/users/:name/charge',
    schema: {
      summary: 'Takes credit, once per idempotency-key header, never below zero',
      params: userParams,
      body: z.object({
        amount: z.number().int().positive().max(1_000_000),
        /** What is bought, for the message of a refused charge: `fib(10)`. */
        item: z.string().min(1).max(100).optional(),
      }),
      response: {
        200: z.object({
          name: z.string(),
          amount: z.number().int(),
          credit: z.number().int(),
          /** The key had been applied before: nothing was charged this time. */
          replayed: z.boolean(),
        }),
      },
    },
  },
  user: {
    method: 'GET',
    url: '/users/:name',
    schema: { summary: "A user's credit", params: userParams, response: { 200: user } },
  },
});

export type Routes = typeof routes;
