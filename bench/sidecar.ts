// `pnpm bench:sidecar`: what a call through the local sidecar (HAProxy kept in
// step with Atlas by smart-sidecar) adds over a direct smart-client call, in
// one run: three upstream instances registered in a real Atlas; smart-client
// resolving them from Atlas and balancing itself (direct), and smart-client
// with the sidecar resolver (every call to HAProxy on loopback with
// x-smart-service, HAProxy balancing), alternated over rounds at 50
// concurrent calls; throughput, p50/p99 and the added latency.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { createAtlasClient } from 'atlas-client';
import pg from 'pg';
import { createAtlas } from 'smart-atlas';
import { atlasResolver, createClient, sidecarResolver } from 'smart-client';
import { createSidecar, Haproxy } from 'smart-sidecar';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SECONDS = Number(process.env.BENCH_DURATION ?? 4);
const CONCURRENCY = 50;
const pin = availableParallelism() >= 2;
// The load (this process) on core 0; the upstreams and HAProxy on core 1.
if (pin) execFileSync('taskset', ['-a', '-cp', '0', String(process.pid)], { stdio: 'ignore' });
const children: ChildProcess[] = [];
const dir = mkdtempSync(join(tmpdir(), 'bench-sidecar-'));
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});
const quiet = new Writable({ write: (_chunk, _encoding, done) => done() });

async function upstream(): Promise<number> {
  const file = fileURLToPath(new URL('./servers/upstream.ts', import.meta.url));
  const child = spawn(pin ? 'taskset' : process.execPath, pin ? ['-c', '1', process.execPath, file] : [file], {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  children.push(child);
  return new Promise<number>((resolve) => child.once('message', (m: { port: number }) => resolve(m.port)));
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function load(call: () => Promise<unknown>, seconds: number, concurrency = CONCURRENCY) {
  const latencies: number[] = [];
  let failed = 0;
  const until = performance.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        const started = performance.now();
        try {
          await call();
        } catch {
          failed++;
        }
        latencies.push(performance.now() - started);
      }
    }),
  );
  latencies.sort((a, b) => a - b);
  const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0;
  return { rps: latencies.length / seconds, p50: at(50), p99: at(99), failed };
}
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;

