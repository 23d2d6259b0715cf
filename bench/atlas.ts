// `pnpm bench:atlas`: one Atlas process under a fleet, on each store side by
// side (Postgres, then etcd): 1,000 simulated instances across 50 services
// heartbeating at the default TTL (30 s, so every 10 s), with 200 watchers on
// one service's config and 200 on the services' instances. Measured on each:
//   - config fan-out: ms from a config write starting until all 200 config
//     watchers have it (p50/p99 over repeated changes);
//   - heartbeat capacity: heartbeats/s one Atlas process holds when the
//     fleet's instances heartbeat as fast as CONCURRENCY loops can send, and
//     heartbeats per CPU second Atlas used meanwhile (its capacity on a free
//     core: the figure that holds on a shared machine).
// Atlas runs pinned to core 1 (the clients share the machine). Uses
// DATABASE_URL or starts a throwaway Postgres; starts a throwaway etcd
// member (Debian's /usr/bin/etcd). BENCH_STORES=postgres,etcd picks stores.
//
//   BENCH_INSTANCES (1000)  BENCH_SERVICES (50)  BENCH_WATCHERS (200)  BENCH_CHANGES (20)
//   BENCH_HEARTBEAT_SECONDS (5)  BENCH_HEARTBEAT_CONCURRENCY (64)
//   BENCH_ATLAS_PROFILE=<dir>: Atlas runs with `node --cpu-prof` and writes its profile there when it stops
//   BENCH_ATLAS_BASE_ROOT=<checkout>: that checkout's Atlas too (its bench/servers/atlas.ts, after its
//     `pnpm install`), before this one on each store, in the same run: rows marked "(base)"
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { type AtlasClient, createAtlasClient, type Watch } from 'atlas-client';
import pg from 'pg';
import { Pool } from 'undici';
import { startEtcdCluster } from '../packages/atlas/test/support/etcd-cluster.ts';
import { processCpuUs } from './servers/process-cpu.ts';

const INSTANCES = Number(process.env.BENCH_INSTANCES ?? 1_000);
const SERVICES = Number(process.env.BENCH_SERVICES ?? 50);
const WATCHERS = Number(process.env.BENCH_WATCHERS ?? 200);
const CHANGES = Number(process.env.BENCH_CHANGES ?? 20);
const HEARTBEAT_SECONDS = Number(process.env.BENCH_HEARTBEAT_SECONDS ?? 5);
const CONCURRENCY = Number(process.env.BENCH_HEARTBEAT_CONCURRENCY ?? 64);
const STORES = (process.env.BENCH_STORES ?? 'postgres,etcd').split(',').map((s) => s.trim());
const BASE_ROOT = process.env.BENCH_ATLAS_BASE_ROOT;
const TTL_SECONDS = 30; // Atlas's default TTL: a heartbeat every 10 s
const TOKEN = 'bench-admin-token-0123456789';
const REALM = 'testing';
const root = fileURLToPath(new URL('..', import.meta.url));

const cleanups: (() => void | Promise<void>)[] = [];
async function cleanup() {
  for (const step of cleanups.splice(0).reverse()) await step();
}
process.on('SIGINT', () => {
  cleanup().finally(() => process.exit(130));
});

const percentile = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
};

let databases = 0;
let throwawayPostgres: string | undefined;
async function postgresEnv(): Promise<Record<string, string>> {
  let databaseUrl = process.env.DATABASE_URL ?? throwawayPostgres;
  if (!databaseUrl) {
    const dir = mkdtempSync(join(tmpdir(), 'atlas-bench-'));
    const out = execFileSync('bash', [join(root, 'scripts/test-servers.sh'), 'start', dir, 'postgres'], {
      encoding: 'utf8',
    });
    databaseUrl = out
      .split('\n')
      .find((line) => line.startsWith('DATABASE_URL='))
      ?.slice('DATABASE_URL='.length);
    cleanups.push(() => {
      execFileSync('bash', [join(root, 'scripts/test-servers.sh'), 'stop', dir]);
    });
    throwawayPostgres = databaseUrl;
  }
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  const dbName = `atlas_bench_${process.pid}_${databases++}`;
  await admin.query(`drop database if exists ${dbName} with (force)`);
  await admin.query(`create database ${dbName}`);
  await admin.end();
  const url = new URL(databaseUrl as string);
  url.pathname = `/${dbName}`;
  // A heartbeat queued for a connection waits (it is capacity being measured), rather than failing at 400 ms.
  return { SMART_DB__URL: url.toString(), SMART_DB__POOL_MAX: '20', SMART_DB__ACQUIRE_TIMEOUT_MS: '10000' };
}

async function etcdEnv(): Promise<Record<string, string>> {
  const cluster = await startEtcdCluster(1);
  cleanups.push(() => cluster.stop());
  return {
    SMART_ATLAS__STORE: 'etcd',
    SMART_ATLAS__ETCD__ENDPOINTS: cluster.endpoints.join(','),
    SMART_ATLAS__ETCD__PREFIX: '/atlas-bench/',
  };
}

