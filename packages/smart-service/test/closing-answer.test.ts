import { connect, type Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { build, listen } from './helper.ts';

/** A raw HTTP/1.1 connection: what was received, and a promise of its close. */
function open(base: string): { socket: Socket; received: () => string; closed: Promise<void> } {
  const socket = connect(Number(new URL(base).port), '127.0.0.1');
  let received = '';
  socket.on('data', (chunk) => {
    received += chunk;
  });
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return { socket, received: () => received, closed };
}

/** The responses in `raw`, each with its status, lower-cased headers and body (content-length framed). */
function responses(raw: string): { status: number; headers: Record<string, string>; body: string }[] {
  const out: { status: number; headers: Record<string, string>; body: string }[] = [];
  let rest = raw;
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) break;
    const [statusLine = '', ...lines] = rest.slice(0, end).split('\r\n');
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = Number(headers['content-length'] ?? 0);
    out.push({ status: Number(statusLine.split(' ')[1]), headers, body: rest.slice(end + 4, end + 4 + length) });
    rest = rest.slice(end + 4 + length);
  }
  return out;
}

// Node holds app.close() in the lifecycle's preClose until requests in flight
// finish; the listener still accepts meanwhile. Waiting a turn of the event
// loop at a time (no timer) until the close has begun.
async function closeBegun(app: { shuttingDown: boolean }): Promise<void> {
  while (!app.shuttingDown) await new Promise((resolve) => setImmediate(resolve));
}

describe('a request arriving while the service closes', () => {
  it('gets a 503 problem+json with x-request-id, connection: close, Retry-After and SMART_SERVICE_SHUTTING_DOWN; the request in flight still finishes', async () => {
    const app = await build({ realm: 'testing', env: { SMART_SHUTDOWN__DRAIN_DELAY_MS: '0' } });
    const entered = Promise.withResolvers<void>();
    const release = Promise.withResolvers<void>();
    let fastRuns = 0;
    app.get('/slow', async () => {
      entered.resolve();
      await release.promise;
      return { slow: true };
    });
    app.get('/fast', async () => {
      fastRuns++;
      return { fast: true };
    });
    const base = await listen(app);

    // A request in flight holds the close open (the drain waits for it).
    const first = open(base);
    first.socket.write('GET /slow HTTP/1.1\r\nhost: test\r\n\r\n');
    await entered.promise;
    const closing = app.close();
    await closeBegun(app);

    // A new connection's request, parsed after the close began.
    const late = open(base);
    late.socket.write('GET /fast HTTP/1.1\r\nhost: test\r\nx-request-id: late-arrival-1\r\n\r\n');
    // One pipelined behind the request in flight, on its connection.
    first.socket.write('GET /fast HTTP/1.1\r\nhost: test\r\n\r\n');
    await late.closed;

    const [refused, ...more] = responses(late.received());
    expect(more).toEqual([]);
    expect(refused?.status).toBe(503);
    expect(refused?.headers).toMatchObject({
      'content-type': expect.stringContaining('application/problem+json'),
      'x-request-id': 'late-arrival-1',
      connection: 'close',
      'retry-after': '1',
    });
    expect(JSON.parse(refused?.body ?? '{}')).toMatchObject({
      status: 503,
      code: 'SMART_SERVICE_SHUTTING_DOWN',
      requestId: 'late-arrival-1',
      service: 'test-service',
    });

    release.resolve();
    await first.closed;
    await closing;
    // The request in flight finished, told to close; the one pipelined behind it
    // got no answer (the connection closed after the first, so a client retries
    // it elsewhere) and never ran.
    const answered = responses(first.received());
    expect(answered.map((r) => r.status)).toEqual([200]);
    expect(answered[0]?.headers.connection).toBe('close');
    expect(JSON.parse(answered[0]?.body ?? '{}')).toEqual({ slow: true });
    expect(fastRuns).toBe(0);
  });
});