// Atlas on a database of its own when DATABASE_URL names a Postgres server, else on its embedded one.
async function atlasDatabase(): Promise<Record<string, string>> {
  const base = process.env.DATABASE_URL;
  if (!base) return {};
  const name = `bench_sidecar_${process.pid}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`drop database if exists ${name} with (force)`);
  await admin.query(`create database ${name}`);
  await admin.end();
  dropDatabase = async () => {
    const client = new pg.Client({ connectionString: base });
    await client.connect();
    await client.query(`drop database if exists ${name} with (force)`);
    await client.end();
  };
  const url = new URL(base);
  url.pathname = `/${name}`;
  return { SMART_DB__URL: url.toString() };
}
let dropDatabase = async () => {};
const atlas = await createAtlas({
  realm: 'local',
  dataDir: join(dir, 'atlas'),
  env: { SMART_PROTECTION__SHEDDING__ENABLED: 'false', ...(await atlasDatabase()) },
  logDestination: quiet,
});
const atlasUrl = await atlas.listen({ port: 0, host: '127.0.0.1' });
const registry = createAtlasClient({ url: atlasUrl });
for (const [i, port] of (await Promise.all([upstream(), upstream(), upstream()])).entries()) {
  await registry.register({
    service: 'upstream',
    id: `u${i}`,
    realm: 'local',
    host: '127.0.0.1',
    port,
    ttlSeconds: 3600,
  });
}
const log = {
  info: () => {},
  warn: () => {},
  error: (detail: object, message: string) => console.error(message, detail),
};
const listenPort = await freePort();
const sidecar = await createSidecar({
  atlas: createAtlasClient({ url: atlasUrl }),
  realm: 'local',
  listen: { host: '127.0.0.1', port: listenPort },
  dir: join(dir, 'sidecar'),
  log,
});
const proc = await Haproxy.showProc(sidecar.files.masterSocket);
for (const pid of [proc?.master, ...(proc?.workers.map((w) => w.pid) ?? [])])
  if (pin && pid) execFileSync('taskset', ['-a', '-cp', '1', String(pid)], { stdio: 'ignore' });

const direct = createClient({ realm: 'local', resolver: atlasResolver(createAtlasClient({ url: atlasUrl })) });
const viaSidecar = createClient({ realm: 'local', resolver: sidecarResolver({ port: listenPort }) });
const contenders: [string, () => Promise<unknown>][] = [
  ['direct (smart-client, Atlas resolver)', () => direct.get('service://upstream/')],
  ['through the sidecar (HAProxy)', () => viaSidecar.get('service://upstream/')],
];
for (const [, call] of contenders) await load(call, 1); // warm-up
type Result = { rps: number; p50: number; p99: number; failed: number };
const rounds: Record<string, Result[]> = Object.fromEntries(contenders.map(([name]) => [name, []]));
// One call at a time: the latency a call through the sidecar adds, without queueing.
const alone: Record<string, Result[]> = Object.fromEntries(contenders.map(([name]) => [name, []]));
for (let round = 0; round < ROUNDS; round++) {
  const order = round % 2 === 0 ? contenders : [...contenders].reverse();
  for (const [name, call] of order) rounds[name]?.push(await load(call, SECONDS));
  for (const [name, call] of order) alone[name]?.push(await load(call, SECONDS / 2, 1));
}

const [load1, load5] = loadavg();
console.log(
  `sidecar bench: ${ROUNDS} rounds x ${SECONDS} s, ${CONCURRENCY} concurrent, 3 node:http upstreams` +
    `${pin ? ' and HAProxy on core 1, the client on core 0' : ''}; load average ${load1?.toFixed(1)} / ${load5?.toFixed(1)} (the machine is shared: read ratios, not absolutes)\n`,
);
console.log('| calls | req/s (median) | p50 ms | p99 ms | failed |');
console.log('| --- | ---: | ---: | ---: | ---: |');
for (const [name] of contenders) {
  const r = rounds[name] ?? [];
  console.log(
    `| ${name} | ${median(r.map((x) => x.rps)).toFixed(0)} | ${median(r.map((x) => x.p50)).toFixed(2)} | ${median(r.map((x) => x.p99)).toFixed(2)} | ${r.reduce((n, x) => n + x.failed, 0)} |`,
  );
}
const [a, b] = contenders.map(([name]) => rounds[name] ?? []) as [(typeof rounds)[string], (typeof rounds)[string]];
const ratio = median(a.map((x, i) => (b[i]?.rps ?? 0) / x.rps));
const added = median(a.map((x, i) => (b[i]?.p50 ?? 0) - x.p50));
console.log(`\nthrough the sidecar / direct, req/s: ${ratio.toFixed(2)}; added p50 latency: ${added.toFixed(2)} ms`);
const [c, d] = contenders.map(([name]) => alone[name] ?? []) as [(typeof alone)[string], (typeof alone)[string]];
console.log(
  `one call at a time, p50 / p99 ms: direct ${median(c.map((x) => x.p50)).toFixed(3)} / ${median(c.map((x) => x.p99)).toFixed(3)}, ` +
    `through the sidecar ${median(d.map((x) => x.p50)).toFixed(3)} / ${median(d.map((x) => x.p99)).toFixed(3)}; ` +
    `added p50: ${median(c.map((x, i) => (d[i]?.p50 ?? 0) - x.p50)).toFixed(3)} ms`,
);
console.log(`HAProxy reloads during the run: ${sidecar.counts.reloads}`);

await Promise.all([direct.close(), viaSidecar.close()]);
await sidecar.close();
await atlas.close();
await dropDatabase();
process.exit(0);
