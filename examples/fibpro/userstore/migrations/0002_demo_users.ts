import type { Kysely } from 'kysely';
import { hashPassword } from '../src/passwords.ts';

// The demo's users, in realm local only (the realm smart-config reads,
// SMART_REALM, default local): `smart migrate` in any other realm records
// this migration and adds nobody, so no known password reaches production.
// carol's record still has the hash the system before FibPro left behind
// (md5): checking her password fails inside userstore, which is how the
// README shows a RemoteError travelling back to the caller.
export async function up(
  db: Kysely<{ users: { name: string; password_hash: string; credit: number } }>,
): Promise<void> {
  if ((process.env.SMART_REALM ?? 'local') !== 'local') return;
  await db
    .insertInto('users')
    .values([
      { name: 'alice', password_hash: await hashPassword('wonderland'), credit: 100 },
      { name: 'bob', password_hash: await hashPassword('builder'), credit: 3 },
      { name: 'carol', password_hash: 'md5$5f4dcc3b5aa765d61d8327deb882cf99', credit: 50 },
    ])
    .execute();
}

export async function down(db: Kysely<{ users: { name: string } }>): Promise<void> {
  await db.deleteFrom('users').where('name', 'in', ['alice', 'bob', 'carol']).execute();
}
