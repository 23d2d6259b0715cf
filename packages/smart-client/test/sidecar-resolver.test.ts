import { describe, expect, it, onTestFinished } from 'vitest';
import { createClient } from '../src/index.ts';
import { sidecarResolver } from '../src/sidecar-resolver.ts';
import { json, upstream } from './helper.ts';

// A plain listener plays the sidecar: the client's side of the contract is
// what reaches it (smart-sidecar's tests route through a real HAProxy).
describe('sidecarResolver', () => {
  it('sends service://userstore/users/42 to the sidecar port as /users/42 with x-smart-service: userstore', async () => {
    const sidecar = await upstream((_req, res) => json(res, 200, { ok: true }));
    const port = Number(new URL(sidecar.url).port);
    const client = createClient({
      realm: 'production',
      resolver: sidecarResolver({ port }),
      context: () => ({ traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' }),
    });
    onTestFinished(() => client.close());
    await client.get('service://userstore/users/42?full=1', { headers: { 'x-tenant': 'acme' } });
    await client.get('service://pricing/price');
    const [first, second] = sidecar.seen;
    expect(first?.url).toBe('/users/42?full=1');
    expect(first?.headers['x-smart-service']).toBe('userstore');
    expect(first?.headers['x-tenant']).toBe('acme');
    // Propagation still applies.
    expect(first?.headers['x-smart-deadline']).toMatch(/^\d+$/);
    expect(first?.headers.traceparent).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
    expect(second?.headers['x-smart-service']).toBe('pricing');
  });

  it('still retries: a 503 from the sidecar is retried and the retry carries the header', async () => {
    let calls = 0;
    const sidecar = await upstream((_req, res) =>
      ++calls === 1
        ? json(res, 503, { code: 'SMART_SIDECAR_NO_INSTANCES' }, 'application/problem+json')
        : json(res, 200, {}),
    );
    const client = createClient({
      resolver: sidecarResolver({ port: Number(new URL(sidecar.url).port) }),
      retry: { baseMs: 1, capMs: 1 },
    });
    onTestFinished(() => client.close());
    await client.get('service://userstore/users/1');
    expect(sidecar.seen.map((req) => req.headers['x-smart-service'])).toEqual(['userstore', 'userstore']);
  });

  it('refuses a port that is not one when the resolver is made', () => {
    expect(() => sidecarResolver({ port: 0 })).toThrow(
      expect.objectContaining({ code: 'SMART_CLIENT_INVALID_OPTION' }),
    );
  });
});
