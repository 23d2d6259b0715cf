import { resolve } from 'node:path';
import type { Generated } from 'kysely';
import { createSmartService, type SmartServiceOptions } from 'smart-service';
import { z } from 'zod';
import { chargeOnce } from './charge.ts';
import { badCredentials, badRequest, idempotencyKeyRequired, noSuchUser } from './errors.ts';
import { noUserMatches, passwordMatches } from './passwords.ts';

declare module 'smart-service' {
  interface Database {
    users: { name: string; password_hash: string; credit: number };
    charges: {
      idempotency_key: string;
      name: string;
      amount: number;
      credit_after: number;
      charged_at: Generated<Date>;
    };
  }
}

const userParams = z.object({ name: z.string().min(1).max(64) });
const verifyBody = z.object({ password: z.string().max(256) });
const chargeBody = z.object({
  amount: z.number().int().positive().max(1_000_000),
  /** What is bought, for the message of a refused charge: `fib(10)`. */
  item: z.string().min(1).max(100).optional(),
});

/** Parses request input; bad input is a 400 problem naming the field. */
function parse<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw badRequest(`${where}${issue?.path.length ? `.${issue.path.join('.')}` : ''}: ${issue?.message}`);
}

/**
 * userstore: users and their credit, in Postgres (PGlite in realm local).
 * `POST /users/:name/verify` checks a password; `POST /users/:name/charge`
 * takes credit atomically (never below zero) and once per `idempotency-key`;
 * `GET /users/:name` reads the credit. Only other services call it.
 *
 * @example
 * const app = await build();
 * await app.start();
 */
export async function build(options: Partial<SmartServiceOptions> = {}) {
  const app = await createSmartService({
    name: 'userstore',
    version: '1.0.0',
    root: resolve(import.meta.dirname, '..'),
    db: true,
    ...options,
  });

  app.post('/users/:name/verify', async (request) => {
    const { name } = parse(userParams, request.params, 'params');
    const { password } = parse(verifyBody, request.body, 'body');
    const user = await app.db.selectFrom('users').selectAll().where('name', '=', name).executeTakeFirst();
    // One answer, in the same time, for an unknown user and a wrong password: no user enumeration.
    const matches = user ? await passwordMatches(password, user.password_hash) : await noUserMatches(password);
    if (!user || !matches) throw badCredentials(name);
    return { name: user.name, credit: user.credit };
  });

  app.post('/users/:name/charge', async (request) => {
    const { name } = parse(userParams, request.params, 'params');
    const { amount, item } = parse(chargeBody, request.body, 'body');
    const key = request.headers['idempotency-key'];
    if (typeof key !== 'string' || key.length === 0 || key.length > 128) throw idempotencyKeyRequired();
    const charged = await chargeOnce(app.db, { key, name, amount, item });
    request.log.info(
      { user: name, amount, credit: charged.credit, replayed: charged.replayed },
      charged.replayed
        ? `charge ${key} was already applied: ${name} keeps ${charged.credit}`
        : `credit for ${name} decremented by ${amount} yielding ${charged.credit}`,
    );
    return charged;
  });

  app.get('/users/:name', async (request) => {
    const { name } = parse(userParams, request.params, 'params');
    const user = await app.db
      .selectFrom('users')
      .select(['name', 'credit'])
      .where('name', '=', name)
      .executeTakeFirst();
    if (!user) throw noSuchUser(name);
    return user;
  });
  return app;
}
