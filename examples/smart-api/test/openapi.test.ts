import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it, onTestFinished } from 'vitest';
import { build as buildApi } from '../api/src/app.ts';
import { build as buildSimulator } from '../simulator/src/app.ts';

describe('smart-api API descriptions', () => {
  it.each([
    ['api', buildApi],
    ['simulator', buildSimulator],
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
