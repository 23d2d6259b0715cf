import { resolve } from 'node:path';
import type { Generated } from 'kysely';
import { createSmartService, type SmartServiceOptions, type ZodTypeProvider } from 'smart-service';
import { chargeOnce } from './charge.ts';
import { badCredentials, idempotencyKeyRequired, noSuchUser } from './errors.ts';
import { noUserMatches, passwordMatches } from './passwords.ts';
import { routes } from './routes.ts';

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

  const api = app.withTypeProvider<ZodTypeProvider>();
  api.route({
    ...routes.verify,
    handler: async (request) => {
      const { name } = request.params;
      const { password } = request.body;
      const user = await app.db.selectFrom('users').selectAll().where('name', '=', name).executeTakeFirst();
      // One answer, in the same time, for an unknown user and a wrong password: no user enumeration.
      const matches = user ? await passwordMatches(password, user.password_hash) : await noUserMatches(password);
      if (!user || !matches) throw badCredentials(name);
      return { name: user.name, credit: user.credit };
    },
  });

  api.route({
    ...routes.charge,
    handler: async (request) => {
      const { name } = request.params;
      const { amount, item } = request.body;
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
    },
  });

  api.route({
    ...routes.user,
    handler: async (request) => {
      const { name } = request.params;
      const user = await app.db
        .selectFrom('users')
        .select(['name', 'credit'])
        .where('name', '=', name)
        .executeTakeFirst();
      if (!user) throw noSuchUser(name);
      return user;
    },
  });
  return app;
}
