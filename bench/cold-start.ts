// Cold start to first answer (issue 16): `node bench/cold-start.ts`, and the
// end of `pnpm bench`. Spawns BENCH_COLD_RUNS times (10) each, alternating, a
// fresh node process for (x) bare Fastify + pino hello (servers/fastify.ts) and
// (y) smart-service hello with every default (servers/smart-service.ts: realm
// production, nothing configured), and times from spawn to the end of the first
// 200 answer (each server reports its port over IPC once listening; the runner
// then sends GET / at once). Prints the medians and y/x (the median of the
// ratios of each x, y pair, run back to back) against the 1.5x target.
//
// Node's module compile cache is measured both ways, in two blocks:
//   - off: NODE_DISABLE_COMPILE_CACHE=1, what `node src/server.ts` gets unless
//     something enables the cache;
//   - on: NODE_COMPILE_CACHE in a temporary folder primed by one start of each
//     server beforehand, what a generated service gets (its server.ts enables
//     the cache, its Docker image primes it at build).
// The target is judged on each block (x gets the same cache as y in both).
//
// The servers are not pinned to a core (run.ts pins its load generator to
// core 0, and a start is one process while the runner waits): a start may use
// both cores, as it does in production (under run.ts, whose process is pinned,
// they are spawned through taskset onto every core). `node bench/cold-start.ts --modules` also lists, per server, the
// packages a start loads (files, KiB of source, who imported each first).
//
// With BENCH_BASE_ROOT naming another checkout (as in run.ts), (e) that
// checkout's smart-service hello joins each round: before/after in one run.
//
// (p) is what users run: the same hello server on smart-service as
// published, compiled JavaScript (servers/cold-start-built.ts builds it and
// the workspace packages it needs with tsc into a temporary folder, each with
// its publish-time exports, third-party dependencies shared with the
// workspace), where (y) runs the workspace's .ts sources, type-stripped at
// each load. BENCH_COLD_BUILT=0 leaves it out.
//
//   BENCH_COLD_RUNS (10)  BENCH_BASE_ROOT (unset)  BENCH_COLD_BUILT (1)
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BuiltService, buildPublished } from './servers/cold-start-built.ts';
import type { PackageCensus } from './servers/module-census.ts';

const TARGET = 1.5;

const BASE_ROOT = process.env.BENCH_BASE_ROOT;
const SERVERS: Record<string, { label: string; file: string }> = {
  x: { label: 'Fastify + pino', file: 'fastify.ts' },
  y: { label: 'smart-service (.ts)', file: 'smart-service.ts' },
  // As in run.ts: the same server in another checkout (its own smart-service sources), to compare before/after.
  ...(BASE_ROOT
    ? { e: { label: 'smart, base checkout', file: join(BASE_ROOT, 'bench/servers/smart-service.ts') } }
    : {}),
};
type Name = 'x' | 'y' | 'e' | 'p';
let names = Object.keys(SERVERS) as Name[];
const label = (name: Name) => SERVERS[name]?.label ?? name;
// The targets: smart-service from its sources (y) and as published (p).
const judged: readonly Name[] = ['y', 'p'];

// Runs `body` with (p), smart-service built as published, among the servers (unless BENCH_COLD_BUILT=0).
async function withBuilt<T>(body: () => Promise<T>): Promise<T> {
  if (process.env.BENCH_COLD_BUILT === '0') return body();
  const built: BuiltService = buildPublished();
  SERVERS.p = { label: 'smart-service (built)', file: built.server };
  names = Object.keys(SERVERS) as Name[];
  try {
    return await body();
  } finally {
    delete SERVERS.p;
    names = Object.keys(SERVERS) as Name[];
    built.remove();
  }
}

/** The medians of one block (compile cache off or on), in milliseconds. */
export interface ColdStartBlock {
  readonly x: number;
  readonly y: number;
  /** The median over pairs of y/x. */
  readonly ratio: number;
  /** Unless BENCH_COLD_BUILT=0: smart-service as published (p), and p/x. */
  readonly built?: { readonly ms: number; readonly ratio: number };
  /** With BENCH_BASE_ROOT: the base checkout's smart-service (e), and e/x. */
  readonly base?: { readonly ms: number; readonly ratio: number };
}

