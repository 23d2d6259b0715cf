// userstore against a real Postgres: the charge is atomic, never overdraws
// under concurrency, and applies each idempotency key once.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { addUser, freshDatabase, type Logged, userstore } from './helper.ts';

const dbUrl = await freshDatabase();

const charge = (app: Logged, name: string, amount: number, key?: string) =>
  app.inject({
    method: 'POST',
    url: `/users/${name}/charge`,
    headers: key === undefined ? {} : { 'idempotency-key': key },
    payload: { amount, item: 'fib(5)' },
  });

describe('userstore', () => {
  it('verifies passwords it stored as scrypt hashes, one answer for a wrong password and an unknown user', async () => {
    const app = await userstore(dbUrl);
    const user = await addUser(app, 7, 'open sesame');
    const verify = (name: string, password: string) =>
      app.inject({ method: 'POST', url: `/users/${name}/verify`, payload: { password } });

    const ok = await verify(user.name, 'open sesame');
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ name: user.name, credit: 7 });
    const stored = await app.db
      .selectFrom('users')
      .select('password_hash')
      .where('name', '=', user.name)
      .executeTakeFirstOrThrow();
    expect(stored.password_hash).toMatch(/^scrypt\$[0-9a-f]{32}\$[0-9a-f]{64}$/);
    expect(stored.password_hash).not.toContain('open sesame');

    for (const [name, password] of [
      [user.name, 'open sesame!'],
      ['nobody', 'open sesame'],
    ] as const) {
      const refused = await verify(name, password);
      expect(refused.statusCode).toBe(401);
      expect(refused.json()).toMatchObject({ code: 'USERSTORE_BAD_CREDENTIALS', service: 'userstore' });
    }
  });

  it('answers a record it cannot read with a coded 500, not as a wrong password', async () => {
    const app = await userstore(dbUrl);
    // carol comes from the demo migration (realm local, which the test run's environment is).
    const res = await app.inject({ method: 'POST', url: '/users/carol/verify', payload: { password: 'password' } });
    expect(res.statusCode).toBe(500);
    const problem = res.json();
    expect(problem).toMatchObject({
      code: 'USERSTORE_UNSUPPORTED_HASH',
      detail: 'unsupported password hash scheme "md5": the record needs migrating',
    });
    // Logged at error with its stack and the request id, so the 502 a caller sees can be traced here.
    const failed = app.logs.find((line) => line.msg === 'request failed');
    expect(failed).toMatchObject({
      level: 50,
      requestId: problem.requestId,
      err: { code: 'USERSTORE_UNSUPPORTED_HASH' },
    });
    expect(JSON.stringify(failed)).toContain('passwords.ts');
    expect(JSON.stringify(app.logs)).not.toContain('"password":"password"');
  });

  it('charges down to zero and refuses the charge that would go below it with a 402', async () => {
    const app = await userstore(dbUrl);
    const user = await addUser(app, 5);
    expect((await charge(app, user.name, 3, randomUUID())).json()).toMatchObject({ credit: 2, replayed: false });
    const refused = await charge(app, user.name, 3, randomUUID());
    expect(refused.statusCode).toBe(402);
    expect(refused.json()).toMatchObject({
      code: 'USERSTORE_INSUFFICIENT_CREDIT',
      detail: `fib(5) costs 3, user ${user.name} has insufficient credit (2)`,
    });
    expect((await charge(app, user.name, 2, randomUUID())).json()).toMatchObject({ credit: 0 });
    expect((await app.inject(`/users/${user.name}`)).json()).toEqual({ name: user.name, credit: 0 });
    expect((await charge(app, 'nobody', 1, randomUUID())).statusCode).toBe(404);
  });

  it('never drives credit below zero: 50 concurrent charges of 3 against 20 credit, exactly 6 applied', async () => {
    const app = await userstore(dbUrl);
    const user = await addUser(app, 20);
    const answers = await Promise.all(Array.from({ length: 50 }, () => charge(app, user.name, 3, randomUUID())));
    const statuses = answers.map((a) => a.statusCode);
    expect(statuses.filter((s) => s === 200)).toHaveLength(6);
    expect(statuses.filter((s) => s === 402)).toHaveLength(44);
    expect((await app.inject(`/users/${user.name}`)).json()).toMatchObject({ credit: 2 });
    const rows = await app.db.selectFrom('charges').selectAll().where('name', '=', user.name).execute();
    expect(rows.map((r) => r.credit_after).sort((a, b) => b - a)).toEqual([17, 14, 11, 8, 5, 2]);
  });

  it('applies an idempotency key once, even when the same charge arrives ten times at once', async () => {
    const app = await userstore(dbUrl);
    const user = await addUser(app, 10);
    const key = randomUUID();
    const first = await charge(app, user.name, 4, key);
    const again = await charge(app, user.name, 4, key);
    expect(first.json()).toMatchObject({ credit: 6, replayed: false });
    expect(again.json()).toMatchObject({ credit: 6, replayed: true });

    const racing = randomUUID();
    const answers = await Promise.all(Array.from({ length: 10 }, () => charge(app, user.name, 1, racing)));
    expect(answers.map((a) => a.statusCode)).toEqual(Array(10).fill(200));
    expect(new Set(answers.map((a) => a.json().credit))).toEqual(new Set([5]));
    expect((await app.inject(`/users/${user.name}`)).json()).toMatchObject({ credit: 5 });
  });

  it('refuses a charge without a key, and a key reused for another user or amount', async () => {
    const app = await userstore(dbUrl);
    const [ann, bob] = [await addUser(app, 10), await addUser(app, 10)];
    const missing = await charge(app, ann.name, 1);
    expect(missing.statusCode).toBe(400);
    expect(missing.json()).toMatchObject({ code: 'USERSTORE_IDEMPOTENCY_KEY_REQUIRED' });
    const key = randomUUID();
    expect((await charge(app, ann.name, 2, key)).statusCode).toBe(200);
    for (const reuse of [charge(app, bob.name, 2, key), charge(app, ann.name, 3, key)]) {
      const res = await reuse;
      expect(res.statusCode).toBe(422);
      expect(res.json()).toMatchObject({ code: 'USERSTORE_IDEMPOTENCY_KEY_REUSED' });
    }
    expect((await app.inject(`/users/${bob.name}`)).json()).toMatchObject({ credit: 10 });
    expect((await app.inject(`/users/${ann.name}`)).json()).toMatchObject({ credit: 8 });
  });

  it('answers bad input with a 400 problem naming the field', async () => {
    const app = await userstore(dbUrl);
    const res = await app.inject({
      method: 'POST',
      url: '/users/ann/charge',
      headers: { 'idempotency-key': 'k1' },
      payload: { amount: 2.5 },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      code: 'SMART_SERVICE_VALIDATION_FAILED',
      errors: [{ in: 'body', field: '/amount', message: expect.stringContaining('int') }],
    });
  });
});
