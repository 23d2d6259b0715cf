import { type ChildProcess, spawn } from 'node:child_process';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from './helper.ts';

const fixture = fileURLToPath(new URL('./fixtures/slow-service.ts', import.meta.url));
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

interface Running {
  child: ChildProcess;
  base: string;
  lines: Record<string, unknown>[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

async function startService(env: Record<string, string>): Promise<Running> {
  const child = spawn(process.execPath, [fixture], {
    env: {
      PATH: process.env.PATH,
      SMART_REALM: 'testing',
      SMART_HTTP__HOST: '127.0.0.1',
      SMART_HTTP__PORT: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  const lines: Record<string, unknown>[] = [];
  let buffered = '';
  child.stdout?.on('data', (chunk) => {
    buffered += chunk;
    const parts = buffered.split('\n');
    buffered = parts.pop() ?? '';
    for (const part of parts) if (part) lines.push(JSON.parse(part));
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  await eventually(() => lines.some((line) => line.listening), 15_000);
  const base = String(lines.find((line) => line.listening)?.listening);
  return { child, base, lines, exited };
}

describe('graceful shutdown', () => {
  it('on SIGTERM: readiness 503 at once, in-flight requests on keep-alive connections all finish, exit 0', async () => {
    const service = await startService({ SMART_SHUTDOWN__DRAIN_DELAY_MS: '400', SLOW_MS: '700' });
    const agent = new Agent({ keepAliveTimeout: 30_000, connections: 10 });
    try {
      // Open ten keep-alive connections first, then put a slow request on each.
      await Promise.all(
        Array.from({ length: 10 }, () =>
          request(`${service.base}/fast`, { dispatcher: agent }).then((r) => r.body.text()),
        ),
      );
      const slow = Array.from({ length: 10 }, () =>
        request(`${service.base}/slow`, { dispatcher: agent }).then(async (r) => ({
          status: r.statusCode,
          body: await r.body.json(),
        })),
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
      service.child.kill('SIGTERM');

      // During the drain delay: readiness says go away, but requests are still served.
      await eventually(async () => {
        const ready = await request(`${service.base}/health/ready`);
        await ready.body.text();
        return ready.statusCode === 503;
      }, 300);
      const during = await request(`${service.base}/fast`);
      expect(during.statusCode).toBe(200);
      expect(during.headers.connection).toBe('close');
      await during.body.text();

      const results = await Promise.all(slow);
      expect(results).toEqual(Array.from({ length: 10 }, () => ({ status: 200, body: { ok: true } })));
      expect(await service.exited).toEqual({ code: 0, signal: null });
      const messages = service.lines.map((line) => line.msg);
      expect(messages).toContain('shutting down');
      expect(messages).toContain('shutdown complete');
      expect(messages.filter((msg) => msg === 'request completed').length).toBeGreaterThanOrEqual(21);
    } finally {
      await agent.close();
    }
  });

  it('exits at once with a non-zero code on a second signal', async () => {
    const service = await startService({ SMART_SHUTDOWN__DRAIN_DELAY_MS: '10000' });
    service.child.kill('SIGTERM');
    await eventually(() => service.lines.some((line) => line.msg === 'shutting down'));
    const started = Date.now();
    service.child.kill('SIGINT');
    const exit = await service.exited;
    expect(exit.code).toBe(1);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('cuts a request still running at the shutdown deadline (a slow upload) and still exits 0', async () => {
    const service = await startService({ SMART_SHUTDOWN__DRAIN_DELAY_MS: '0', SMART_SHUTDOWN__TIMEOUT_MS: '1000' });
    const { port } = new URL(service.base);
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    socket.write(
      'POST /upload HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"a":',
    );
    const closed = new Promise((resolve) => socket.once('close', resolve));
    socket.on('error', () => {});
    await new Promise((resolve) => setTimeout(resolve, 100));
    const started = Date.now();
    service.child.kill('SIGTERM');
    const exit = await service.exited;
    expect(exit.code).toBe(0);
    // The deadline is the timeout less what is kept back for closing (a quarter of 1 s).
    expect(Date.now() - started).toBeLessThan(1_000);
    await closed;
    expect(service.lines.some((line) => line.msg === 'cutting requests still running at the shutdown deadline')).toBe(
      true,
    );
  });

  it('writes log lines as each turn of the event loop ends, and every line before a crash exit', async () => {
    const service = await startService({ SMART_SHUTDOWN__DRAIN_DELAY_MS: '0' });
    await request(`${service.base}/fast`, { headers: { 'x-request-id': 'turn-1' } }).then((res) => res.body.dump());
    // Written when the turn ends, not at the next line nor at exit: the process is idle now.
    await eventually(() => service.lines.some((line) => line.requestId === 'turn-1'), 2_000);
    // Written as UTF-8, whatever the characters.
    await request(`${service.base}/unicode`).then((res) => res.body.dump());
    await eventually(() => service.lines.some((line) => line.note === 'café ✓ 日本 🚀'), 2_000);
    await request(`${service.base}/crash`).then((res) => res.body.dump());
    const exit = await service.exited;
    expect(exit.code).toBe(1);
    const messages = service.lines.map((line) => line.msg);
    expect(messages).toContain('fatal error: shutting down');
    expect(messages).toContain('shutdown complete');
  });

  it('exits 1 when the shutdown itself takes longer than its timeout (a step that hangs)', async () => {
    const service = await startService({
      SMART_SHUTDOWN__DRAIN_DELAY_MS: '0',
      SMART_SHUTDOWN__TIMEOUT_MS: '300',
      HANG_SHUTDOWN_STEP: '1',
    });
    const started = Date.now();
    service.child.kill('SIGTERM');
    const exit = await service.exited;
    expect(exit.code).toBe(1);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(service.lines.some((line) => line.msg === 'shutdown timed out: exiting at once')).toBe(true);
  });
});
