import { type ChildProcess, spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { promises as dns } from 'node:dns';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const DNSMASQ = process.env.DNSMASQ_BIN ?? '/usr/sbin/dnsmasq';

/** A DNS server on a loopback port answering from a hosts file (reloadable) and fixed SRV records. */
export interface DnsServer {
  /** `127.0.0.1:<port>`, for `setServers`. */
  readonly server: string;
  /** Rewrites the hosts file (`address name` lines) and tells dnsmasq to read it again (SIGHUP). */
  setHosts(lines: readonly string[]): Promise<void>;
  stop(): Promise<void>;
}

function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.on('error', reject);
    socket.bind(0, '127.0.0.1', () => {
      const { port } = socket.address();
      socket.close(() => resolve(port));
    });
  });
}

/**
 * Starts Debian's dnsmasq (`/usr/sbin/dnsmasq`, or `DNSMASQ_BIN`) on a free
 * loopback port in a temp dir: no upstream, no /etc/hosts, records only from
 * `hosts` and `srv` (`--srv-host` values: `name,target,port[,priority,weight]`),
 * every answer with TTL `ttlSeconds`.
 *
 * @example
 * const server = await startDnsmasq({ hosts: ['127.0.0.1 pricing-0.test'], srv: ['_http._tcp.pricing.test,pricing-0.test,8080'] });
 */
export async function startDnsmasq(options: {
  hosts: readonly string[];
  srv?: readonly string[];
  ttlSeconds?: number;
}): Promise<DnsServer> {
  if (!existsSync(DNSMASQ))
    throw new Error(`no dnsmasq at ${DNSMASQ}: apt-get install -y dnsmasq (or set DNSMASQ_BIN)`);
  const dir = await mkdtemp(join(tmpdir(), 'smart-dns-'));
  // dnsmasq drops to user nobody: it must be able to read the hosts file again on SIGHUP.
  await chmod(dir, 0o755);
  const hostsFile = join(dir, 'hosts');
  const writeHosts = async (lines: readonly string[]) => {
    await writeFile(hostsFile, `${lines.join('\n')}\n`);
    await chmod(hostsFile, 0o644);
  };
  await writeHosts(options.hosts);
  // A free UDP port may still be taken for TCP (dnsmasq binds both), or taken by a test
  // running at the same time before dnsmasq binds it: another port, a few times.
  let launched: Awaited<ReturnType<typeof launch>> | undefined;
  for (let attempt = 1; !launched; attempt++) {
    try {
      launched = await launch(await freeUdpPort(), dir, hostsFile, options);
    } catch (err) {
      if (attempt >= 5 || !String(err).includes('in use')) {
        await rm(dir, { recursive: true, force: true });
        throw err;
      }
    }
  }
  const { server, child, stop: stopChild } = launched;
  const stop = async () => {
    await stopChild();
    await rm(dir, { recursive: true, force: true });
  };
  return {
    server,
    async setHosts(lines) {
      await writeHosts(lines);
      child.kill('SIGHUP');
      await sleep(100); // dnsmasq reads the file on its next turn
    },
    stop,
  };
}

// One dnsmasq on `port`, resolved once it answers; rejected (and stopped) if it exits or never answers.
async function launch(
  port: number,
  dir: string,
  hostsFile: string,
  options: { srv?: readonly string[]; ttlSeconds?: number },
): Promise<{ server: string; child: ChildProcess; stop: () => Promise<void> }> {
  const args = [
    '--no-daemon',
    '--conf-file=/dev/null',
    `--port=${port}`,
    '--listen-address=127.0.0.1',
    '--bind-interfaces',
    '--no-resolv',
    '--no-hosts',
    `--addn-hosts=${hostsFile}`,
    `--local-ttl=${options.ttlSeconds ?? 2}`,
    // Names under .test are this server's: one it does not know is NXDOMAIN, as a cluster DNS answers.
    '--local=/test/',
    `--pid-file=${join(dir, 'pid')}`,
    ...(options.srv ?? []).map((record) => `--srv-host=${record}`),
  ];
  const output: string[] = [];
  const child: ChildProcess = spawn(DNSMASQ, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.on('data', (c) => output.push(String(c)));
  child.stderr?.on('data', (c) => output.push(String(c)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));

  const server = `127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
  };

  // Up when it answers: any answer (even "not found") will do.
  const probe = new dns.Resolver({ timeout: 200, tries: 1 });
  probe.setServers([server]);
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      await probe.resolve4('probe.invalid');
      break;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'ENOTFOUND' || code === 'ENODATA' || code === 'EREFUSED') break;
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      await stop();
      throw new Error(`dnsmasq did not start on ${server}: ${output.join('')}`);
    }
    await sleep(50);
  }
  return { server, child, stop };
}