/** What `coldStart()` measured. */
export interface ColdStartResult {
  readonly cacheOff: ColdStartBlock;
  readonly cacheOn: ColdStartBlock;
}

// Inside run.ts's pinned process a child would inherit its one core: give it them all back.
const unpin = availableParallelism() < cpus().length ? ['taskset', '-c', `0-${cpus().length - 1}`] : [];
const serverFile = (name: Name) => {
  const file = SERVERS[name]?.file as string;
  return file.startsWith('/') ? file : fileURLToPath(new URL(`./servers/${file}`, import.meta.url));
};

function get(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
    });
    req.once('error', reject);
    req.end();
  });
}

interface Start {
  readonly ms: number;
  readonly census?: PackageCensus[];
  /** smart-service's start-up marks (servers/smart-service.ts), ms since the process started. */
  readonly phases?: Record<string, number>;
}

// The phases printed, each as [name, mark it ends at, mark it starts at].
const PHASES: readonly [string, string, string | undefined][] = [
  ['node', 'bootstrap', undefined],
  ['imports', 'create', 'bootstrap'],
  ['config', 'config', 'create'],
  ['fastify', 'fastify', 'config'],
  ['plugins', 'plugins', 'fastify'],
  ['routes+ready', 'ready', 'plugins'],
  ['listen', 'listening', 'ready'],
];

// One start's phases in ms, the last one (spawn, IPC and the first answer) from the runner's total.
function phasesOf(start: Start): Record<string, number> | undefined {
  const marks = start.phases;
  if (!marks || PHASES.some(([, end]) => marks[end] === undefined)) return undefined;
  const out: Record<string, number> = {};
  for (const [name, end, begin] of PHASES) out[name] = (marks[end] as number) - (begin ? (marks[begin] as number) : 0);
  out['spawn+answer'] = start.ms - (marks.listening as number);
  return out;
}