// CPU seconds a process has used (user + system): what a heartbeat costs Atlas
// whatever else the shared machine runs.
const cpuSeconds = (pid: number) => processCpuUs(pid) / 1_000_000;

async function startAtlas(
  storeEnv: Record<string, string>,
  server: string,
): Promise<{ base: string; pid: number; stop: () => Promise<void> }> {
  const pin = availableParallelism() >= 2;
  const profile = process.env.BENCH_ATLAS_PROFILE;
  const args = [...(profile ? ['--cpu-prof', `--cpu-prof-dir=${profile}`] : []), server];
  const child = spawn(pin ? 'taskset' : process.execPath, pin ? ['-c', '1', process.execPath, ...args] : args, {
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    env: {
      PATH: process.env.PATH,
      SMART_REALM: REALM,
      SMART_ATLAS__MASTER_KEY: 'b'.repeat(64),
      SMART_ATLAS__ADMIN_TOKEN: TOKEN,
      // The bench's instances register on loopback, refused outside realm local unless allow-listed.
      SMART_ATLAS__ALLOWED_HOSTS: JSON.stringify({ [REALM]: ['127.0.0.0/8'] }),
      // Measure what Atlas holds, not when the shedding guard steps in.
      SMART_PROTECTION__SHEDDING__ENABLED: 'false',
      SMART_LOG__LEVEL: 'warn',
      ...storeEnv,
    },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    // Profiled: closing the IPC channel makes Atlas exit (servers/report.ts), writing its profile.
    if (profile && child.connected) child.disconnect();
    else child.kill('SIGKILL');
    await exited;
  };
  cleanups.push(stop);
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (m: { port: number }) => resolve(m.port));
    child.once('exit', (code) => reject(new Error(`atlas exited with ${code}`)));
  });
  return { base: `http://127.0.0.1:${port}`, pid: child.pid as number, stop };
}

interface Figures {
  readonly store: string;
  readonly fanoutP50: number;
  readonly fanoutP99: number;
  readonly fanoutMax: number;
  /** The config write's own round trip (p50, max): the part of fan-out before any watcher can know. */
  readonly writeP50: number;
  readonly writeMax: number;
  readonly heartbeatsPerSecond: number;
  /** Heartbeats per CPU second Atlas used in that phase: its capacity on one free core. */
  readonly heartbeatsPerCpuSecond: number;
  readonly failures: number;
}

const instanceOf = (n: number) => ({
  service: `fleet${n % SERVICES}`,
  id: `i-${n}`,
  realm: REALM,
  host: '127.0.0.1',
  port: 10_000 + n,
  ttlSeconds: TTL_SECONDS,
});

