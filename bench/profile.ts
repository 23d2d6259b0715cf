// `pnpm bench:profile`: where a smart-service request's CPU goes, by feature.
// Runs the (c) server of `pnpm bench` (smart-service, every default) under
// --cpu-prof on core 1, loads it from core 0 with wrk (else autocannon: servers/load.ts), and sorts every
// profile sample taken while serving (start-up excluded) into the feature
// whose code it was in: the innermost frame of the sample's stack that
// belongs to a feature decides (pino's frames under the access line count
// for the access line, node:http's under Fastify's reply for node:http).
// Prints each feature's share and its microseconds per request (the share
// of the server's CPU time per request, as /proc counts it, profiler
// included), and writes the profile to open in Chrome DevTools or
// speedscope for a flame graph.
//
//   BENCH_DURATION seconds (10)  BENCH_CONNECTIONS (50)  BENCH_PROFILE_DIR (a temp folder)
//   BENCH_SERVER (smart-service: a file of servers/, e.g. fastify-bare to compare)
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LOADER, loadServer } from './servers/load.ts';
import { processCpuUs } from './servers/process-cpu.ts';

const DURATION = Number(process.env.BENCH_DURATION ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const dir = process.env.BENCH_PROFILE_DIR ?? mkdtempSync(join(tmpdir(), 'smart-profile-'));

// Features, by the code their frames are in. The first that matches a frame names it.
const FEATURES: [name: string, frame: RegExp][] = [
  ["request's logger", /requestLogger|ChildLogger|validateLogger|pino\/lib\/proto/],
  // The line, and the write of each turn's lines (TurnBatchedStdout, sonic-boom, the system call).
  ['access log line', /writeAccessLine|smart-service\/src\/logger\.ts|sonic-boom|^writeString /],
  ['request id', /requestIdFor|randomUUID/],
  ['async context', /async_context_frame|async_local_storage|runInRequest/],
  ['metrics', /plugins\/metrics\.ts|request-histogram|prom-client/],
  ['request lifecycle (in-flight, deadline, header)', /plugins\/request-lifecycle\.ts|routeOf/],
  ['protection (limit, depth, rate)', /plugins\/protection\.ts|concurrency-limit|rate-limit|under-pressure/],
  ['fault injection', /plugins\/faults\.ts/],
  ['tracing', /plugins\/tracing|@opentelemetry/],
  ['problem errors', /problem-errors|plugins\/errors/],
  ['Atlas', /plugins\/atlas|atlas-client/],
  ['the route handler', /bench\/servers\//],
  ['Fastify', /\/fastify\/|find-my-way|fast-json-stringify|avvio|@fastify\//],
  [
    'node:http, sockets, streams',
    /node:_http|node:net|node:internal\/streams|node:stream|stream_base|writeUtf8String|writev|node:events|node:internal\/http/,
  ],
  ['garbage collection', /\(garbage collector\)/],
];
const STARTUP = /wrapSafe|compileSource|node:internal\/modules|ModuleJob|internal\/main/;

// Decided once: inside the pinned copy availableParallelism() reports 1.
const canPin = availableParallelism() >= 2 && spawnSync('taskset', ['-V']).status === 0;
// The load generator (this process) on core 0, the server on core 1.
if (canPin) spawnSync('taskset', ['-pc', '0', String(process.pid)]);
const name = process.env.BENCH_SERVER ?? 'smart-service';
const server = fileURLToPath(new URL(`./servers/${name}.ts`, import.meta.url));
const [command, args] = canPin
  ? ['taskset', ['-c', '1', process.execPath, '--cpu-prof', `--cpu-prof-dir=${dir}`, server]]
  : [process.execPath, ['--cpu-prof', `--cpu-prof-dir=${dir}`, server]];
const child = spawn(command as string, args as string[], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
const port = await new Promise<number>((resolve, reject) => {
  child.once('message', (message: { port: number }) => resolve(message.port));
  child.once('exit', (code) => reject(new Error(`the server exited with ${code}`)));
});
const cpuUs = () => processCpuUs(child.pid);
await loadServer(port, 2, CONNECTIONS); // warm-up
const before = cpuUs();
const result = await loadServer(port, DURATION, CONNECTIONS);
const perRequest = (cpuUs() - before) / result.requests;
// Disconnecting makes the server exit normally, which writes the profile.
child.disconnect();
await new Promise((resolve) => child.once('exit', resolve));

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string };
  children?: number[];
}
const file = readdirSync(dir).find((name) => name.endsWith('.cpuprofile'));
if (!file) throw new Error(`no profile was written to ${dir}`);
const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
};
const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
const parents = new Map<number, number>();
for (const node of profile.nodes) for (const id of node.children ?? []) parents.set(id, node.id);
const frameOf = (node: ProfileNode) => `${node.callFrame.functionName} ${node.callFrame.url}`;

// Each sample's stack, from the leaf up: start-up samples are dropped, idle ones not counted.
const totals = new Map<string, number>();
const unsorted = new Map<string, number>(); // leaf frames of the samples no feature claimed
let busy = 0;
for (let i = 0; i < profile.samples.length; i++) {
  const leaf = nodes.get(profile.samples[i] as number) as ProfileNode;
  if (leaf.callFrame.functionName === '(idle)') continue;
  let feature: string | undefined;
  let startup = false;
  for (let id: number | undefined = leaf.id; id !== undefined; id = parents.get(id)) {
    const frame = frameOf(nodes.get(id) as ProfileNode);
    if (STARTUP.test(frame)) {
      startup = true;
      break;
    }
    feature ??= FEATURES.find(([, pattern]) => pattern.test(frame))?.[0];
  }
  if (startup) continue;
  const time = profile.timeDeltas[i] ?? 0;
  busy += time;
  const name = feature ?? 'other (V8, timers, microtasks)';
  if (!feature) {
    const frame = `${leaf.callFrame.functionName || '(anonymous)'} ${leaf.callFrame.url.replace(/.*node_modules\//, '')}`;
    unsorted.set(frame, (unsorted.get(frame) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  totals.set(name, (totals.get(name) ?? 0) + time);
}

console.log(
  `${name}: ${Math.round(result.rps)} req/s under the profiler, ` +
    `${perRequest.toFixed(1)} us CPU per request (profiler included), ${DURATION} s, ${CONNECTIONS} connections (${LOADER})`,
);
console.log(`\n${'feature'.padEnd(50)}${'share'.padStart(8)}${'us/request'.padStart(12)}`);
for (const [name, time] of [...totals].sort((a, b) => b[1] - a[1])) {
  const share = time / busy;
  console.log(
    `${name.padEnd(50)}${`${(share * 100).toFixed(1)}%`.padStart(8)}${(share * perRequest).toFixed(2).padStart(12)}`,
  );
}
console.log('\nthe largest leaf frames of "other":');
for (const [frame, time] of [...unsorted].sort((a, b) => b[1] - a[1]).slice(0, 8)) {
  console.log(`  ${`${((time / busy) * 100).toFixed(1)}%`.padStart(6)}  ${frame}`);
}
console.log(`\nprofile: ${join(dir, file)} (open in Chrome DevTools > Performance, or speedscope)`);
