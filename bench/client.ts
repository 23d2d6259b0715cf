// `pnpm bench:client`: (1) throughput and p99 at 50 concurrent requests against
// a bare node:http upstream for raw undici, global fetch and smart-client
// (service:// resolution, retries on, no failures), alternated, with ratios;
// (2) tail latency: three upstream instances, one answering 5% of requests
// after 1 s; p50/p99 and extra upstream load with hedging off and on, for
// both balancers, at a fixed arrival rate.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { createClient, staticResolver } from 'smart-client';
import { Pool } from 'undici';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_DURATION ?? 4);
const CONCURRENCY = 50;
const pin = availableParallelism() >= 2;
// The load (this process, every thread) on core 0, the upstreams on core 1.
if (pin) execFileSync('taskset', ['-a', '-cp', '0', String(process.pid)], { stdio: 'ignore' });
const children: ChildProcess[] = [];
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

async function upstream(env: Record<string, string> = {}) {
  const file = fileURLToPath(new URL('./servers/upstream.ts', import.meta.url));
  const child = spawn(pin ? 'taskset' : process.execPath, pin ? ['-c', '1', process.execPath, file] : [file], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    env: { ...process.env, ...env },
  });
  children.push(child);
  const port = await new Promise<number>((resolve) => child.once('message', (m: { port: number }) => resolve(m.port)));
  const served = () =>
    new Promise<number>((resolve) => {
      child.once('message', (m: { served: number }) => resolve(m.served));
      child.send('served');
    });
  return { url: `http://127.0.0.1:${port}`, served };
}

/** Runs `call` from CONCURRENCY loops for `seconds`; returns req/s and latency percentiles (ms). */
async function load(call: () => Promise<unknown>, seconds: number) {
  const latencies: number[] = [];
  const until = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < until) {
        const started = performance.now();
        await call();
        latencies.push(performance.now() - started);
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  const at = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] as number;
  return { rps: latencies.length / seconds, p50: at(50), p99: at(99), count: latencies.length };
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

// 1. Throughput.
const one = await upstream();
const pool = new Pool(one.url, { connections: 128 });
const smart = createClient({ resolver: staticResolver({ upstream: [one.url] }), realm: 'bench' });
const contenders: [string, () => Promise<unknown>][] = [
  ['undici Pool.request', async () => (await pool.request({ path: '/', method: 'GET' })).body.json()],
  ['global fetch', async () => (await fetch(`${one.url}/`)).json()],
  ['smart-client get', () => smart.get('service://upstream/')],
];
for (const [, call] of contenders) await load(call, 1); // warm-up
const rounds: Record<string, { rps: number; p99: number }[]> = {};
for (let round = 0; round < ROUNDS; round++) {
  for (let i = 0; i < contenders.length; i++) {
    const [name, call] = contenders[(i + round) % contenders.length] as [string, () => Promise<unknown>];
    const result = await load(call, SECONDS);
    rounds[name] ??= [];
    rounds[name].push(result);
  }
}
console.log(
  `client bench: ${ROUNDS} rounds x ${SECONDS} s, ${CONCURRENCY} concurrent, upstream node:http${pin ? ' on core 1, clients on core 0' : ''}\n`,
);
console.log(`${'client'.padEnd(22)}${'req/s'.padStart(10)}${'p99 ms'.padStart(10)}`);
for (const [name] of contenders) {
  const r = rounds[name] as { rps: number; p99: number }[];
  console.log(
    `${name.padEnd(22)}${String(Math.round(median(r.map((x) => x.rps)))).padStart(10)}${median(r.map((x) => x.p99))
      .toFixed(1)
      .padStart(10)}`,
  );
}
const ratio = (a: string, b: string) =>
  median((rounds[a] ?? []).map((x, i) => x.rps / ((rounds[b] ?? [])[i]?.rps ?? 1)));
const vsUndici = ratio('smart-client get', 'undici Pool.request');
console.log(`\nsmart-client / undici: ${vsUndici.toFixed(2)}  target >= 0.9: ${vsUndici >= 0.9 ? 'met' : 'NOT met'}`);
console.log(`global fetch / undici: ${ratio('global fetch', 'undici Pool.request').toFixed(2)}`);
await pool.close();
await smart.close();

// 2. Tail latency: three instances, one slow 5% of the time. Open loop (a
// fixed arrival rate, latency counted from when a call was due), so a slow
// answer cannot hold back the calls behind it and hide in the percentiles.
const RATE = Number(process.env.BENCH_TAIL_RATE ?? 2_000);
async function openLoop(call: () => Promise<unknown>, seconds: number) {
  const latencies: number[] = [];
  const calls: Promise<void>[] = [];
  const start = performance.now();
  for (let sent = 0; performance.now() - start < seconds * 1000; ) {
    const due = Math.floor(((performance.now() - start) / 1000) * RATE);
    for (; sent < due; sent++) {
      const dueAt = start + (sent / RATE) * 1000;
      calls.push(call().then(() => void latencies.push(performance.now() - dueAt)));
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all(calls);
  latencies.sort((a, b) => a - b);
  const at = (p: number) => latencies[Math.floor((p / 100) * latencies.length)] as number;
  return { p50: at(50), p99: at(99), p999: at(99.9), count: latencies.length };
}
const fast1 = await upstream();
const fast2 = await upstream();
const flaky = await upstream({ SLOW_PERCENT: '5', SLOW_MS: '1000' });
const served = async () => (await fast1.served()) + (await fast2.served()) + (await flaky.served());
const resolver = staticResolver({ api: [fast1.url, fast2.url, flaky.url] });
console.log(`\ntail latency: 3 instances, one answers 5% of its requests after 1 s; ${RATE} calls/s, open loop`);
console.log(
  `${'balancing, hedging'.padEnd(26)}${'p50 ms'.padStart(8)}${'p99 ms'.padStart(9)}${'p99.9 ms'.padStart(10)}${'hedged'.padStart(8)}${'extra load'.padStart(12)}`,
);
for (const balancing of ['p2c', 'round-robin'] as const) {
  for (const hedge of [false, true]) {
    let hedges = 0;
    const client = createClient({
      resolver,
      realm: 'bench',
      balancing,
      events: { onHedge: () => hedges++ },
      ...(hedge ? { hedge: { percentile: 95 } } : {}),
    });
    await openLoop(() => client.get('service://api/'), 1); // warm-up, and latencies for the percentile
    hedges = 0;
    const before = await served();
    const r = await openLoop(() => client.get('service://api/'), SECONDS);
    const extra = ((await served()) - before) / r.count - 1;
    const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
    console.log(
      `${`${balancing}, ${hedge ? 'hedging at p95' : 'no hedging'}`.padEnd(26)}${r.p50.toFixed(1).padStart(8)}${r.p99.toFixed(1).padStart(9)}${r.p999.toFixed(1).padStart(10)}${pct(hedges / r.count).padStart(8)}${pct(extra).padStart(12)}`,
    );
    await client.close();
  }
}
process.exit(0);
