// `pnpm bench:atlas`: how fast a config change reaches 100 watching clients
// (p50/p99 over repeated changes), and how many instance heartbeats per
// second one Atlas process on Postgres holds. Atlas runs pinned to core 1
// (the clients share the machine). Uses DATABASE_URL, or starts a throwaway Postgres.
//
//   BENCH_WATCHERS (100)  BENCH_CHANGES (20)  BENCH_HEARTBEAT_SECONDS (5)  BENCH_HEARTBEAT_CONCURRENCY (32)
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAtlasClient } from 'atlas-client';
import pg from 'pg';

const WATCHERS = Number(process.env.BENCH_WATCHERS ?? 100);
const CHANGES = Number(process.env.BENCH_CHANGES ?? 20);
const HEARTBEAT_SECONDS = Number(process.env.BENCH_HEARTBEAT_SECONDS ?? 5);
const CONCURRENCY = Number(process.env.BENCH_HEARTBEAT_CONCURRENCY ?? 32);
const TOKEN = 'bench-admin-token-0123456789';
const root = fileURLToPath(new URL('..', import.meta.url));

const cleanups: (() => void)[] = [];
process.on('exit', () => {
  for (const cleanup of cleanups.reverse()) cleanup();
});
process.on('SIGINT', () => process.exit(130));

let databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) {
  const dir = mkdtempSync(join(tmpdir(), 'atlas-bench-'));
  const out = execFileSync('bash', [join(root, 'scripts/test-servers.sh'), 'start', dir, 'postgres'], {
    encoding: 'utf8',
  });
  databaseUrl = out
    .split('\n')
    .find((line) => line.startsWith('DATABASE_URL='))
    ?.slice('DATABASE_URL='.length);
  cleanups.push(() => execFileSync('bash', [join(root, 'scripts/test-servers.sh'), 'stop', dir]));
}
const admin = new pg.Client({ connectionString: databaseUrl });
await admin.connect();
const dbName = `atlas_bench_${process.pid}`;
await admin.query(`drop database if exists ${dbName} with (force)`);
await admin.query(`create database ${dbName}`);
await admin.end();
const url = new URL(databaseUrl as string);
url.pathname = `/${dbName}`;

const pin = availableParallelism() >= 2;
const server = fileURLToPath(new URL('./servers/atlas.ts', import.meta.url));
const child = spawn(pin ? 'taskset' : process.execPath, pin ? ['-c', '1', process.execPath, server] : [server], {
  stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  env: {
    PATH: process.env.PATH,
    SMART_REALM: 'testing',
    SMART_DB__URL: url.toString(),
    SMART_DB__POOL_MAX: '20',
    SMART_ATLAS__MASTER_KEY: 'b'.repeat(64),
    SMART_ATLAS__ADMIN_TOKEN: TOKEN,
    // The bench's instances register on loopback, refused outside realm local unless allow-listed.
    SMART_ATLAS__ALLOWED_HOSTS: JSON.stringify({ testing: ['127.0.0.0/8'] }),
    SMART_LOG__LEVEL: 'warn',
  },
});
cleanups.push(() => child.kill('SIGKILL'));
const port = await new Promise<number>((resolve, reject) => {
  child.once('message', (m: { port: number }) => resolve(m.port));
  child.once('exit', (code) => reject(new Error(`atlas exited with ${code}`)));
});
const base = `http://127.0.0.1:${port}`;
console.log(`atlas bench: Atlas on Postgres${pin ? ', pinned to core 1' : ''}`);

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
};

// 1. Fan-out: one change, WATCHERS watching clients.
const writer = createAtlasClient({ url: base, token: TOKEN });
await writer.setConfig('bench', 'testing', 'value', 0);
const clients = Array.from({ length: WATCHERS }, () => createAtlasClient({ url: base, token: TOKEN, waitMs: 30_000 }));
let expected = 0;
let changedAt = 0;
let pending: { count: number; done: () => void } | undefined;
const latencies: number[] = [];
let ready = 0;
const watches = clients.map((client) =>
  client.watchConfig('bench', 'testing', (config) => {
    if (config.values.value === 0) {
      ready++;
      return;
    }
    if (config.values.value !== expected || !pending) return;
    latencies.push(performance.now() - changedAt);
    pending.count--;
    if (pending.count === 0) pending.done();
  }),
);
while (ready < WATCHERS) await new Promise((resolve) => setTimeout(resolve, 20));
await new Promise((resolve) => setTimeout(resolve, 300)); // every watcher is now waiting at Atlas
for (let change = 1; change <= CHANGES; change++) {
  expected = change;
  const all = new Promise<void>((resolve) => {
    pending = { count: WATCHERS, done: resolve };
  });
  changedAt = performance.now();
  await writer.setConfig('bench', 'testing', 'value', change);
  await all;
  await new Promise((resolve) => setTimeout(resolve, 150)); // let every watch re-arm (the poll floor is 100 ms)
}
await Promise.all(watches.map((w) => w.stop()));
await Promise.all(clients.map((c) => c.close()));
console.log(
  `config change to ${WATCHERS} watchers (${CHANGES} changes, ms from the write starting): ` +
    `p50 ${percentile(latencies, 50).toFixed(1)}  p99 ${percentile(latencies, 99).toFixed(1)}  max ${Math.max(...latencies).toFixed(1)}`,
);

// 2. Heartbeats: CONCURRENCY loops re-registering 500 instances for HEARTBEAT_SECONDS.
let beats = 0;
let failures = 0;
const until = Date.now() + HEARTBEAT_SECONDS * 1_000;
await Promise.all(
  Array.from({ length: CONCURRENCY }, async (_, worker) => {
    let n = worker;
    while (Date.now() < until) {
      const id = `i-${n % 500}`;
      n += CONCURRENCY;
      try {
        await writer.register({
          service: 'bench',
          id,
          realm: 'testing',
          host: '127.0.0.1',
          port: 10_000 + (n % 500),
          ttlSeconds: 30,
        });
        beats++;
      } catch {
        failures++;
      }
    }
  }),
);
console.log(
  `heartbeats: ${Math.round(beats / HEARTBEAT_SECONDS)}/s held by one Atlas process (${CONCURRENCY} concurrent, 500 instances, ${failures} failed)`,
);
await writer.close();
process.exit(failures > 0 ? 1 : 0);
