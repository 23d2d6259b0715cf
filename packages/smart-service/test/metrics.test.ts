import { describe, expect, it } from 'vitest';
import { build } from './helper.ts';

function sample(text: string, metric: string, ...labels: string[]): number {
  const line = text.split('\n').find((l) => l.startsWith(`${metric}{`) && labels.every((label) => l.includes(label)));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

describe('metrics', () => {
  it('counts requests by method, route and status in a duration histogram', async () => {
    const app = await build({ name: 'metered' });
    app.get('/items/:id', async () => ({ ok: true }));
    const labels = 'method="GET",route="/items/:id",status="200"';
    const before = sample((await app.inject('/metrics')).body, 'http_request_duration_seconds_count', labels);
    await app.inject('/items/1');
    await app.inject('/items/2');
    await app.inject('/nope');
    const res = await app.inject('/metrics');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    expect(sample(res.body, 'http_request_duration_seconds_count', labels)).toBe(before + 2);
    expect(sample(res.body, 'http_request_duration_seconds_bucket', labels, 'le="+Inf"')).toBe(before + 2);
    expect(sample(res.body, 'http_request_duration_seconds_count', 'route="unmatched",status="404"')).toBe(1);
    expect(res.body).toContain('service="metered"');
  });

  it('reports requests in flight, and process and event-loop metrics', async () => {
    const app = await build();
    let release: () => void = () => {};
    app.get('/hold', () => new Promise((resolve) => (release = () => resolve('done'))));
    const held = app.inject('/hold');
    await new Promise((resolve) => setTimeout(resolve, 20));
    const during = (await app.inject('/metrics')).body;
    expect(sample(during, 'http_requests_in_flight', 'service=')).toBe(2); // /hold and /metrics itself
    release();
    await held;
    expect(during).toMatch(/^process_cpu_seconds_total/m);
    expect(during).toMatch(/^nodejs_eventloop_lag_seconds/m);
    expect(during).toMatch(/^process_resident_memory_bytes/m);
  });

  it('can be turned off', async () => {
    const app = await build({ env: { SMART_METRICS__ENABLED: 'false' } });
    expect((await app.inject('/metrics')).statusCode).toBe(404);
  });
});
