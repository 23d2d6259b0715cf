import { Validator } from '@seriousme/openapi-schema-validator';
import type { SmartService } from 'smart-service';
import { describe, expect, it, onTestFinished } from 'vitest';
import { build as buildFrontend } from '../fibfrontend/src/app.ts';
import { build as buildPricing } from '../pricing/src/app.ts';
import { freshDatabase, userstore } from './helper.ts';

async function documentOf(app: SmartService) {
  await app.ready();
  return (await app.inject('/openapi.json')).json() as Record<string, Record<string, unknown>>;
}

describe('FibPro API descriptions', () => {
  it('validate against the OpenAPI 3.1 schema, and describe what each service takes and answers', async () => {
    const pricing = await buildPricing({ realm: 'testing', env: {} });
    const frontend = await buildFrontend({ realm: 'testing', env: {} });
    const users = await userstore(await freshDatabase());
    onTestFinished(async () => {
      await pricing.close();
      await frontend.close();
    });
    const docs = {
      pricing: await documentOf(pricing),
      fibfrontend: await documentOf(frontend),
      userstore: await documentOf(users),
    };
    for (const [service, doc] of Object.entries(docs)) {
      const result = await new Validator().validate(doc);
      expect(result.errors, service).toBeUndefined();
      expect(result.valid, service).toBe(true);
    }
    expect(Object.keys(docs.userstore.paths ?? {}).sort()).toEqual([
      '/users/{name}',
      '/users/{name}/charge',
      '/users/{name}/verify',
    ]);
    expect(docs.pricing.paths?.['/price/{n}']).toMatchObject({
      get: { parameters: [{ name: 'n', in: 'path', schema: { type: 'integer', maximum: 999_999 } }] },
    });
  });
});
