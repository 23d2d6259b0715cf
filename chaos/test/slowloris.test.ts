import { connect, type Socket } from 'node:net';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { quantile, report } from '../lib/figures.ts';
import { startService } from '../lib/service-process.ts';

describe('slowloris', () => {
  it('50 connections trickling headers (and bodies) are closed by the default 30 s; others are served meanwhile', async () => {
    const service = await startService({ CHAOS_NAME: 'chaos-slowloris', SMART_LOG__LEVEL: 'warn' });
    const { port } = new URL(service.base);
    const started = Date.now();
    const closedAfter: number[] = [];
    const sockets: Socket[] = [];
    const timers: NodeJS.Timeout[] = [];
    await Promise.all(
      Array.from({ length: 50 }, async (_, i) => {
        const socket = connect(Number(port), '127.0.0.1');
        sockets.push(socket);
        socket.on('error', () => {});
        await new Promise((resolve) => socket.once('connect', resolve));
        // Half trickle headers, half send headers and trickle a body.
        socket.write(
          i % 2 === 0
            ? 'GET /fast HTTP/1.1\r\nhost: x\r\n'
            : 'POST /echo HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n[',
        );
        const timer = setInterval(() => socket.write(i % 2 === 0 ? 'x-a: b\r\n' : '1,'), 1_000);
        timers.push(timer);
        socket.once('close', () => {
          clearInterval(timer);
          closedAfter.push(Date.now() - started);
        });
      }),
    );
    // Meanwhile the service answers others.
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    const normal = await request(`${service.base}/fast`);
    await normal.body.text();
    const deadline = Date.now() + 40_000;
    while (closedAfter.length < 50 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
    for (const timer of timers) clearInterval(timer);
    for (const socket of sockets) socket.destroy();
    report('slowloris', {
      connections: 50,
      closed: closedAfter.length,
      p50_closed_s: quantile(closedAfter, 0.5) / 1000,
      max_closed_s: Math.max(...closedAfter) / 1000,
      normalRequest: normal.statusCode,
    });
    expect(normal.statusCode).toBe(200);
    expect(closedAfter).toHaveLength(50);
    // The default 30 s (http.headersTimeoutMs, requestTimeoutMs), checked every second.
    expect(Math.max(...closedAfter)).toBeLessThanOrEqual(30_500);
  });
});
