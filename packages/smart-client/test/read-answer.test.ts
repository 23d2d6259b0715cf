// The JSON helpers read each answer whole in the transport (undici's
// dispatch, no stream per answer): what that means for a caller.
import { describe, expect, it } from 'vitest';
import { staticResolver } from '../src/index.ts';
import { client, failure, json, upstream } from './helper.ts';

describe('JSON helpers read the whole answer', () => {
  it('retry a GET whose answer is cut off mid-body (the connection reset), but not a POST', async () => {
    let requests = 0;
    const up = await upstream((_req, res) => {
      if (++requests % 2 === 1) {
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
        res.write('{"cut":');
        setTimeout(() => res.socket?.destroy(), 10);
      } else json(res, 200, { whole: true });
    });
    const c = client({ resolver: staticResolver({ api: [up.url] }), retry: { baseMs: 1, capMs: 1 } });
    expect(await c.get('service://api/x')).toEqual({ whole: true });
    expect(requests).toBe(2);
    const err = await failure(c.post('service://api/x', { n: 1 }));
    expect(err?.code).toBe('SMART_CLIENT_UNAVAILABLE');
    expect(requests).toBe(3);
  });

  it("end with the caller's own abort when it comes while the body is arriving", async () => {
    const up = await upstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"partial":');
    });
    const c = client({ resolver: staticResolver({ api: [up.url] }) });
    const controller = new AbortController();
    const reason = new Error('the user went away');
    setTimeout(() => controller.abort(reason), 50);
    const started = Date.now();
    expect(await failure(c.get('service://api/x', { signal: controller.signal }))).toBe(reason);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(up.seen).toHaveLength(1);
  });

  it('parse a JSON answer that starts with a UTF-8 byte order mark, and an empty answer as undefined', async () => {
    const up = await upstream((req, res) => {
      if (req.url === '/bom') res.writeHead(200, { 'content-type': 'application/json' }).end('\uFEFF{"a":"é"}');
      else res.writeHead(204).end();
    });
    const c = client({ resolver: staticResolver({ api: [up.url] }) });
    expect(await c.get('service://api/bom')).toEqual({ a: 'é' });
    expect(await c.delete('service://api/empty')).toBeUndefined();
  });

  it('read an answer of many chunks whole', async () => {
    const items = Array.from({ length: 20_000 }, (_, i) => ({ i, name: `item-${i}` }));
    const up = await upstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const text = JSON.stringify(items);
      // Written in pieces, so the answer arrives in many chunks.
      for (let at = 0; at < text.length; at += 16_384) res.write(text.slice(at, at + 16_384));
      res.end();
    });
    const c = client({ resolver: staticResolver({ api: [up.url] }) });
    expect(await c.get('service://api/list')).toEqual(items);
  });
});
