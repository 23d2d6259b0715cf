// `pnpm bench:client`: (1) throughput and p99 at 50 concurrent requests against
// a bare node:http upstream for raw undici, global fetch and smart-client
// (service:// resolution, retries on, no failures), alternated, with ratios;
// (2) the ablation: the same client with each of its layers left out in turn,
// alternated, and what each layer costs per call (client CPU and wall time),
// beside undici sending the client's headers and undici's dispatch with a
// handler that reads the answer whole (what the client's JSON calls use);
// (3) tail latency: three upstream instances, healthy, then one answering 5%
// of requests after 1 s; p50/p99 and extra upstream load with hedging off and
// on, for both balancers, at a fixed arrival rate.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type ClientOptions, createClient, type Layer, ReadBody, staticResolver } from 'smart-client';
import { Pool } from 'undici';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 6);
const SECONDS = Number(process.env.BENCH_DURATION ?? 2);
const ABLATION_ROUNDS = Number(process.env.BENCH_ABLATION_ROUNDS ?? 5);
const ABLATION_SECONDS = Number(process.env.BENCH_ABLATION_DURATION ?? 2);
const TARGET = 0.92;
const CONCURRENCY = 50;
const cores = availableParallelism();
const pin = cores >= 2;
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

/** Runs `call` from CONCURRENCY loops for `seconds`; returns req/s, latency percentiles (ms) and this process's CPU µs per call. */
async function load(call: () => Promise<unknown>, seconds: number) {
  const latencies: number[] = [];
  const cpu = process.cpuUsage();
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
  const used = process.cpuUsage(cpu);
  latencies.sort((a, b) => a - b);
  const at = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] as number;
  const cpuPerCall = (used.user + used.system) / latencies.length;
  return { rps: latencies.length / seconds, p50: at(50), p99: at(99), count: latencies.length, cpuPerCall };
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

// The machine's load, printed at the start and the end: figures from a loaded machine say little.
const loadAverage = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(', ');
console.log(`load average at start: ${loadAverage()} (${cores} cores)`);
process.on('exit', () => console.log(`load average at the end: ${loadAverage()}`));

// BENCH_PARTS picks the parts to run (default all four).
const parts = new Set((process.env.BENCH_PARTS ?? 'throughput,ablation,layers,tail').split(','));
/**
 * smart-client's sources at an earlier commit (BENCH_CLIENT_BEFORE), extracted
 * into a temp folder that uses the workspace's dependencies: the client before
 * a change, measured in the same run as after it.
 */
