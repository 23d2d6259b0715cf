// `node tracing-instrumentation.ts`: which way of making a server span per
// request costs Fastify least: @fastify/otel, Fastify's diagnostics channel,
// or an onRequest/onResponse pair (servers/fastify-traced.ts), against no
// tracing. Servers on core 1, autocannon here (run this under `taskset -c 0`);
// configurations alternate each round; medians of the per-round ratios.
//
//   BENCH_ROUNDS (5)  BENCH_DURATION seconds (3)  BENCH_CONNECTIONS (50)
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const DURATION = Number(process.env.BENCH_DURATION ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const MODES = ['none', 'fastify-otel', 'dc', 'hooks'] as const;
type Mode = (typeof MODES)[number];

const pin = spawnSync('taskset', ['-V']).status === 0;
const children: ChildProcess[] = [];
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

function start(mode: Mode): Promise<number> {
  const file = fileURLToPath(new URL('./servers/fastify-traced.ts', import.meta.url));
  const [command, args] = pin
    ? ['taskset', ['-c', '1', process.execPath, file, mode]]
    : [process.execPath, [file, mode]];
  const child = spawn(command as string, args as string[], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.once('message', (message: { port: number }) => {
      servers.set(message.port, child);
      resolve(message.port);
    });
    child.once('exit', (code) => reject(new Error(`${mode} exited with ${code}`)));
  });
}

const servers = new Map<number, ChildProcess>();
function cpu(port: number): Promise<number> {
  const child = servers.get(port) as ChildProcess;
  return new Promise((resolve) => {
    const listen = (message: { cpu?: number }) => {
      if (message.cpu === undefined) return;
      child.off('message', listen);
      resolve(message.cpu);
    };
    child.on('message', listen);
    child.send('cpu');
  });
}

/** Requests per second, and the server's CPU microseconds per request over the same run. */
async function rps(port: number, seconds: number): Promise<{ rps: number; cpuUs: number }> {
  const before = await cpu(port);
  const result = await autocannon({ url: `http://127.0.0.1:${port}/`, connections: CONNECTIONS, duration: seconds });
  if (result.errors + result.timeouts + result.non2xx > 0) throw new Error(`failed requests on port ${port}`);
  const used = (await cpu(port)) - before;
  return { rps: result.requests.average, cpuUs: used / result.requests.total };
}

const median = (values: number[]) => [...values].sort((x, y) => x - y)[Math.floor(values.length / 2)] as number;
const ports = Object.fromEntries(await Promise.all(MODES.map(async (m) => [m, await start(m)]))) as Record<
  Mode,
  number
>;
for (const mode of MODES) await rps(ports[mode], 2);
const samples = Object.fromEntries(MODES.map((m) => [m, [] as { rps: number; cpuUs: number }[]])) as Record<
  Mode,
  { rps: number; cpuUs: number }[]
>;
for (let round = 0; round < ROUNDS; round++) {
  for (let i = 0; i < MODES.length; i++) {
    const mode = MODES[(i + round) % MODES.length] as Mode;
    samples[mode].push(await rps(ports[mode], DURATION));
  }
}
console.log(`${ROUNDS} rounds x ${DURATION} s, ${CONNECTIONS} connections${pin ? ', server on core 1' : ''}`);
console.log('mode              req/s  x none   CPU us/req  x none');
for (const mode of MODES) {
  const base = samples.none;
  const rate = median(samples[mode].map((s, i) => s.rps / (base[i]?.rps ?? 1)));
  const cost = median(samples[mode].map((s, i) => s.cpuUs / (base[i]?.cpuUs ?? 1)));
  console.log(
    `${mode.padEnd(14)} ${String(Math.round(median(samples[mode].map((s) => s.rps)))).padStart(8)}  ${rate.toFixed(2).padStart(6)}` +
      `  ${median(samples[mode].map((s) => s.cpuUs))
        .toFixed(1)
        .padStart(10)}  ${cost.toFixed(2).padStart(6)}`,
  );
}
process.exit(0);
