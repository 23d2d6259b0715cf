import { resolve } from 'node:path';
import type { Generated } from 'kysely';
import { createSmartService, type SmartServiceOptions } from 'smart-service';
import { z } from 'zod';
import { passwordMatches } from './passwords.ts';

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
const chargeBody = z.object({ amount: z.number().int().positive().max(1_000_000) });

/** A coded error smart-service answers as problem+json with this status. */
const problem = (status: number, code: string, detail: string) =>
  Object.assign(new Error(detail), { statusCode: status, code });

/** Parses request input; bad input is a 400 problem naming the field. */
function parse<T>(schema: z.ZodType<T>, value: unknown, where: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw problem(
    400,
    'USERSTORE_BAD_REQUEST',
    `${where}${issue?.path.length ? `.${issue.path.join('.')}` : ''}: ${issue?.message}`,
  );
}

/**
 * userstore: users and their credit. `POST /users/:name/verify` checks a
 * password; `POST /users/:name/charge` takes credit atomically (never below
 * zero) and once per `idempotency-key`.
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
    // One answer for an unknown user and a wrong password: no user enumeration.
    if (!user || !passwordMatches(password, user.password_hash)) {
      throw problem(401, 'USERSTORE_BAD_CREDENTIALS', `wrong user name or password for ${name}`);
    }
    return { name: user.name, credit: user.credit };
  });

  app.post('/users/:name/charge', async (request) => {
    const { name } = parse(userParams, request.params, 'params');
    const { amount } = parse(chargeBody, request.body, 'body');
    const key = request.headers['idempotency-key'];
    if (typeof key !== 'string' || key.length === 0 || key.length > 128) {
      throw problem(
        400,
        'USERSTORE_IDEMPOTENCY_KEY_REQUIRED',
        'a charge needs an idempotency-key header (1 to 128 characters)',
      );
    }
    return app.db.transaction().execute(async (trx) => {
      const done = await trx.selectFrom('charges').selectAll().where('idempotency_key', '=', key).executeTakeFirst();
      if (done) return { name, amount: done.amount, credit: done.credit_after, replayed: true };
      // One statement takes the credit only if there is enough: concurrent charges cannot overdraw.
      const charged = await trx
        .updateTable('users')
        .set((eb) => ({ credit: eb('credit', '-', amount) }))
        .where('name', '=', name)
        .where('credit', '>=', amount)
        .returning('credit')
        .executeTakeFirst();
      if (!charged) {
        const user = await trx.selectFrom('users').select('credit').where('name', '=', name).executeTakeFirst();
        if (!user) throw problem(404, 'USERSTORE_NO_SUCH_USER', `no user ${name}`);
        throw problem(402, 'USERSTORE_INSUFFICIENT_CREDIT', `user ${name} has insufficient credit (${user.credit})`);
      }
      await trx
        .insertInto('charges')
        .values({ idempotency_key: key, name, amount, credit_after: charged.credit })
        .execute();
      return { name, amount, credit: charged.credit, replayed: false };
    });
  });

  app.get('/users/:name', async (request) => {
    const { name } = parse(userParams, request.params, 'params');
    const user = await app.db
      .selectFrom('users')
      .select(['name', 'credit'])
      .where('name', '=', name)
      .executeTakeFirst();
    if (!user) throw problem(404, 'USERSTORE_NO_SUCH_USER', `no user ${name}`);
    return user;
  });
  return app;
}