async function clientAt(rev: string): Promise<typeof import('smart-client')> {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const dir = mkdtempSync(join(tmpdir(), 'smart-client-before-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const archive = execFileSync('git', ['-C', root, 'archive', rev, 'packages/smart-client']);
  execFileSync('tar', ['-x', '-C', dir], { input: archive });
  symlinkSync(join(root, 'packages/smart-client/node_modules'), join(dir, 'packages/smart-client/node_modules'));
  return import(pathToFileURL(join(dir, 'packages/smart-client/src/index.ts')).href);
}

// 1. Throughput.
const one = await upstream();
if (parts.has('throughput')) {
  const pool = new Pool(one.url, { connections: 128 });
  const smart = createClient({ resolver: staticResolver({ upstream: [one.url] }), realm: 'bench' });
  const contenders: [string, () => Promise<unknown>][] = [
    ['undici Pool.request', async () => (await pool.request({ path: '/', method: 'GET' })).body.json()],
    ['global fetch', async () => (await fetch(`${one.url}/`)).json()],
    ['smart-client get', () => smart.get('service://upstream/')],
  ];
  const before = process.env.BENCH_CLIENT_BEFORE;
  const earlier = before
    ? (await clientAt(before)).createClient({ resolver: staticResolver({ upstream: [one.url] }), realm: 'bench' })
    : undefined;
  if (earlier) contenders.push([`smart-client @${before}`, () => earlier.get('service://upstream/')]);
  for (const [, call] of contenders) await load(call, 1); // warm-up
  const rounds: Record<string, { rps: number; p99: number; cpuPerCall: number }[]> = {};
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
  console.log(`${'client'.padEnd(22)}${'req/s'.padStart(10)}${'p99 ms'.padStart(10)}${'cpu µs/call'.padStart(13)}`);
  for (const [name] of contenders) {
    const r = rounds[name] as { rps: number; p99: number; cpuPerCall: number }[];
    console.log(
      `${name.padEnd(22)}${String(Math.round(median(r.map((x) => x.rps)))).padStart(10)}${median(r.map((x) => x.p99))
        .toFixed(1)
        .padStart(10)}${median(r.map((x) => x.cpuPerCall))
        .toFixed(1)
        .padStart(13)}`,
    );
  }
  const ratio = (a: string, b: string) =>
    median((rounds[a] ?? []).map((x, i) => x.rps / ((rounds[b] ?? [])[i]?.rps ?? 1)));
  const vsUndici = ratio('smart-client get', 'undici Pool.request');
  const perRound = (rounds['smart-client get'] ?? []).map(
    (x, i) => x.rps / ((rounds['undici Pool.request'] ?? [])[i]?.rps ?? 1),
  );
  console.log(
    `\nsmart-client / undici: ${vsUndici.toFixed(2)} (rounds ${perRound.map((x) => x.toFixed(2)).join(', ')})  target >= ${TARGET}: ${vsUndici >= TARGET ? 'met' : 'NOT met'}`,
  );
  console.log(`global fetch / undici: ${ratio('global fetch', 'undici Pool.request').toFixed(2)}`);
  // The same ratio from the load process's CPU per call (undici's / smart-client's): on a shared
  // machine the CPU a call costs moves far less than the throughput the scheduler allows.
  const byCpu = (name: string) => {
    const cpuRounds = (rounds[name] ?? []).map(
      (x, i) => ((rounds['undici Pool.request'] ?? [])[i]?.cpuPerCall ?? Number.NaN) / x.cpuPerCall,
    );
    console.log(
      `${name.replace(' get', '')} / undici by CPU per call: ${median(cpuRounds).toFixed(2)} (rounds ${cpuRounds.map((x) => x.toFixed(2)).join(', ')})`,
    );
  };
  byCpu('smart-client get');
  if (earlier) {
    const name = `smart-client @${before}`;
    console.log(`${name} / undici: ${ratio(name, 'undici Pool.request').toFixed(2)}`);
    byCpu(name);
    await earlier.close();
  }
  await pool.close();
  await smart.close();
}

if (parts.has('ablation')) {
  // 2. Ablation: the composed client with each layer left out in turn (resolve
  // and balance together: without them a service:// call has nowhere to go, so
  // a one-line layer pins the upstream's origin instead). Alternated like the
  // contenders above; a layer's cost is what the full client spends per call
  // beyond the client without it: client CPU µs per call (this process only,
  // the upstream runs elsewhere: steadier than wall time on a shared machine),
  // its share of the full client's, and wall µs per call (1e6 / req/s: the
  // event loop's time per call, which is what limits throughput).
  const pinned: Layer = function pinned(next) {
    return (attempt) => {
      attempt.origin = one.url;
      return next(attempt);
    };
  };
  const variants: [string, ClientOptions['layers']][] = [
    ['all layers', undefined],
    ['- outcome', (layers) => layers.filter((l) => l.name !== 'outcome')],
    ['- deadline', (layers) => layers.filter((l) => l.name !== 'deadline')],
    ['- propagation', (layers) => layers.filter((l) => l.name !== 'propagation')],
    ['- retry', (layers) => layers.filter((l) => l.name !== 'retry')],
    ['- circuitBreaker', (layers) => layers.filter((l) => l.name !== 'circuitBreaker')],
    ['- hedge', (layers) => layers.filter((l) => l.name !== 'hedge')],
    ['- bulkhead', (layers) => layers.filter((l) => l.name !== 'bulkhead')],
    ['- spans', (layers) => layers.filter((l) => l.name !== 'callSpan' && l.name !== 'attemptSpan')],
    ['- eject', (layers) => layers.filter((l) => l.name !== 'eject')],
    ['- resolve, balance', (layers) => [...layers.filter((l) => l.name !== 'resolve' && l.name !== 'balance'), pinned]],
  ];
  const ablationPool = new Pool(one.url, { connections: 128 });
  // The headers the client sends on this call (no request context here: accept and the deadline).
  const smartHeaders = () => ({ accept: 'application/json', 'x-smart-deadline': String(Date.now() + 10_000) });
  // undici's dispatch with a handler that keeps the chunks and parses them at the end: the floor
  // for a JSON call on undici (the client's JSON helpers read answers this way).
  const dispatchJson = () =>
    new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      ablationPool.dispatch(
        { path: '/', method: 'GET' },
        {
          onRequestStart: () => {},
          onResponseStart: () => {},
          onResponseData: (_controller, chunk) => void chunks.push(chunk),
          onResponseEnd: () => resolve(JSON.parse(Buffer.concat(chunks).toString())),
          onResponseError: (_controller, err) => reject(err),
        },
      );
    });
  const ablation: [string, () => Promise<unknown>, () => Promise<void>][] = [
    [
      'undici Pool.request',
      async () => (await ablationPool.request({ path: '/', method: 'GET' })).body.json(),
      () => ablationPool.close(),
    ],
    [
      'undici + its headers',
      async () => (await ablationPool.request({ path: '/', method: 'GET', headers: smartHeaders() })).body.json(),
      async () => {},
    ],
    ['undici dispatch', dispatchJson, async () => {}],
    ...variants.map(([name, layers]): [string, () => Promise<unknown>, () => Promise<void>] => {
      const client = createClient({
        resolver: staticResolver({ upstream: [one.url] }),
        realm: 'bench',
        ...(layers ? { layers } : {}),
      });
      return [name, () => client.get('service://upstream/'), () => client.close()];
    }),
  ];
  for (const [, call] of ablation) await load(call, 0.5); // warm-up
  const measured: Record<string, { rps: number; cpuPerCall: number }[]> = {};
  for (let round = 0; round < ABLATION_ROUNDS; round++) {
    for (let i = 0; i < ablation.length; i++) {
      const [name, call] = ablation[(i + round) % ablation.length] as [string, () => Promise<unknown>, unknown];
      const result = await load(call, ABLATION_SECONDS);
      measured[name] ??= [];
      measured[name].push(result);
    }
  }
  const wallUs = (name: string) => median((measured[name] ?? []).map((x) => 1e6 / x.rps));
  const cpuUs = (name: string) => median((measured[name] ?? []).map((x) => x.cpuPerCall));
  // The spread of the full client's figures over the rounds: costs smaller than this are noise.
  const spread = (values: number[]) => Math.max(...values) - Math.min(...values);
  const full = measured['all layers'] ?? [];
  console.log(
    `\nablation: ${ABLATION_ROUNDS} rounds x ${ABLATION_SECONDS} s each; a layer's cost = all layers - without it (median of rounds)`,
  );
  console.log(
    `${'client'.padEnd(22)}${'req/s'.padStart(9)}${'cpu µs/call'.padStart(13)}${'layer cpu µs'.padStart(14)}${'share'.padStart(8)}${'layer wall µs'.padStart(15)}`,
  );
  for (const [name] of ablation) {
    const rps = median((measured[name] ?? []).map((x) => x.rps));
    const layer = name.startsWith('- ');
    const cost = cpuUs('all layers') - cpuUs(name);
    console.log(
      `${name.padEnd(22)}${String(Math.round(rps)).padStart(9)}${cpuUs(name).toFixed(1).padStart(13)}${(layer ? cost.toFixed(2) : '').padStart(14)}${(layer ? `${((cost / cpuUs('all layers')) * 100).toFixed(1)}%` : '').padStart(8)}${(layer ? (wallUs('all layers') - wallUs(name)).toFixed(2) : '').padStart(15)}`,
    );
  }
  console.log(
    `noise: all layers' cpu µs/call spans ${spread(full.map((x) => x.cpuPerCall)).toFixed(2)} over the rounds, wall µs/call ${spread(full.map((x) => 1e6 / x.rps)).toFixed(2)}`,
  );
  console.log(
    `all layers / undici over these rounds: ${median(full.map((x, i) => x.rps / ((measured['undici Pool.request'] ?? [])[i]?.rps ?? 1))).toFixed(2)}`,
  );
  console.log(
    `undici, cpu µs/call: the client's headers add ${(cpuUs('undici + its headers') - cpuUs('undici Pool.request')).toFixed(2)}; dispatch with a handler reading the answer whole saves ${(cpuUs('undici Pool.request') - cpuUs('undici dispatch')).toFixed(2)}`,
  );
  for (const [, , close] of ablation) await close();
}

