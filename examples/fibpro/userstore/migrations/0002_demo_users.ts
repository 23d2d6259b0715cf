import type { Kysely } from 'kysely';
import { hashPassword } from '../src/passwords.ts';

// The demo's users. carol's record still has the hash of the system FibInc
// left behind (md5): checking her password fails inside userstore, which is
// how the README shows a RemoteError travelling back to the caller.
export async function up(
  db: Kysely<{ users: { name: string; password_hash: string; credit: number } }>,
): Promise<void> {
  await db
    .insertInto('users')
    .values([
      { name: 'alice', password_hash: hashPassword('wonderland'), credit: 100 },
      { name: 'bob', password_hash: hashPassword('builder'), credit: 3 },
      { name: 'carol', password_hash: 'md5$5f4dcc3b5aa765d61d8327deb882cf99', credit: 50 },
    ])
    .execute();
}

export async function down(db: Kysely<{ users: { name: string } }>): Promise<void> {
  await db.deleteFrom('users').where('name', 'in', ['alice', 'bob', 'carol']).execute();
}
