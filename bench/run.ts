// `pnpm bench`: a hello-world JSON route served by (a) bare node:http, (b) bare
// Fastify with its default logging, (f) bare Fastify with its logger off, (c)
// smart-service with all defaults (tracing
// configured off), (d) smart-service with tracing on (every request sampled,
// exported to a loopback OTLP sink), and, when BENCH_BASE_ROOT names a checkout
// from before tracing, (e) that checkout's smart-service (no tracing code),
// loaded by autocannon on loopback in one run. Servers run on core 1, the load
// generator (and the sink) on core 0; configurations alternate each round and
// the medians are reported, with the ratios c/b, c/a, c/f, d/c and c/e, each
// from requests per second and from the server's CPU time per request.
//
//   BENCH_ROUNDS (3)  BENCH_DURATION seconds (5)  BENCH_CONNECTIONS (50)  BENCH_BASE_ROOT (unset)
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { LOADER, loadServer } from './servers/load.ts';
import { processCpuUs } from './servers/process-cpu.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
// Issue 16's targets: smart-service against Fastify with its default logger, and against node:http.
const FASTIFY_TARGET = 1.3;
const NODE_TARGET = 0.68;
const TRACING_TARGET = 0.6;
const OFF_TARGET = 0.97;
const BASE_ROOT = process.env.BENCH_BASE_ROOT;

const SERVERS: Record<string, { label: string; file: string }> = {
  a: { label: 'node:http', file: 'node-http.ts' },
  b: { label: 'Fastify + pino', file: 'fastify.ts' },
  f: { label: 'Fastify, no logger', file: 'fastify-bare.ts' },
  c: { label: 'smart-service', file: 'smart-service.ts' },
  d: { label: 'smart + tracing', file: 'smart-service-traced.ts' },
  // The same server file in a checkout from before tracing (its own smart-service sources).
  ...(BASE_ROOT
    ? {
        e: {
          label: 'smart, no tracing',
          file: fileURLToPath(new URL(`file://${BASE_ROOT}/bench/servers/smart-service.ts`)),
        },
      }
    : {}),
};
type Name = 'a' | 'b' | 'c' | 'd' | 'e' | 'f';

interface Sample {
  rps: number;
  /** The server's CPU time per request (user + system, microseconds; Linux, else NaN). */
  cpuUs: number;
  p50: number;
  p99: number;
}

// Decided once, before pinning: inside the pinned process availableParallelism() reports 1.
const canPin =
  process.env.SMART_BENCH_PINNED === '1' || (availableParallelism() >= 2 && spawnSync('taskset', ['-V']).status === 0);

// Pin this process (the load generator) to core 0 by running again under taskset. This wrapper
// passes signals on; the pinned copy watches the IPC channel so it also stops if the wrapper is killed.
if (canPin && !process.env.SMART_BENCH_PINNED) {
  const self = spawn('taskset', ['-c', '0', process.execPath, fileURLToPath(import.meta.url)], {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, SMART_BENCH_PINNED: '1' },
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => self.kill(signal));
  const code = await new Promise<number>((resolve) => {
    self.once('error', (err) => {
      console.error(err);
      resolve(1);
    });
    self.once('exit', (status, signal) => resolve(status ?? (signal ? 128 : 1)));
  });
  process.exit(code);
}

const children: ChildProcess[] = [];
function stopAll(): void {
  for (const child of children) child.kill('SIGKILL');
}
process.on('exit', stopAll);
process.on('SIGINT', () => process.exit(130));
process.on('SIGTERM', () => process.exit(143));
process.on('SIGHUP', () => process.exit(129));
if (process.channel) {
  process.on('disconnect', () => process.exit(1)); // the wrapper is gone
  process.channel.unref();
}

function startServer(name: Name | 'sink', env: Record<string, string> = {}): Promise<number> {
  const server =
    name === 'sink' ? { label: 'OTLP sink', file: 'otlp-sink.ts' } : (SERVERS[name] as { label: string; file: string });
  const file = server.file.startsWith('/')
    ? server.file
    : fileURLToPath(new URL(`./servers/${server.file}`, import.meta.url));
  // The sink shares core 0 with the load generator: the server's core does only the server's work.
  const core = name === 'sink' ? '0' : '1';
  const [command, args] = canPin ? ['taskset', ['-c', core, process.execPath, file]] : [process.execPath, [file]];
  // stdout is discarded: the servers' logs are written (that cost is measured) and dropped.
  const child = spawn(command as string, args as string[], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    env: { ...process.env, ...env },
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    if (name !== 'sink' && child.pid) pids.set(name, child.pid);
    const timer = setTimeout(() => reject(new Error(`${server.label} did not start in 20 s`)), 20_000);
    child.once('message', (message: { port: number }) => {
      clearTimeout(timer);
      resolve(message.port);
    });
    child.once('exit', (code) => reject(new Error(`${server.label} exited with ${code}`)));
  });
}

const pids = new Map<Name, number>();
async function load(name: Name, port: number, seconds: number): Promise<Sample> {
  const before = processCpuUs(pids.get(name));
  const { requests, rps, p50, p99 } = await loadServer(port, seconds, CONNECTIONS);
  const cpuUs = (processCpuUs(pids.get(name)) - before) / requests;
  return { rps, cpuUs, p50, p99 };
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)] as number;
};

