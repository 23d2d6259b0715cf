import { connect } from 'node:net';

/**
 * Sends one line to an HAProxy CLI socket (the runtime API's stats socket,
 * or the master CLI) and answers what HAProxy wrote back before closing.
 * Commands may be chained with `;` on one line (one connection). The
 * sidecar only ever sends words it built from checked values: no registry
 * text reaches a command unchecked.
 *
 * @example
 * await cliCommand('/run/sidecar/master.sock', '@1 show servers state svc_users');
 */
export function cliCommand(socketPath: string, line: string, timeoutMs = 5_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    socket.on('connect', () => socket.end(`${line}\n`));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
  });
}

/** One row of `show servers state`: a server's slot, address and states. */
export interface ServerState {
  readonly backend: string;
  readonly server: string;
  readonly address: string;
  readonly port: number;
  /** 0 stopped, 1 starting, 2 running, 3 stopping. */
  readonly operational: number;
  /** Admin flags: 0x01 forced maintenance, 0x08 forced drain, ... */
  readonly admin: number;
}

/**
 * Parses `show servers state` (format 1: a version line, a `#` header,
 * then one space-separated row per server).
 *
 * @example
 * parseServersState(await cliCommand(sock, 'show servers state')).filter((s) => s.operational === 2);
 */
export function parseServersState(text: string): ServerState[] {
  const rows: ServerState[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(' ');
    if (fields.length < 19 || line.startsWith('#')) continue;
    rows.push({
      backend: fields[1] as string,
      server: fields[3] as string,
      address: fields[4] as string,
      operational: Number(fields[5]),
      admin: Number(fields[6]),
      port: Number(fields[18]),
    });
  }
  return rows;
}

/** One worker in the master's `show proc`. */
export interface Worker {
  readonly pid: number;
  /** How many reloads ago it was started: 0 for the current worker. */
  readonly reloads: number;
}

/** The master's `show proc`: its own pid and reload counts, and its workers, current first. */
export function parseShowProc(text: string): { master: number; reloads: number; failed: number; workers: Worker[] } {
  let master = 0;
  let reloads = 0;
  let failed = 0;
  const workers: Worker[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields[1] === 'master') {
      master = Number(fields[0]);
      reloads = Number(fields[2]);
      failed = Number(/failed: (\d+)/.exec(line)?.[1] ?? 0);
    } else if (fields[1] === 'worker') {
      workers.push({ pid: Number(fields[0]), reloads: Number(fields[2]) });
    }
  }
  workers.sort((a, b) => a.reloads - b.reloads);
  return { master, reloads, failed, workers };
}