async function fleet(store: string, base: string, pid: number): Promise<Figures> {
  const writer = createAtlasClient({ url: base, token: TOKEN, timeoutMs: 30_000 });
  let failures = 0;
  const register = async (client: AtlasClient, n: number) => {
    try {
      await client.register(instanceOf(n));
      return true;
    } catch (err) {
      if (failures++ === 0) console.log(`first failed heartbeat: ${(err as Error).message}`);
      return false;
    }
  };

  // The fleet registers, then heartbeats every TTL/3 in the background.
  for (let n = 0; n < INSTANCES; n += 50) {
    await Promise.all(Array.from({ length: Math.min(50, INSTANCES - n) }, (_, i) => register(writer, n + i)));
  }
  const steady = new AbortController();
  const background = (async () => {
    let n = 0;
    while (!steady.signal.aborted) {
      void register(writer, n++ % INSTANCES);
      await sleep((TTL_SECONDS * 1_000) / 3 / INSTANCES, undefined, { signal: steady.signal }).catch(() => {});
    }
  })();

  // 200 watchers of the services' instances (keep Atlas's blocking queries busy) and 200 of one config.
  const watchers: AtlasClient[] = [];
  const watches: Watch[] = [];
  for (let w = 0; w < WATCHERS; w++) {
    const client = createAtlasClient({ url: base, token: TOKEN, waitMs: 30_000 });
    watchers.push(client);
    watches.push(client.watchInstances(`fleet${w % SERVICES}`, REALM, () => {}));
  }
  await writer.setConfig('fleet', REALM, 'value', 0);
  let expected = 0;
  let changedAt = 0;
  let pending: { count: number; done: () => void } | undefined;
  let ready = 0;
  const latencies: number[] = [];
  const writes: number[] = [];
  for (const client of watchers) {
    watches.push(
      client.watchConfig('fleet', REALM, (config) => {
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
  }
  while (ready < WATCHERS) await sleep(20);
  await sleep(500); // every watcher is now waiting at Atlas
  for (let change = 1; change <= CHANGES; change++) {
    expected = change;
    const all = new Promise<void>((resolve) => {
      pending = { count: WATCHERS, done: resolve };
    });
    changedAt = performance.now();
    await writer.setConfig('fleet', REALM, 'value', change);
    const written = performance.now() - changedAt;
    writes.push(written);
    await all;
    if (process.env.BENCH_VERBOSE) {
      const last = latencies.slice(-WATCHERS);
      console.log(
        `change ${change}: write ${written.toFixed(1)} ms, watchers ${Math.min(...last).toFixed(1)}-${Math.max(...last).toFixed(1)} ms`,
      );
    }
    await sleep(150); // let every watch re-arm (the poll floor is 100 ms)
  }

  // Capacity: the fleet's instances heartbeat as fast as CONCURRENCY loops go. The same
  // request atlas-client sends, from a bare undici pool with the bodies made beforehand,
  // so the load generator (one process, beside 400 watchers) costs as little as it can.
  const pool = new Pool(base, { connections: CONCURRENCY });
  const beatsOf = Array.from({ length: INSTANCES }, (_, n) => {
    const { service, id, ...body } = instanceOf(n);
    return { path: `/v1/services/${service}/instances/${id}`, body: JSON.stringify(body) };
  });
  const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json', accept: 'application/json' };
  const beat = async (n: number) => {
    const { path, body } = beatsOf[n % INSTANCES] as { path: string; body: string };
    try {
      const res = await pool.request({ method: 'PUT', path, headers, body });
      await res.body.dump();
      if (res.statusCode === 200) return true;
      if (failures++ === 0) console.log(`first failed heartbeat: Atlas answered ${res.statusCode}`);
    } catch (err) {
      if (failures++ === 0) console.log(`first failed heartbeat: ${(err as Error).message}`);
    }
    return false;
  };
  let beats = 0;
  const until = Date.now() + HEARTBEAT_SECONDS * 1_000;
  const started = Date.now();
  const cpuBefore = cpuSeconds(pid);
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, worker) => {
      let n = worker;
      while (Date.now() < until) {
        if (await beat(n)) beats++;
        n += CONCURRENCY;
      }
    }),
  );
  const seconds = (Date.now() - started) / 1_000;
  const cpu = cpuSeconds(pid) - cpuBefore;
  await pool.close();

  steady.abort();
  await background;
  await Promise.all(watches.map((w) => w.stop()));
  await Promise.all([...watchers, writer].map((c) => c.close()));
  return {
    store,
    fanoutP50: percentile(latencies, 50),
    fanoutP99: percentile(latencies, 99),
    fanoutMax: Math.max(...latencies),
    writeP50: percentile(writes, 50),
    writeMax: Math.max(...writes),
    heartbeatsPerSecond: Math.round(beats / seconds),
    heartbeatsPerCpuSecond: Math.round(beats / cpu),
    failures,
  };
}

const results: Figures[] = [];
const variants = [
  ...(BASE_ROOT ? [{ label: ' (base)', server: join(BASE_ROOT, 'bench/servers/atlas.ts') }] : []),
  { label: '', server: fileURLToPath(new URL('./servers/atlas.ts', import.meta.url)) },
];
try {
  for (const store of STORES) {
    for (const variant of variants) {
      // Each Atlas on a store of its own (a fresh database, a fresh etcd member).
      const env = store === 'etcd' ? await etcdEnv() : await postgresEnv();
      const atlas = await startAtlas(env, variant.server);
      console.log(
        `atlas bench: Atlas${variant.label} on ${store}${availableParallelism() >= 2 ? ', pinned to core 1' : ''}; ` +
          `${INSTANCES} instances in ${SERVICES} services (TTL ${TTL_SECONDS} s), ${WATCHERS} config + ${WATCHERS} instance watchers`,
      );
      results.push(await fleet(`${store}${variant.label}`, atlas.base, atlas.pid));
      await atlas.stop();
    }
  }
} finally {
  await cleanup();
}
const pad = (text: string | number, n: number) => String(text).padStart(n);
const width = Math.max(10, ...results.map((r) => r.store.length + 2));
console.log(
  `\n${'store'.padEnd(width)}${pad('fan-out p50', 13)}${pad('p99', 8)}${pad('max', 8)}${pad('write p50', 11)}${pad('max', 8)}${pad('heartbeats/s', 14)}` +
    `${pad('per CPU-s', 11)}${pad('CPU us/beat', 13)}${pad('failed', 8)}`,
);
for (const r of results) {
  console.log(
    `${r.store.padEnd(width)}${pad(r.fanoutP50.toFixed(1), 13)}${pad(r.fanoutP99.toFixed(1), 8)}${pad(r.fanoutMax.toFixed(1), 8)}` +
      `${pad(r.writeP50.toFixed(1), 11)}${pad(r.writeMax.toFixed(1), 8)}` +
      `${pad(r.heartbeatsPerSecond, 14)}${pad(r.heartbeatsPerCpuSecond, 11)}${pad((1e6 / r.heartbeatsPerCpuSecond).toFixed(0), 13)}` +
      `${pad(r.failures, 8)}`,
  );
}
console.log(
  `(fan-out: ms from a config write starting until each of the ${WATCHERS} watchers has it, ${CHANGES} changes; ` +
    'write: the write request itself; CPU us/beat: Atlas CPU time per heartbeat in the capacity phase)',
);
process.exit(results.some((r) => r.failures > 0) ? 1 : 0);
