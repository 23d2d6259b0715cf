// `pnpm bench:instructions`: the servers of `pnpm bench` by the machine instructions
// (user space) each spends per request, counted by valgrind's callgrind. Unlike
// seconds, an instruction count hardly moves when other work shares the machine
// (the same total twice with the other core loaded), so it shows what a change to
// the hot path saves on a busy machine, where `pnpm bench`'s ratios swing by 0.1.
// It leaves out the kernel (the socket's system calls, alike for every server) and
// what an instruction costs (cache misses, branches), so it is a steadier companion
// of `pnpm bench`, not its replacement.
//
// Each server runs under callgrind with counting off; this process sends it
// BENCH_WARMUP requests (JIT, pools) over BENCH_CONNECTIONS keep-alive connections,
// turns counting on (callgrind_control), sends BENCH_REQUESTS more, and reads the
// total. Two servers at a time, ~2 minutes each (valgrind runs them ~50x slower).
//
//   BENCH_ONLY (a,f,b,c)  BENCH_REQUESTS (10000)  BENCH_WARMUP (20000)  BENCH_CONNECTIONS (20)
import { execFile, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { Agent, get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 10_000);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 20_000);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 20);
const SERVERS: Record<string, { label: string; file: string }> = {
  a: { label: 'node:http', file: 'node-http.ts' },
  f: { label: 'Fastify, no logger', file: 'fastify-bare.ts' },
  b: { label: 'Fastify + pino', file: 'fastify.ts' },
  c: { label: 'smart-service', file: 'smart-service.ts' },
};
const run = promisify(execFile);

if (spawnSync('valgrind', ['--version']).error) {
  console.error('bench:instructions needs valgrind (Debian: apt-get install valgrind)');
  process.exit(1);
}

/** Sends `count` GET / over keep-alive connections, as fast as the server answers. */
async function send(port: number, count: number): Promise<void> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  let sent = 0;
  const loop = async () => {
    while (sent < count) {
      sent++;
      await new Promise<void>((resolve, reject) => {
        get({ host: '127.0.0.1', port, path: '/', agent }, (res) => {
          if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}`));
          res.resume();
          res.on('end', resolve);
        }).on('error', reject);
      });
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, loop));
  agent.destroy();
}

async function count(name: string): Promise<number> {
  const server = SERVERS[name] as { label: string; file: string };
  const dir = mkdtempSync(join(tmpdir(), 'smart-instructions-'));
  const file = fileURLToPath(new URL(`./servers/${server.file}`, import.meta.url));
  const child = spawn(
    'valgrind',
    ['--tool=callgrind', '--instr-atstart=no', `--callgrind-out-file=${join(dir, 'cg.%p')}`, process.execPath, file],
    { stdio: ['ignore', 'ignore', 'ignore', 'ipc'], env: { ...process.env, BENCH_OTLP_URL: 'http://127.0.0.1:9' } },
  );
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${server.label} did not start in 5 minutes`)), 300_000);
      child.once('message', (message: { port: number }) => {
        clearTimeout(timer);
        resolve(message.port);
      });
      child.once('exit', (code) => reject(new Error(`${server.label} exited with ${code}`)));
    });
    await send(port, WARMUP);
    const pid = String(child.pid);
    await run('callgrind_control', ['--instr=on', pid]);
    await send(port, REQUESTS);
    await run('callgrind_control', ['--instr=off', pid]);
    await run('callgrind_control', ['--dump', pid]);
    // valgrind writes the dump when it next looks at its commands: wait for it. It holds
    // what was counted while counting was on.
    for (let waited = 0; waited < 60_000; waited += 200) {
      for (const dump of readdirSync(dir)) {
        // The counted total (its `summary:` line stays 0 with counting switched on and off).
        const total = /^totals: (\d+)/m.exec(readFileSync(join(dir, dump), 'utf8'))?.[1];
        if (total && Number(total) > 0) return Number(total) / REQUESTS;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    throw new Error(`callgrind counted nothing for ${server.label}`);
  } finally {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

const only = process.env.BENCH_ONLY?.split(',') ?? Object.keys(SERVERS);
const names = Object.keys(SERVERS).filter((n) => only.includes(n));
console.log(
  `instructions per request (callgrind, user space): ${WARMUP} requests to warm up, then ${REQUESTS} counted, ${CONNECTIONS} connections`,
);
const counts = new Map<string, number>();
// Two at a time: valgrind runs a process on one core.
for (let i = 0; i < names.length; i += 2) {
  const batch = names.slice(i, i + 2);
  const results = await Promise.all(batch.map(count));
  batch.forEach((name, j) => {
    counts.set(name, results[j] as number);
    console.log(`  (${name}) ${(SERVERS[name]?.label ?? name).padEnd(20)} ${Math.round(results[j] as number)}`);
  });
}
const ratio = (x: string, y: string, what: string) => {
  const [cx, cy] = [counts.get(x), counts.get(y)];
  if (cx && cy) console.log(`${`${x}/${y} (${what}):`.padEnd(48)} ${(cy / cx).toFixed(2)}`);
};
ratio('c', 'a', 'smart-service / node:http');
ratio('c', 'b', 'smart-service / Fastify + pino');
ratio('c', 'f', 'smart-service / Fastify, no logger');
console.log('(a ratio is y instructions / x instructions: the throughput x would have, were instructions all)');