if (parts.has('layers')) {
  // 2b. What the layers themselves cost, without the network: the client's last layer answers at
  // once (no socket, no undici), so the CPU per call is the layers' own and the client's (URL,
  // headers, JSON helper), with each layer left out in turn. In-process and CPU-bound, these
  // figures move by a few percent between runs where the ablation above moves by tens.
  // What the transport answers a JSON helper's call with: the body read whole.
  const bytes = Buffer.from('{"ok":true}');
  const answers: Layer = function answers() {
    return () =>
      Promise.resolve({
        statusCode: 200,
        headers: { 'content-type': 'application/json' },
        body: new ReadBody([bytes]),
      } as never);
  };
  const pinned: Layer = function pinned(next) {
    return (attempt) => {
      attempt.origin = 'http://127.0.0.1:1';
      return next(attempt);
    };
  };
  const without =
    (...names: string[]): ClientOptions['layers'] =>
    (layers) => [...layers.filter((l) => !names.includes(l.name)), answers];
  const variants: [string, ClientOptions['layers']][] = [
    ['all layers', without()],
    ...[
      'callSpan',
      'outcome',
      'deadline',
      'circuitBreaker',
      'propagation',
      'retry',
      'hedge',
      'attemptSpan',
      'bulkhead',
      'eject',
    ].map((name): [string, ClientOptions['layers']] => [`- ${name}`, without(name)]),
    ['no layers', () => [pinned, answers]],
  ];
  const CALLS = Number(process.env.BENCH_LAYER_CALLS ?? 100_000);
  const LAYER_ROUNDS = Number(process.env.BENCH_LAYER_ROUNDS ?? 5);
  const clients = variants.map(([name, layers]) => {
    const client = createClient({
      resolver: staticResolver({ upstream: ['http://127.0.0.1:1'] }),
      realm: 'bench',
      layers,
    });
    return { name, client, ns: [] as number[] };
  });
  const run = async (client: (typeof clients)[number]['client']) => {
    const cpu = process.cpuUsage();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        for (let i = 0; i < CALLS / CONCURRENCY; i++) await client.get('service://upstream/');
      }),
    );
    const used = process.cpuUsage(cpu);
    return ((used.user + used.system) / CALLS) * 1000;
  };
  for (const { client } of clients) await run(client); // warm-up
  for (let round = 0; round < LAYER_ROUNDS; round++)
    for (let i = 0; i < clients.length; i++) {
      const entry = clients[(i + round) % clients.length] as (typeof clients)[number];
      entry.ns.push(await run(entry.client));
    }
  const all = median(clients[0]?.ns ?? []);
  console.log(
    `\nlayers without the network: ${LAYER_ROUNDS} rounds x ${CALLS} calls, ${CONCURRENCY} concurrent; the last layer answers at once`,
  );
  console.log(`${'client'.padEnd(22)}${'cpu ns/call'.padStart(13)}${'layer ns'.padStart(10)}`);
  for (const { name, ns } of clients) {
    const own = median(ns);
    console.log(
      `${name.padEnd(22)}${own.toFixed(0).padStart(13)}${(name.startsWith('- ') ? (all - own).toFixed(0) : '').padStart(10)}`,
    );
  }
  for (const { client } of clients) await client.close();
}