// BENCH_ONLY=a,c,f: only these servers (a quicker look while working on one of them).
const only = process.env.BENCH_ONLY?.split(',');
const names = (Object.keys(SERVERS) as Name[]).filter((n) => !only || only.includes(n));
console.log(
  `smart-service bench: ${ROUNDS} rounds x ${DURATION} s, ${CONNECTIONS} connections (${LOADER}), ` +
    (canPin ? 'servers on core 1, load on core 0' : 'NOT pinned (needs taskset and 2 cores)'),
);
const sink = await startServer('sink');
const ports = Object.fromEntries(
  await Promise.all(names.map(async (n) => [n, await startServer(n, { BENCH_OTLP_URL: `http://127.0.0.1:${sink}` })])),
) as Record<Name, number>;
for (const name of names) await load(name, ports[name], 2); // warm-up: JIT, pools, keep-alive

const samples = Object.fromEntries(names.map((n) => [n, [] as Sample[]])) as Record<Name, Sample[]>;
for (let round = 0; round < ROUNDS; round++) {
  // Rotate the order so drift (thermal, background work) falls on every configuration alike.
  const order = names.map((_, i) => names[(i + round) % names.length] as Name);
  for (const name of order) {
    const sample = await load(name, ports[name], DURATION);
    samples[name].push(sample);
    console.log(
      `  round ${round + 1} ${(SERVERS[name]?.label ?? name).padEnd(18)} ${Math.round(sample.rps)} req/s, ${sample.cpuUs.toFixed(1)} us CPU/request`,
    );
  }
}
stopAll();

const result = Object.fromEntries(
  names.map((name) => [
    name,
    {
      rps: median(samples[name].map((s) => s.rps)),
      cpuUs: median(samples[name].map((s) => s.cpuUs)),
      p50: median(samples[name].map((s) => s.p50)),
      p99: median(samples[name].map((s) => s.p99)),
    },
  ]),
) as Record<Name, Sample>;

console.log(
  `\n${'server'.padEnd(24)}${'req/s'.padStart(10)}${'CPU us/req'.padStart(12)}${'p50 ms'.padStart(10)}${'p99 ms'.padStart(10)}`,
);
for (const name of names) {
  const { rps, cpuUs, p50, p99 } = result[name];
  console.log(
    `${`(${name}) ${SERVERS[name]?.label}`.padEnd(24)}${String(Math.round(rps)).padStart(10)}${cpuUs.toFixed(1).padStart(12)}${p50.toFixed(2).padStart(10)}${p99.toFixed(2).padStart(10)}`,
  );
}
// Ratios within each round (measured seconds apart) are steadier on a noisy
// machine than ratios of medians taken minutes apart: report their median.
const perRound = (x: Name, y: Name) => median(samples[x].map((s, i) => s.rps / (samples[y][i] as Sample).rps));
// The same ratios from CPU per request (y's CPU / x's: the throughput x would have on a core of its own).
const perRoundCpu = (x: Name, y: Name) => median(samples[x].map((s, i) => (samples[y][i] as Sample).cpuUs / s.cpuUs));
const verdict = (value: number, target: number) => (value >= target ? 'met' : 'NOT met');
const ratio = (x: Name, y: Name, what: string, target?: number) => {
  if (!names.includes(x) || !names.includes(y)) return;
  const rps = perRound(x, y);
  const cpu = perRoundCpu(x, y);
  const goal =
    target === undefined ? '' : `  target >= ${target}: ${verdict(rps, target)} (req/s), ${verdict(cpu, target)} (CPU)`;
  console.log(`${`${x}/${y} (${what}):`.padEnd(48)} req/s ${rps.toFixed(2)}, CPU ${cpu.toFixed(2)}${goal}`);
};
console.log('');
ratio('c', 'b', 'smart-service / Fastify + pino', FASTIFY_TARGET);
ratio('c', 'a', 'smart-service / node:http', NODE_TARGET);
ratio('c', 'f', 'smart-service / Fastify, no logger');
ratio('f', 'a', 'Fastify, no logger / node:http');
ratio('b', 'a', 'Fastify + pino / node:http');
if (names.includes('d') && names.includes('c')) {
  const dc = perRound('d', 'c');
  const dcCpu = perRoundCpu('d', 'c');
  console.log(
    `d/c (tracing on, 100% exported / tracing off): req/s ${dc.toFixed(2)}, CPU ${dcCpu.toFixed(2)}  target >= ${TRACING_TARGET}: ${verdict(dc, TRACING_TARGET)} (req/s), ${verdict(dcCpu, TRACING_TARGET)} (CPU)`,
  );
}
if (names.includes('e') && names.includes('c')) {
  const ce = perRound('c', 'e');
  const ceCpu = perRoundCpu('c', 'e');
  console.log(
    `c/e (this tree / BENCH_BASE_ROOT's): req/s ${ce.toFixed(3)}, CPU ${ceCpu.toFixed(3)}  target >= ${OFF_TARGET}: ${verdict(ce, OFF_TARGET)} (req/s), ${verdict(ceCpu, OFF_TARGET)} (CPU)`,
  );
} else
  console.log(
    'c/e: set BENCH_BASE_ROOT to another checkout (one from before tracing, or before a change) to compare in one run',
  );
console.log('(ratios: the median over rounds of the ratio within each round)');

// Cold start to first answer (issue 16): fresh processes of (b) and (c), after the throughput rounds.
// BENCH_COLD=0 leaves it out (a quicker look at throughput).
if (process.env.BENCH_COLD !== '0') {
  const { coldStart } = await import('./cold-start.ts');
  await coldStart();
}
