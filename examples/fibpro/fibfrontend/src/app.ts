import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { RemoteError } from 'smart-client';
import { createSmartService, type SmartServiceOptions, serviceClient } from 'smart-service';
import type { Routes as PricingRoutes } from '../../pricing/src/routes.ts';
import type { Routes as UserstoreRoutes } from '../../userstore/src/routes.ts';
import { authRequired, badCredentials, badN, insufficientCredit } from './errors.ts';
import { fib } from './fib.ts';

/** The largest n served: fib(10000) takes ~1 ms; beyond, the answer grows past what an API should send. */
export const MAX_N = 10_000;

/** n from the path: digits only (`4.5`, `favicon.ico` and `-3` are 400s, never 500s), at most MAX_N. */
export function parseN(raw: string): number {
  if (!/^\d+$/.test(raw)) throw badN(`n must be a whole number from 0 to ${MAX_N}, not "${raw}"`);
  const n = Number(raw);
  if (n > MAX_N) throw badN(`n must be at most ${MAX_N}, not ${raw}`);
  return n;
}

/** The user and password of a `Basic` authorization header, or a 401 problem. */
export function credentials(header: string | undefined): { user: string; password: string } {
  if (!header?.startsWith('Basic ')) throw authRequired();
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) throw authRequired();
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * fibfrontend: `GET /:n` behind Basic auth. Checks the user with userstore
 * and asks pricing for the cost (at once), charges the user, then computes
 * fib(n). Any other failure of userstore or pricing escapes as a
 * RemoteError: a 502 whose problem carries the chain.
 *
 * @example
 * const app = await build();
 * await app.start(); // curl -u alice:wonderland localhost:3000/10
 */
export async function build(options: Partial<SmartServiceOptions> = {}) {
  const app = await createSmartService({
    name: 'fibfrontend',
    version: '1.0.0',
    root: resolve(import.meta.dirname, '..'),
    ...options,
  });
  // Typed clients over app.client (retries, hedging, deadlines, RemoteError): paths, inputs and answers checked by tsc.
  const userstore = serviceClient<UserstoreRoutes>(app.client, 'userstore');
  const pricing = serviceClient<PricingRoutes>(app.client, 'pricing');

  app.get('/:n', async (request, reply) => {
    const n = parseN((request.params as { n: string }).n);
    const { user, password } = credentials(request.headers.authorization);

    const [, price] = await Promise.all([
      userstore.post('/users/:name/verify', { params: { name: user }, body: { password } }).catch((err) => {
        if (err instanceof RemoteError && err.status === 401) throw badCredentials(user);
        throw err;
      }),
      pricing.get('/price/:n', { params: { n } }),
    ]);
    // A key of our own for this one charge (never the request id, which the
    // caller chooses): the client may retry the POST because it carries a
    // key, and userstore applies a key once.
    const charged = await userstore
      .post('/users/:name/charge', {
        params: { name: user },
        body: { amount: price.cost, item: `fib(${n})` },
        headers: { 'idempotency-key': randomUUID() },
      })
      .catch((err) => {
        if (err instanceof RemoteError && err.remoteCode === 'USERSTORE_INSUFFICIENT_CREDIT') {
          request.log.info({ user, n, cost: price.cost }, `user "${user}" denied fib(${n}): ${err.detail}`);
          throw insufficientCredit(err.detail);
        }
        throw err;
      });
    request.log.info({ user, n, cost: price.cost, credit: charged.credit }, `${user} used ${price.cost} credit`);
    reply.header('x-fibpro-cost', String(price.cost));
    return { n, fib: fib(n).toString(), cost: price.cost, credit: charged.credit };
  });
  return app;
}