if (parts.has('tail')) {
  // 3. Tail latency: three instances, healthy or one slow 5% of the time, hedging off and on, for
  // both balancers. The healthy baseline and the hedged run of a balancer run at the same time, each
  // with its own client and its own three upstream processes, and each due call goes to both at the
  // same moment: a stall of this process or of the machine (GC, other processes on the shared
  // cores) then lands on both alike, so their ratio is read from calls that lived through the same
  // moments. (Taken in turn, even in 1 s slices, the per-round ratio swung 0.07-6.8 on a loaded
  // machine.) The slow instance without hedging, the reference, runs alone after them. Open loop
  // (a fixed arrival rate per configuration, each call's latency counted from when it was due, not
  // from when the generator got round to sending it), so neither a slow answer nor a stalled
  // generator can hold back the calls behind it and hide in the percentiles.
  const RATE = Number(process.env.BENCH_TAIL_RATE ?? 2_000);
  const TAIL_ROUNDS = Number(process.env.BENCH_TAIL_ROUNDS ?? 5);
  const TAIL_SECONDS = Number(process.env.BENCH_TAIL_DURATION ?? 4);
  // BENCH_TAIL_CANCEL=1: hedge with cancelLoser, the race's loser aborted (the behaviour before it was left to finish).
  const cancelLoser = process.env.BENCH_TAIL_CANCEL === '1';
  const at = (sorted: ArrayLike<number>, p: number) =>
    sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
  const sortedOf = (values: number[]) => Float64Array.from(values).sort();
  interface Running {
    readonly call: () => Promise<unknown>;
    latencies: number[];
    failed: number;
    /** Failed calls by error code. */
    readonly failures: Map<string, number>;
  }
  /** Sends RATE calls a second to each of `targets` for `seconds`, the same due times for all; returns the generator's lags. */
  async function openLoop(targets: readonly Running[], seconds: number) {
    // How late the generator sent each call: this process waiting for a core (or for GC).
    const lags: number[] = [];
    const calls: Promise<void>[] = [];
    const start = performance.now();
    for (let sent = 0; performance.now() - start < seconds * 1000; ) {
      const now = performance.now();
      const due = Math.floor(((now - start) / 1000) * RATE);
      for (; sent < due; sent++) {
        const dueAt = start + (sent / RATE) * 1000;
        lags.push(now - dueAt);
        // Whose call goes first alternates: the first one out of a tick leaves a few µs earlier.
        for (let k = 0; k < targets.length; k++) {
          const target = targets[(sent + k) % targets.length] as Running;
          // A call that fails (a full bulkhead, a deadline) is counted with its latency: failing fast cannot flatter a tail.
          calls.push(
            target
              .call()
              .then(undefined, (err: { code?: string }) => {
                target.failed++;
                const code = err?.code ?? 'other';
                target.failures.set(code, (target.failures.get(code) ?? 0) + 1);
              })
              .then(() => void target.latencies.push(performance.now() - dueAt)),
          );
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    await Promise.all(calls);
    return lags;
  }
  const instances = async (slow: boolean) => [
    await upstream(),
    await upstream(),
    slow ? await upstream({ SLOW_PERCENT: '5', SLOW_MS: '1000' }) : await upstream(),
  ];
  const sets = {
    healthy: await instances(false),
    slowNoHedge: await instances(true),
    slowHedged: await instances(true),
  };
  console.log(
    `\ntail latency: 3 instances, healthy or one answering 5% of its requests after 1 s; ${RATE} calls/s to each configuration, open loop; healthy and hedged at once (same due times, own clients and upstreams), then the unhedged reference alone; ${TAIL_ROUNDS} rounds x ${TAIL_SECONDS} s per balancer, alternated; percentiles over every round's calls pooled`,
  );
  console.log(
    `${'instances, balancing, hedging'.padEnd(38)}${'p50 ms'.padStart(8)}${'p99 ms'.padStart(9)}${'p99.9 ms'.padStart(10)}${'hedged'.padStart(8)}${'extra load'.padStart(12)}${'to slow'.padStart(9)}${'p99 / healthy'.padStart(15)}${'failed'.padStart(8)}`,
  );
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const balancers = (['p2c', 'round-robin'] as const).map((balancing) => {
    const configs = (
      [
        ['healthy', false, sets.healthy],
        ['one slow', false, sets.slowNoHedge],
        ['one slow', true, sets.slowHedged],
      ] as const
    ).map(([state, hedge, set]) => {
      const counter = { hedges: 0 };
      const client = createClient({
        resolver: staticResolver({ api: set.map((instance) => instance.url) }),
        realm: 'bench',
        balancing,
        events: { onHedge: () => counter.hedges++ },
        ...(hedge ? { hedge: { percentile: 95, cancelLoser } } : {}),
      });
      const served = async () => {
        const each = await Promise.all(set.map((instance) => instance.served()));
        return { total: each.reduce((sum, x) => sum + x, 0), last: each[2] as number };
      };
      return {
        name: `${state}, ${balancing}, ${hedge ? `hedging at p95${cancelLoser ? ', cancel' : ''}` : 'no hedging'}`,
        state,
        hedge,
        client,
        served,
        counter,
        call: () => client.get('service://api/'),
        latencies: [] as number[],
        failed: 0,
        failures: new Map<string, number>(),
        rounds: [] as { p99: number; from: number }[],
        totals: { hedges: 0, served: 0, toSlow: 0 },
      };
    });
    const [healthy, reference, hedged] = configs as [(typeof configs)[0], (typeof configs)[0], (typeof configs)[0]];
    return { balancing, configs, healthy, reference, hedged, lags: [] as number[], cpu: [] as number[] };
  });
  type Config = (typeof balancers)[number]['configs'][number];
  // Runs `group` at once for `seconds`: counts its hedges, upstream load and calls to the slow instance.
  async function slot(group: readonly Config[], seconds: number) {
    const before = await Promise.all(group.map((c) => c.served()));
    const from = group.map((c) => c.latencies.length);
    for (const config of group) config.counter.hedges = 0;
    const cpu = process.cpuUsage();
    const started = performance.now();
    const lags = await openLoop(group, seconds);
    const used = process.cpuUsage(cpu);
    const busy = (used.user + used.system) / 1000 / (performance.now() - started);
    const after = await Promise.all(group.map((c) => c.served()));
    group.forEach((config, i) => {
      config.totals.hedges += config.counter.hedges;
      config.totals.served += (after[i]?.total ?? 0) - (before[i]?.total ?? 0);
      config.totals.toSlow += (after[i]?.last ?? 0) - (before[i]?.last ?? 0);
      const start = from[i] ?? 0;
      config.rounds.push({ p99: at(sortedOf(config.latencies.slice(start)), 99), from: start });
    });
    return { lags, busy };
  }
  // Warm-up (connections, JIT, and the latency window the percentile is read from); not counted.
  for (const { configs } of balancers) {
    await openLoop(configs, 1);
    for (const config of configs) {
      config.latencies = [];
      config.failed = 0;
      config.failures.clear();
    }
  }
  for (let round = 0; round < TAIL_ROUNDS; round++) {
    for (let b = 0; b < balancers.length; b++) {
      const balancer = balancers[(b + round) % balancers.length] as (typeof balancers)[number];
      const { lags, busy } = await slot([balancer.healthy, balancer.hedged], TAIL_SECONDS);
      balancer.lags.push(...lags);
      balancer.cpu.push(busy);
      await slot([balancer.reference], TAIL_SECONDS / 2);
    }
  }
  const verdicts: string[] = [];
  const noise: string[] = [];
  for (const { balancing, configs, healthy, hedged, lags, cpu } of balancers) {
    // The p99 of the calls of the rounds `which` picks, pooled.
    const p99Of = (config: Config, which: (round: number) => boolean) =>
      at(
        sortedOf(
          config.rounds.flatMap((r, i) =>
            which(i) ? config.latencies.slice(r.from, config.rounds[i + 1]?.from ?? config.latencies.length) : [],
          ),
        ),
        99,
      );
    const healthyP99 = p99Of(healthy, () => true);
    for (const config of configs) {
      const pooled = sortedOf(config.latencies);
      const calls = config.latencies.length;
      const slowShare = config.state === 'healthy' ? '-' : pct(config.totals.toSlow / calls);
      console.log(
        `${config.name.padEnd(38)}${at(pooled, 50).toFixed(1).padStart(8)}${at(pooled, 99).toFixed(1).padStart(9)}${at(pooled, 99.9).toFixed(1).padStart(10)}${pct(config.totals.hedges / calls).padStart(8)}${pct(config.totals.served / calls - 1).padStart(12)}${slowShare.padStart(9)}${(at(pooled, 99) / healthyP99).toFixed(2).padStart(15)}${String(config.failed).padStart(8)}`,
      );
    }
    const hedgedP99 = p99Of(hedged, () => true);
    const ratio = hedgedP99 / healthyP99;
    const extra = hedged.totals.served / hedged.latencies.length - 1;
    // The same ratio from each half of the rounds: how far the figure would move on a rerun.
    const half = (odd: number) => p99Of(hedged, (i) => i % 2 === odd) / p99Of(healthy, (i) => i % 2 === odd);
    const perRound = hedged.rounds.map((r, i) => r.p99 / (healthy.rounds[i]?.p99 ?? Number.NaN));
    const lagP99 = at(sortedOf(lags), 99);
    // A client that could not keep time (its generator sent late, or calls failed) measured the machine, not hedging.
    const starved = lagP99 > 20 || healthy.failed + hedged.failed > 0;
    const why = [...healthy.failures, ...hedged.failures].map(([code, n]) => `${n} ${code}`).join(', ');
    const met = ratio <= 1.2 && extra <= 0.05;
    verdicts.push(
      `${balancing}: hedged p99 ${hedgedP99.toFixed(1)} ms = ${ratio.toFixed(2)}x healthy ${healthyP99.toFixed(1)} ms (target <= 1.2; odd rounds ${half(1).toFixed(2)}, even rounds ${half(0).toFixed(2)}; per round ${perRound.map((x) => x.toFixed(2)).join(', ')}), extra load ${pct(extra)} (target <= 5%): ${met ? 'met' : 'NOT met'}${starved ? ` (unreadable: the client was starved, generator lag p99 ${lagP99.toFixed(0)} ms, ${healthy.failed + hedged.failed} calls failed${why ? `: ${why}` : ''})` : ''}`,
    );
    noise.push(
      `${balancing}: healthy p99 per round ${healthy.rounds.map((r) => r.p99.toFixed(1)).join(', ')} ms; generator lag p99 ${lagP99.toFixed(1)} ms (max ${Math.max(...lags).toFixed(1)}); client CPU ${pct(median(cpu))} of a core`,
    );
  }
  for (const { configs } of balancers) for (const config of configs) await config.client.close();
  console.log(`\nnoise: ${noise.join('; ')}`);
  console.log(verdicts.join('\n'));
}
process.exit(0);
