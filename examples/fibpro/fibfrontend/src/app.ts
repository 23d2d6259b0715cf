import { resolve } from 'node:path';
import { RemoteError } from 'smart-client';
import { createSmartService, type SmartServiceOptions } from 'smart-service';
import { fib } from './fib.ts';

/** The largest n served: fib(10000) takes ~1 ms; beyond, the answer grows past what an API should send. */
export const MAX_N = 10_000;

const problem = (status: number, code: string, detail: string, headers: Record<string, string> = {}) =>
  Object.assign(new Error(detail), { statusCode: status, code, headers });

/** The user of a `Basic` authorization header, or a 401 problem. */
function credentials(header: string | undefined): { user: string; password: string } {
  const refuse = () =>
    problem(401, 'FIBPRO_AUTH_REQUIRED', 'log in with HTTP Basic auth', { 'www-authenticate': 'Basic realm="FibPro"' });
  if (!header?.startsWith('Basic ')) throw refuse();
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) throw refuse();
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * fibfrontend: `GET /:n` behind Basic auth. Checks the user with userstore
 * and asks pricing for the cost (at once), charges the user, then computes
 * fib(n). The charge carries the request id as its idempotency key, so a
 * retried charge is applied once.
 */
export async function build(options: Partial<SmartServiceOptions> = {}) {
  const app = await createSmartService({
    name: 'fibfrontend',
    version: '1.0.0',
    root: resolve(import.meta.dirname, '..'),
    ...options,
  });

  app.get('/:n', async (request, reply) => {
    const { n: raw } = request.params as { n: string };
    if (!/^\d+$/.test(raw))
      throw problem(400, 'FIBPRO_BAD_N', `n must be a whole number from 0 to ${MAX_N}, not "${raw}"`);
    const n = Number(raw);
    if (n > MAX_N) throw problem(400, 'FIBPRO_BAD_N', `n must be at most ${MAX_N}, not ${raw}`);
    const { user, password } = credentials(request.headers.authorization);

    const [, price] = await Promise.all([
      app.client.post(`service://userstore/users/${encodeURIComponent(user)}/verify`, { password }).catch((err) => {
        if (err instanceof RemoteError && err.status === 401) {
          throw problem(401, 'FIBPRO_BAD_CREDENTIALS', `wrong user name or password for ${user}`, {
            'www-authenticate': 'Basic realm="FibPro"',
          });
        }
        throw err;
      }),
      app.client.get<{ cost: number }>(`service://pricing/price/${n}`),
    ]);
    const charged = await app.client
      .post<{ credit: number }>(
        `service://userstore/users/${encodeURIComponent(user)}/charge`,
        { amount: price.cost },
        { headers: { 'idempotency-key': `fib-${request.id}` } },
      )
      .catch((err) => {
        if (err instanceof RemoteError && err.remoteCode === 'USERSTORE_INSUFFICIENT_CREDIT') {
          const credit = /\((\d+)\)/.exec(err.detail)?.[1] ?? '?';
          throw problem(
            402,
            'FIBPRO_INSUFFICIENT_CREDIT',
            `fib(${n}) costs ${price.cost}, user ${user} has insufficient credit (${credit})`,
          );
        }
        throw err;
      });
    reply.header('x-fibpro-cost', String(price.cost));
    return { n, fib: fib(n).toString(), cost: price.cost, credit: charged.credit };
  });
  return app;
}
