// Bugsnag is a SaaS we cannot run: a loopback listener stands in for its
// notify endpoint and keeps what arrives.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { onTestFinished } from 'vitest';

export interface BugsnagListener {
  readonly url: string;
  /** Each report's body (Bugsnag's JSON payload). */
  readonly reports: Record<string, unknown>[];
}

export async function bugsnagListener(): Promise<BugsnagListener> {
  const reports: Record<string, unknown>[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      try {
        reports.push(JSON.parse(body));
      } catch {
        reports.push({ raw: body });
      }
      res.writeHead(200).end('OK');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, reports };
}