/** Spawns one server and times spawn to its first 200; stops it before resolving. */
async function startOnce(name: Name, env: NodeJS.ProcessEnv, flags: string[] = []): Promise<Start> {
  const started = performance.now();
  const [command, ...args] = [...unpin, process.execPath, ...flags, serverFile(name)];
  const child = spawn(command as string, args, { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], env });
  try {
    return await new Promise<Start>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${label(name)} did not answer in 30 s`)), 30_000);
      child.once('exit', (code) => reject(new Error(`${label(name)} exited with ${code}`)));
      child.once('message', async (message: { port: number; phases?: Record<string, number> }) => {
        try {
          const status = await get(message.port);
          const ms = performance.now() - started;
          if (status !== 200) throw new Error(`${label(name)} answered ${status}`);
          if (!flags.length) return resolve({ ms, ...(message.phases ? { phases: message.phases } : {}) });
          child.send('census');
          child.once('message', (reply: { census: PackageCensus[] }) => resolve({ ms, census: reply.census }));
        } catch (err) {
          reject(err);
        } finally {
          clearTimeout(timer);
        }
      });
    });
  } finally {
    // Closing the IPC channel makes the server exit normally (servers/report.ts):
    // Node writes the compile cache at exit, which a killed process never does.
    const exited = new Promise((resolve) => child.once('exit', resolve));
    const kill = setTimeout(() => child.kill('SIGKILL'), 5_000);
    if (child.connected) child.disconnect();
    else child.kill('SIGKILL');
    await exited;
    clearTimeout(kill);
  }
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length / 2;
  return sorted.length % 2
    ? (sorted[Math.floor(middle)] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};

async function block(runs: number, env: NodeJS.ProcessEnv, cache: string): Promise<ColdStartBlock> {
  const times: Record<Name, number[]> = { x: [], y: [], e: [], p: [] };
  const phases: Partial<Record<Name, Record<string, number>[]>> = {};
  for (let i = 0; i < runs; i++) {
    // Rotate which goes first, so a round's drift falls on every server alike.
    for (const name of names.map((_, j) => names[(i + j) % names.length] as Name)) {
      const start = await startOnce(name, env);
      times[name].push(start.ms);
      const split = phasesOf(start);
      if (split) phases[name] = [...(phases[name] ?? []), split];
    }
  }
  const ratioTo = (name: Name) => median(times[name].map((ms, i) => ms / (times.x[i] as number)));
  const range = (ms: number[]) => `${Math.round(Math.min(...ms))}-${Math.round(Math.max(...ms))}`;
  console.log(`  compile cache ${cache}:`);
  for (const name of names) {
    const ratio = name === 'x' ? '' : `  ${name}/x ${ratioTo(name).toFixed(2)}`;
    const verdict = judged.includes(name)
      ? `  target <= ${TARGET}: ${ratioTo(name) <= TARGET ? 'met' : 'NOT met'}`
      : '';
    console.log(
      `    (${name}) ${label(name).padEnd(24)}${String(Math.round(median(times[name]))).padStart(6)} ms (${range(times[name])})${ratio}${verdict}`,
    );
    // Where a smart-service start goes, phase by phase (medians of each phase: they need not add up).
    const split = phases[name];
    if (split?.length) {
      const keys = Object.keys(split[0] as Record<string, number>);
      const medians = keys.map((key) => `${key} ${median(split.map((one) => one[key] as number)).toFixed(1)}`);
      console.log(`        phases, ms: ${medians.join(' · ')}`);
    }
  }
  return {
    x: median(times.x),
    y: median(times.y),
    ratio: ratioTo('y'),
    ...(times.e.length ? { base: { ms: median(times.e), ratio: ratioTo('e') } } : {}),
    ...(times.p.length ? { built: { ms: median(times.p), ratio: ratioTo('p') } } : {}),
  };
}

/**
 * Measures cold start to first answer, compile cache off then on, and prints
 * the figures (run.ts calls it at its end).
 *
 * @example
 * const { cacheOff } = await coldStart({ runs: 5 });
 * console.log(cacheOff.ratio);
 */
export async function coldStart(options: { runs?: number } = {}): Promise<ColdStartResult> {
  const runs = options.runs ?? Number(process.env.BENCH_COLD_RUNS ?? 10);
  return withBuilt(() => measure(runs));
}

async function measure(runs: number): Promise<ColdStartResult> {
  const load = loadavg().map((n) => n.toFixed(2));
  console.log(`\ncold start to first answer: ${runs} starts each, alternating, ` + `load average ${load.join(' ')}`);
  const { NODE_COMPILE_CACHE: _on, NODE_DISABLE_COMPILE_CACHE: _off, ...base } = process.env;
  const cacheOff = await block(runs, { ...base, NODE_DISABLE_COMPILE_CACHE: '1' }, 'off');
  const dir = mkdtempSync(join(tmpdir(), 'smart-cold-start-'));
  try {
    const env = { ...base, NODE_COMPILE_CACHE: dir };
    for (const name of names) await startOnce(name, env); // primes the cache
    const cacheOn = await block(runs, env, 'on');
    return { cacheOff, cacheOn };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Lists the packages one start of each server loads, heaviest first. */
export async function moduleCensus(): Promise<void> {
  const preload = fileURLToPath(new URL('./servers/module-census.ts', import.meta.url));
  await withBuilt(() => census(preload));
}

async function census(preload: string): Promise<void> {
  for (const name of names) {
    const { ms, census = [] } = await startOnce(name, { ...process.env, NODE_DISABLE_COMPILE_CACHE: '1' }, [
      '--import',
      preload,
    ]);
    const files = census.reduce((sum, p) => sum + p.files, 0);
    const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;
    console.log(
      `\n(${name}) ${label(name)}: ${files} files, ${kib(census.reduce((sum, p) => sum + p.bytes, 0))} of source, first answer ${Math.round(ms)} ms (with the census hooks)`,
    );
    for (const p of census) {
      console.log(
        `  ${p.name.padEnd(40)}${String(p.files).padStart(5)}${kib(p.bytes).padStart(10)}  <- ${p.importedBy}`,
      );
    }
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.includes('--modules')) await moduleCensus();
  await coldStart();
}
