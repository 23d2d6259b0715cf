// The load generator of `pnpm bench` and `pnpm bench:profile`: wrk when it is installed
// (Debian's wrk: C, one thread, keeps even bare node:http saturated), else autocannon (one
// Node.js thread, itself the limit near 35,000 req/s). BENCH_LOAD=wrk|autocannon picks one.
import { spawn, spawnSync } from 'node:child_process';
import autocannon from 'autocannon';

export const LOADER = process.env.BENCH_LOAD ?? (spawnSync('wrk', ['--version']).error ? 'autocannon' : 'wrk');

export interface Load {
  requests: number;
  rps: number;
  /** Latency percentiles, milliseconds. */
  p50: number;
  p99: number;
}

/** Loads `GET /` on a loopback port for `seconds`; any failed request (error, timeout, non-2xx) throws. */
export function loadServer(port: number, seconds: number, connections: number): Promise<Load> {
  return LOADER === 'wrk' ? wrk(port, seconds, connections) : cannon(port, seconds, connections);
}

async function cannon(port: number, seconds: number, connections: number): Promise<Load> {
  const result = await autocannon({ url: `http://127.0.0.1:${port}/`, connections, duration: seconds });
  const failures = result.errors + result.timeouts + result.non2xx;
  if (failures > 0) throw new Error(`${failures} failed requests on port ${port}`);
  return {
    requests: result.requests.total,
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
  };
}

async function wrk(port: number, seconds: number, connections: number): Promise<Load> {
  const child = spawn('wrk', ['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', `http://127.0.0.1:${port}/`]);
  let out = '';
  child.stdout.on('data', (chunk) => {
    out += chunk;
  });
  child.stderr.on('data', (chunk) => {
    out += chunk;
  });
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  const failures = /Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? /Socket errors: .*/.exec(out)?.[0];
  const total = /(\d+) requests in/.exec(out)?.[1];
  if (code !== 0 || failures || !total) throw new Error(`wrk on port ${port} failed:\n${out}`);
  const ms = (label: string) => {
    const [, value, unit] = new RegExp(`${label}%\\s+([\\d.]+)(us|ms|s)`).exec(out) ?? [];
    return Number(value) * (unit === 'us' ? 0.001 : unit === 's' ? 1000 : 1);
  };
  return { requests: Number(total), rps: Number(total) / seconds, p50: ms('50'), p99: ms('99') };
}
