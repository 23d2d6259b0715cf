import { describe, expect, it } from 'vitest';
import { testApp } from './helper.ts';

describe('the database', () => {
  it('counts the greetings of each name (migrated at start, embedded in realm local)', async () => {
    const app = await testApp();
    expect((await app.inject('/hello/ann')).json()).toMatchObject({ greeted: 1 });
    expect((await app.inject('/hello/ann')).json()).toMatchObject({ greeted: 2 });
    expect((await app.inject('/hello/bob')).json()).toMatchObject({ greeted: 1 });
    const ready = (await app.inject('/health/ready')).json();
    expect(ready.checks.db).toMatchObject({ status: 'ok' });
  });
});
