import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it, onTestFinished } from 'vitest';
import { build as buildBuzz } from '../buzz/src/app.ts';
import { build as buildFizz } from '../fizz/src/app.ts';
import { build as buildGateway } from '../gateway/src/app.ts';

describe('FizzBuzz API descriptions', () => {
  it.each([
    ['fizz', buildFizz],
    ['buzz', buildBuzz],
    ['gateway', buildGateway],
  ] as const)('of %s validate against the OpenAPI 3.1 schema', async (_name, build) => {
    const app = await build({ realm: 'testing', env: {} });
    onTestFinished(() => app.close());
    await app.ready();
    const doc = (await app.inject('/openapi.json')).json();
    const result = await new Validator().validate(doc);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(Object.keys(doc.paths).length).toBeGreaterThan(0);
  });
});
