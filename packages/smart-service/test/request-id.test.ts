import { connect } from 'node:net';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { uuid } from '../src/plugins/request-context.ts';
import { build, listen } from './helper.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** Sends raw bytes (so header values no HTTP client would send get through) and returns the response head. */
function rawRequest(base: string, head: string): Promise<string> {
  const { port } = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => socket.write(head));
    let data = '';
    socket.on('data', (chunk) => {
      data += chunk;
      if (data.includes('\r\n\r\n')) {
        socket.destroy();
        resolve(data);
      }
    });
    socket.on('error', reject);
  });
}

function headerOf(head: string, name: string): string | undefined {
  const line = head.split('\r\n').find((l) => l.toLowerCase().startsWith(`${name}:`));
  return line?.slice(name.length + 1).trim();
}

describe('request ids', () => {
  it('makes random version 4 UUIDs, each different, across many batches', () => {
    const made = Array.from({ length: 5_000 }, () => uuid());
    for (const id of made) expect(id).toMatch(UUID);
    expect(new Set(made).size).toBe(made.length);
    // Every hex digit of the random positions turns up in every position: no stuck byte.
    for (const position of [0, 9, 15, 20, 35]) {
      expect(new Set(made.map((id) => id[position])).size).toBe(16);
    }
  });

  it('keep a valid incoming x-request-id, echo it, and put it on every log line of the request', async () => {
    const app = await build();
    app.get('/work', async (req) => {
      req.log.info('doing work');
      return 'done';
    });
    const base = await listen(app);
    const res = await request(`${base}/work`, { headers: { 'x-request-id': 'abc.DEF_123-xyz' } });
    await res.body.text();
    expect(res.headers['x-request-id']).toBe('abc.DEF_123-xyz');
    const requestLines = app.logs.filter((line) => line.requestId === 'abc.DEF_123-xyz');
    expect(requestLines.map((line) => line.msg)).toEqual(['doing work', 'request completed']);
  });

  it('generate one when none comes, and echo it on errors too', async () => {
    const app = await build();
    const base = await listen(app);
    const res = await request(`${base}/missing`);
    await res.body.text();
    expect(res.statusCode).toBe(404);
    expect(res.headers['x-request-id']).toMatch(UUID);
  });

  it.each([
    ['CRLF smuggled through percent-encoding', 'abc%0D%0ASet-Cookie:%20x=1'],
    ['10 kB long', 'a'.repeat(10_240)],
    ['65 characters', 'a'.repeat(65)],
    ['spaces', 'abc def'],
    ['slashes and quotes', '../"etc"'],
    ['non-ASCII', 'idé'],
  ])('replace an invalid id (%s)', async (_name, bad) => {
    const app = await build();
    app.get('/id', async (req) => req.id);
    const base = await listen(app);
    const res = await request(`${base}/id`, { headers: { 'x-request-id': bad } });
    const body = await res.body.text();
    expect(res.headers['x-request-id']).toMatch(UUID);
    expect(body).toBe(res.headers['x-request-id']);
    expect(JSON.stringify(app.logs)).not.toContain(bad);
  });

  it('replace ids with control characters or a raw CR, sent as raw bytes', async () => {
    const app = await build();
    app.get('/id', async (req) => req.id);
    const base = await listen(app);
    for (const bad of ['ab\x01cd', 'ab\tcd', 'ab\x7fcd', 'abc\rinjected']) {
      const head = await rawRequest(
        base,
        `GET /id HTTP/1.1\r\nHost: x\r\nx-request-id: ${bad}\r\nConnection: close\r\n\r\n`,
      );
      const status = head.split(' ')[1];
      // Node's parser may refuse the header outright (400); if it lets it through, we must replace it.
      if (status === '200') expect(headerOf(head, 'x-request-id')).toMatch(UUID);
      else expect(status).toBe('400');
      expect(head).not.toContain('injected');
    }
  });
});
