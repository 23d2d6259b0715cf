// A TCP proxy on loopback in front of a real server (the shared Postgres),
// so a test can cut one service off from it without touching the server the
// rest of the suite uses: refuse (the port refuses, open connections drop,
// as when the server is stopped), reset (connections are accepted and reset
// at once, and counted) and restore. Closed when the test finishes.
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';
import { onTestFinished } from 'vitest';

/** A proxy of this test's own in front of `target`. */
export interface TcpProxy {
  /** The proxy's port on 127.0.0.1. */
  readonly port: number;
  /** Connections the proxy accepted so far (reset ones included). */
  readonly accepted: number;
  /** Drops every open connection and stops listening: new connections are refused. */
  refuse(): Promise<void>;
  /** Drops every open connection; new ones are accepted, counted and reset at once. */
  reset(): void;
  /** Listens again on the same port (after `refuse`), forwards again (after `reset`). */
  restore(): Promise<void>;
}

/** Starts a proxy to `target` (call it inside a test: it is closed when that test finishes). */
export async function tcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const open = new Set<Socket>();
  let accepted = 0;
  let resetting = false;
  const server: Server = createServer((client) => {
    accepted++;
    if (resetting) {
      client.on('error', () => {});
      client.resetAndDestroy();
      return;
    }
    const upstream = tcpConnect(target.port, target.host);
    for (const socket of [client, upstream]) {
      open.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => {
        open.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  const dropAll = () => {
    for (const socket of open) socket.destroy();
  };
  const stop = () =>
    new Promise<void>((resolve) => {
      dropAll();
      if (!server.listening) resolve();
      else server.close(() => resolve());
    });
  await listen(0);
  const port = (server.address() as { port: number }).port;
  onTestFinished(stop);
  return {
    port,
    get accepted() {
      return accepted;
    },
    refuse: stop,
    reset() {
      resetting = true;
      dropAll();
    },
    async restore() {
      resetting = false;
      if (!server.listening) await listen(port);
    },
  };
}
