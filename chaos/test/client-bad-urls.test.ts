// Bad `service://` URLs (control characters, whitespace, dot segments, their
// percent-encoded forms): each is a typed SMART_CLIENT_BAD_URL before any
// resolution or connect. A loopback listener the resolver points at counts
// every connection made to it: 0.
import { createServer, type Socket } from 'node:net';
import { codes, createClient, staticResolver } from 'smart-client';
import { describe, expect, it, onTestFinished } from 'vitest';
import { report } from '../lib/figures.ts';

const BAD_URLS = [
  'service://users/ann\r\n/../admin', // the WHATWG parser would strip CR LF, then resolve the ..
  'service://users/ann\r',
  'service://users/ann\n',
  'service://users/a\tb',
  'service://users/a\u0000b',
  'service://users/a\u0000',
  'service://users/a\u000bb', // vertical tab
  'service://users/a\u007fb', // DEL
  'service://users/a b',
  'service://users/a\u00a0b',
  'service://users/a\u2028b',
  'service://users/..',
  'service://users/../admin',
  'service://users/x/..',
  'service://users/x/../../admin',
  'service://users/./admin',
  'service://users/x/.',
  'service://users/%2e%2e/admin',
  'service://users/%2E%2E/admin',
  'service://users/%2e%2E/admin',
  'service://users/.%2e/admin',
  'service://users/%2e./admin',
  'service://users/%2e/admin',
  'service://users/x/%2e%2e',
  'service://users/x\\..\\admin',
  'service://users/ann%0d%0aX-Injected:%20yes',
  'service://users/a%00b',
  'service://users/a%09b',
];

describe('client: bad service:// URLs', () => {
  it('each is SMART_CLIENT_BAD_URL (get, post and fetch) with 0 sockets opened to the upstream', async () => {
    let connections = 0;
    const sockets = new Set<Socket>();
    const listener = createServer((socket) => {
      connections++;
      sockets.add(socket);
      socket.end(
        'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}',
      );
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(listener.address() as { port: number }).port}`;
    const client = createClient({ resolver: staticResolver({ users: [url] }) });
    onTestFinished(async () => {
      await client.close();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => listener.close(() => resolve()));
    });

    const results: { url: string; via: string; code: string | undefined }[] = [];
    for (const bad of BAD_URLS) {
      for (const [via, call] of [
        ['get', () => client.get(bad)],
        ['post', () => client.post(bad, { a: 1 })],
        ['fetch', () => client.fetch(bad)],
      ] as const) {
        const err = await call().then(
          () => ({ code: 'ok' }),
          (e: { code?: string }) => e,
        );
        results.push({ url: JSON.stringify(bad), via, code: err.code });
      }
    }
    // The control: a good URL through the same client does reach the listener.
    expect(await client.get('service://users/ann')).toEqual({});
    const badConnections = connections - 1;

    report('client-bad-urls', {
      urls: BAD_URLS.length,
      calls: results.length,
      badUrl: results.filter((r) => r.code === codes.badUrl).length,
      socketsOpened: badConnections,
    });
    expect(results.filter((r) => r.code !== codes.badUrl)).toEqual([]);
    expect(badConnections).toBe(0);
  });
});
