import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { defineConfig, type InferConfig, type Secret, secret } from '../src/index.ts';
import { load, type makeDefinition } from './helper.ts';

// These assertions are checked by `pnpm typecheck`; the test body makes vitest run the file too.
describe('types come from the schema', () => {
  it('infers the value type, with secrets as Secret and everything readonly', async () => {
    const config = await load();
    expectTypeOf(config.value.port).toEqualTypeOf<number>();
    expectTypeOf(config.value.log.level).toEqualTypeOf<'debug' | 'info' | 'warn' | 'error'>();
    expectTypeOf(config.value.db.password).toEqualTypeOf<Secret<string>>();
    expectTypeOf(config.value.bugsnag.apiKey).toEqualTypeOf<Secret<string> | undefined>();
    expectTypeOf(config.value.features).toEqualTypeOf<readonly string[]>();
    expectTypeOf(config.value.retry.baseMs).toEqualTypeOf<number>();
    expectTypeOf<InferConfig<ReturnType<typeof makeDefinition>>>().toEqualTypeOf<typeof config.value>();
  });

  it('checks defaults and realm overrides against the schema', () => {
    const schema = z.object({ port: z.number(), key: z.string() });
    defineConfig({ schema, defaults: { port: 1, key: secret() } });
    // @ts-expect-error: a string is not a number
    defineConfig({ schema, defaults: { port: '1' } });
    // @ts-expect-error: realms take the schema's types too
    defineConfig({ schema, defaults: {}, realms: { production: { port: 'x' } } });
    expectTypeOf(secret({ local: 'dev' })).not.toBeAny();
  });
});
