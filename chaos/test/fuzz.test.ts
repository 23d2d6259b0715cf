import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { report } from '../lib/figures.ts';
import { startService } from '../lib/service-process.ts';

// A small seeded generator, so a failing body can be found again.
function random(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (state * 1_664_525 + 1_013_904_223) >>> 0;
    return state / 2 ** 32;
  };
}

function fuzzBody(rand: () => number, i: number): { body: string; type: string } {
  const pick = <T>(items: readonly T[]) => items[Math.floor(rand() * items.length)] as T;
  const depth = pick([1, 10, 63, 64, 65, 1_000, 100_000]);
  const strings = ['', 'a', '\u0000', '\ud800', '"', '\\', '💥', 'x'.repeat(10_000), '__proto__', 'constructor'];
  const kinds = [
    () => `${'['.repeat(depth)}${']'.repeat(depth)}`,
    () => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`,
    () => `${'['.repeat(depth)}`,
    () => JSON.stringify({ [pick(strings)]: pick(strings), n: pick([0, -0, 1e308, -1e308, 2 ** 53 + 1]) }),
    () => '{"__proto__":{"polluted":true}}',
    () => '{"constructor":{"prototype":{"polluted":true}}}',
    () => pick(['1e400', '-', 'nul', 'true false', '{"a":1,}', "{'a':1}", '', ' ', '\u0000']),
    () => Buffer.from(Array.from({ length: 64 }, () => Math.floor(rand() * 256))).toString('latin1'),
    () => JSON.stringify(Array.from({ length: 1_000 }, () => pick(strings))),
    () => `"${'\\u'.repeat(50)}"`,
  ];
  const type = pick([
    'application/json',
    'application/json; charset=utf-8',
    'text/plain',
    'application/x-unknown',
    'application/json; charset=latin1',
  ]);
  return { body: (kinds[i % kinds.length] as () => string)(), type };
}

describe('fuzzed bodies', () => {
  it('1,000 bodies (deep nesting to 100,000 levels, bad JSON, poisoning, odd types): 0 x 5xx, the process stays up', async () => {
    // Shedding off: this is about what bodies do to the parser and handlers (a
    // 100,000-deep body scanned on a loaded machine may otherwise be shed, 503).
    const service = await startService({
      CHAOS_NAME: 'chaos-fuzz',
      SMART_LOG__LEVEL: 'warn',
      SMART_PROTECTION__SHEDDING__ENABLED: 'false',
    });
    const rand = random(14);
    const statuses = new Map<number, number>();
    const fiveHundreds: string[] = [];
    for (let i = 0; i < 1_000; i++) {
      const { body, type } = fuzzBody(rand, i);
      const res = await request(`${service.base}/echo`, { method: 'POST', body, headers: { 'content-type': type } });
      await res.body.text();
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      if (res.statusCode >= 500) fiveHundreds.push(`${res.statusCode} ${type} ${body.slice(0, 60)}`);
    }
    const alive = await request(`${service.base}/health/live`);
    await alive.body.text();
    report('fuzz-1000', {
      ...Object.fromEntries([...statuses].map(([status, n]) => [`status${status}`, n])),
      status5xx: fiveHundreds.length,
      alive: alive.statusCode === 200,
    });
    expect(fiveHundreds).toEqual([]);
    expect(alive.statusCode).toBe(200);
    expect(service.child.exitCode).toBeNull();
  });
});
