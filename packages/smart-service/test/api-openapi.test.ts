import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import { shop } from './fixtures/shop.ts';
import { build } from './helper.ts';

async function shopService(options: Parameters<typeof build>[0] = {}) {
  const app = await build({ name: 'shop', version: '2.0.0', ...options });
  shop(app);
  await app.ready();
  return app;
}

describe('the OpenAPI document and the reference page', () => {
  it('serves /openapi.json: OpenAPI 3.1, valid, the routes from their zod schemas and errors as problems', async () => {
    const app = await shopService();
    const res = await app.inject('/openapi.json');
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    const result = await new Validator().validate(doc);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(doc).toMatchObject({ openapi: '3.1.0', info: { title: 'shop', version: '2.0.0' } });
    // The service's routes only: probes, metrics and the document itself are the same in every service.
    expect(Object.keys(doc.paths).sort()).toEqual(['/items', '/items/{id}']);
    const create = doc.paths['/items'].post;
    expect(create.requestBody.content['application/json'].schema).toMatchObject({
      required: ['name', 'price'],
      properties: { kind: { enum: ['book', 'toy'] } },
    });
    expect(create.responses['400'].content['application/problem+json'].schema).toEqual({
      $ref: '#/components/schemas/Problem',
    });
    expect(create.responses.default.content['application/problem+json']).toBeDefined();
    expect(doc.components.schemas.Problem.required).toEqual(
      expect.arrayContaining(['type', 'title', 'status', 'detail', 'code', 'requestId', 'service']),
    );
    expect(doc.paths['/items/{id}'].get.parameters).toEqual([
      expect.objectContaining({
        in: 'path',
        name: 'id',
        required: true,
        schema: expect.objectContaining({ type: 'integer' }),
      }),
    ]);
  });

  it('builds the document once, at its first use after ready: app.openapi has it and a hash only the routes change', async () => {
    const [a, b] = [await shopService(), await shopService()];
    expect(a.openapi.hash).toMatch(/^[0-9a-f]{16}$/);
    expect(a.openapi.hash).toBe(b.openapi.hash);
    expect((await a.inject('/openapi.json')).body).toBe(JSON.stringify(a.openapi.document));
    const other = await build({ name: 'shop', version: '2.0.0' });
    other.get('/else', async () => ({}));
    await other.ready();
    expect(other.openapi.hash).not.toBe(a.openapi.hash);
  });

  it('answers invalid input with the problem+json 400 listing every failing field', async () => {
    const app = await shopService();
    const res = await app.inject({ method: 'POST', url: '/items', payload: { name: '', kind: 'car' } });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.json()).toMatchObject({ code: 'SMART_SERVICE_VALIDATION_FAILED', service: 'shop' });
    expect(
      res
        .json()
        .errors.map((e: { field: string }) => e.field)
        .sort(),
    ).toEqual(['/kind', '/name', '/price']);
    const query = await app.inject('/items?limit=500');
    expect(query.json().errors).toEqual([{ in: 'querystring', field: '/limit', message: expect.any(String) }]);
  });

  it('strips what the answer schema does not declare (no field leaks past the contract)', async () => {
    const app = await shopService();
    expect((await app.inject('/items/1')).json()).not.toHaveProperty('secret');
  });

  it('shows the reference at /docs outside production, its script served by the service (no CDN, no web fonts)', async () => {
    const app = await shopService();
    const page = await app.inject('/docs/');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.body).toContain('"url": "/openapi.json"');
    expect(page.body).not.toMatch(/<script[^>]+src="https?:/);
    expect(page.body).toContain('"withDefaultFonts": false');
    const script = await app.inject('/docs/js/scalar.js');
    expect(script.statusCode).toBe(200);
    expect(script.headers['content-type']).toContain('javascript');
  });

  it('has no /docs in production (the document stays)', async () => {
    const app = await shopService({ realm: 'production', env: { SMART_BUGSNAG__ENABLED: 'false' } });
    expect((await app.inject('/docs/')).statusCode).toBe(404);
    expect((await app.inject('/openapi.json')).statusCode).toBe(200);
  });
});
