import type { Kysely } from 'kysely';
import type { Database } from 'smart-service';
import { idempotencyKeyReused, insufficientCredit, noSuchUser } from './errors.ts';

/** A charge to apply once. */
export interface Charge {
  /** The caller's idempotency key: the same key is the same charge. */
  readonly key: string;
  readonly name: string;
  readonly amount: number;
  /** What is bought (`fib(10)`), for the insufficient-credit message. */
  readonly item?: string | undefined;
}

/** What a charge did; `replayed` when the key had been applied before (nothing was charged this time). */
export interface Charged {
  readonly name: string;
  readonly amount: number;
  readonly credit: number;
  readonly replayed: boolean;
}

async function applied(db: Kysely<Database>, charge: Charge): Promise<Charged | undefined> {
  const row = await db
    .selectFrom('charges')
    .select(['name', 'amount', 'credit_after'])
    .where('idempotency_key', '=', charge.key)
    .executeTakeFirst();
  if (!row) return undefined;
  // A key names one charge: reused for another user or amount, it is a caller's bug, not a replay.
  if (row.name !== charge.name || row.amount !== charge.amount) throw idempotencyKeyReused(charge.key);
  return { name: row.name, amount: row.amount, credit: row.credit_after, replayed: true };
}

// Postgres's unique_violation (PGlite reports the same SQLSTATE).
const isUniqueViolation = (err: unknown) => (err as { code?: unknown }).code === '23505';

/**
 * Takes `amount` from the user's credit, once per idempotency key, never
 * below zero under any concurrency. The decrement is one conditional UPDATE
 * (`credit = credit - $1 WHERE name = $2 AND credit >= $1`), which Postgres
 * applies under the row's lock and re-checks against the latest credit, so
 * concurrent charges cannot overdraw. The charge row is written in the same
 * transaction: when a concurrent request with the same key commits first,
 * this insert violates the primary key, the transaction (its decrement too)
 * rolls back, and the first one's result is answered.
 *
 * @example
 * await chargeOnce(app.db, { key: 'c3b1…', name: 'alice', amount: 4, item: 'fib(10)' });
 * // { name: 'alice', amount: 4, credit: 96, replayed: false }
 */
export async function chargeOnce(db: Kysely<Database>, charge: Charge): Promise<Charged> {
  const before = await applied(db, charge);
  if (before) return before;
  try {
    return await db.transaction().execute(async (trx) => {
      const charged = await trx
        .updateTable('users')
        .set((eb) => ({ credit: eb('credit', '-', charge.amount) }))
        .where('name', '=', charge.name)
        .where('credit', '>=', charge.amount)
        .returning('credit')
        .executeTakeFirst();
      if (!charged) {
        const user = await trx.selectFrom('users').select('credit').where('name', '=', charge.name).executeTakeFirst();
        if (!user) throw noSuchUser(charge.name);
        throw insufficientCredit(charge.name, user.credit, charge.amount, charge.item);
      }
      await trx
        .insertInto('charges')
        .values({ idempotency_key: charge.key, name: charge.name, amount: charge.amount, credit_after: charged.credit })
        .execute();
      return { name: charge.name, amount: charge.amount, credit: charged.credit, replayed: false };
    });
  } catch (err) {
    const first = isUniqueViolation(err) ? await applied(db, charge) : undefined;
    if (first) return first;
    throw err;
  }
}
