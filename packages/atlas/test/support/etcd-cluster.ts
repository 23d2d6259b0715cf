import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const ETCD = process.env.ETCD_BIN ?? '/usr/bin/etcd';

/** A free loopback port (a listener on port 0, closed again). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

/** One etcd member: a plain process on loopback ports. */
export interface EtcdMember {
  readonly name: string;
  readonly clientUrl: string;
  process: ChildProcess | undefined;
  /** What it wrote to stderr (errors only). */
  readonly log: string[];
}

/** A throwaway etcd cluster in a temp dir. */
export interface EtcdCluster {
  readonly endpoints: string[];
  readonly members: EtcdMember[];
  /** Kills a member at once (SIGKILL: no goodbye to its peers). */
  kill(index: number): Promise<void>;
  /** Stops every member and removes the data. */
  stop(): Promise<void>;
}

async function healthy(url: string, deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1_000) });
      if (res.ok && ((await res.json()) as { health?: string }).health === 'true') return;
    } catch {}
    await sleep(100);
  }
  throw new Error(`etcd at ${url} did not become healthy`);
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * Starts `size` etcd members on free loopback ports (Debian's etcd-server,
 * `/usr/bin/etcd`, or `ETCD_BIN`), waits until each is healthy.
 *
 * @example
 * const cluster = await startEtcdCluster(3);
 * afterAll(() => cluster.stop());
 */
export async function startEtcdCluster(size = 1): Promise<EtcdCluster> {
  if (!existsSync(ETCD)) throw new Error(`no etcd at ${ETCD}: apt-get install -y etcd-server (or set ETCD_BIN)`);
  const dir = await mkdtemp(join(tmpdir(), 'atlas-etcd-'));
  // Distinct ports: a port freed a moment ago may be handed out again.
  const taken = new Set<number>();
  const distinct = async () => {
    for (;;) {
      const port = await freePort();
      if (!taken.has(port)) {
        taken.add(port);
        return port;
      }
    }
  };
  const ports = [];
  for (let i = 0; i < size; i++) ports.push({ client: await distinct(), peer: await distinct() });
  const initial = ports.map((p, i) => `m${i}=http://127.0.0.1:${p.peer}`).join(',');
  const members: EtcdMember[] = ports.map((p, i) => {
    const name = `m${i}`;
    const clientUrl = `http://127.0.0.1:${p.client}`;
    const args = [
      `--name=${name}`,
      `--data-dir=${join(dir, name)}`,
      `--listen-client-urls=${clientUrl}`,
      `--advertise-client-urls=${clientUrl}`,
      `--listen-peer-urls=http://127.0.0.1:${p.peer}`,
      `--initial-advertise-peer-urls=http://127.0.0.1:${p.peer}`,
      `--initial-cluster=${initial}`,
      '--initial-cluster-state=new',
      `--initial-cluster-token=${basename(dir)}`,
      '--logger=zap',
      '--log-outputs=stderr',
      '--log-level=error',
      // etcd grants no lease shorter than 1.5 election timeouts (1 s by default,
      // so a 1 s TTL became 2 s): a single member, which holds no elections,
      // gets a 500 ms timeout and so the 1 s leases the tests ask for.
      ...(size === 1 ? ['--heartbeat-interval=50', '--election-timeout=500'] : []),
    ];
    const child = spawn(ETCD, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    const errors: string[] = [];
    child.stderr?.on('data', (chunk) => errors.push(String(chunk)));
    child.on('error', (err) => errors.push(err.message));
    return { name, clientUrl, process: child, log: errors };
  });
  const cluster: EtcdCluster = {
    endpoints: members.map((m) => m.clientUrl),
    members,
    async kill(index) {
      const member = members[index];
      const child = member?.process;
      if (!member || !child) return;
      child.kill('SIGKILL');
      await exited(child);
      member.process = undefined;
    },
    async stop() {
      await Promise.all(
        members.map(async (member) => {
          const child = member.process;
          if (!child) return;
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
          await exited(child);
          clearTimeout(timer);
          member.process = undefined;
        }),
      );
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    const deadline = Date.now() + 30_000;
    await Promise.all(members.map((m) => healthy(m.clientUrl, deadline)));
  } catch (err) {
    await cluster.stop();
    const logs = members.map((m) => `${m.name}: ${m.log.join('').slice(-2_000)}`).join('\n');
    throw new Error(`${(err as Error).message}\n${logs}`);
  }
  return cluster;
}
