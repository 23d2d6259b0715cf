import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { onTestFinished } from 'vitest';
import { type ClientOptions, createClient, type SmartClientError } from '../src/index.ts';

/** A real upstream on a loopback port that records what reached it. */
export async function upstream(
  handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end('{}'),
) {
  const seen: IncomingMessage[] = [];
  let connections = 0;
  const server = createServer((req, res) => {
    seen.push(req);
    handler(req, res);
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return { url, seen, connections: () => connections };
}

/** A JSON answer. */
export function json(res: ServerResponse, status: number, body: unknown, type = 'application/json') {
  res.writeHead(status, { 'content-type': type }).end(JSON.stringify(body));
}

/** A client closed when the test ends. */
export function client(options: ClientOptions) {
  const c = createClient(options);
  onTestFinished(() => c.close());
  return c;
}

/** The error a call failed with, or undefined when it succeeded. */
export const failure = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (err: SmartClientError) => err,
  );
