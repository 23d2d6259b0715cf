import { createServer } from 'node:http';
import { describe, expect, it, onTestFinished } from 'vitest';
import { build, listen } from './helper.ts';

/** A plain upstream that answers 500 to everything, counting requests. */
async function failingUpstream() {
  let requests = 0;
  const server = createServer((_req, res) => {
    requests++;
    res.writeHead(500, { 'content-type': 'application/json' }).end('{}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, requests: () => requests };
}

describe('the client’s circuit breaker in a service', () => {
  it('opens on a failing upstream: 503 + Retry-After to callers, the state in metrics, one log line per transition', async () => {
    const down = await failingUpstream();
    const app = await build({ name: 'front', env: { SMART_SERVICE_DOWN_URL: down.url } });
    app.get('/work', async () => app.client.get('service://down/x'));
    const base = await listen(app);

    const statuses: number[] = [];
    for (let i = 0; i < 30; i++) {
      const res = await fetch(`${base}/work`);
      statuses.push(res.status);
      if (res.status === 503) {
        expect(res.headers.get('retry-after')).toBe('5');
        expect(await res.json()).toMatchObject({ code: 'SMART_CLIENT_CIRCUIT_OPEN', service: 'front' });
      } else await res.arrayBuffer();
    }
    expect(statuses.slice(0, 20).every((status) => status === 502)).toBe(true); // the minimum number of calls
    expect(statuses.slice(20).every((status) => status === 503)).toBe(true);
    expect(down.requests()).toBe(20); // a 500 is not retried; nothing after the circuit opened

    const metrics = (await app.inject('/metrics')).body;
    expect(metrics).toMatch(/client_circuit_state\{target="down",state="open"[^}]*\} 1/);
    expect(metrics).toMatch(/client_circuit_state\{target="down",state="closed"[^}]*\} 0/);
    expect(metrics).toMatch(/client_circuit_transitions_total\{target="down",from="closed",to="open"[^}]*\} 1/);
    expect(metrics).toMatch(/client_call_duration_seconds_count\{[^}]*target="down",outcome="refused"[^}]*\} 10/);
    const opened = app.logs.filter((line) => String(line.msg).startsWith('circuit to down'));
    expect(opened).toEqual([expect.objectContaining({ level: 40, target: 'down', from: 'closed', to: 'open' })]);
  });
});
