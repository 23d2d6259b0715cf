import { Writable } from 'node:stream';

/** A log destination for tests, and the JSON lines written to it. */
export interface CapturedLogs {
  /** Pass as `logDestination` to `createSmartService`. */
  readonly stream: Writable;
  /** Every line written so far, parsed (pino writes one JSON object a line). */
  readonly lines: Record<string, unknown>[];
}

/**
 * Keeps a service's log lines instead of printing them, so a test can
 * assert on them (a request id, a refusal, no secret).
 *
 * @example
 * const logs = captureLogs();
 * const app = await createSmartService({ name: 'orders', logDestination: logs.stream });
 * await app.inject({ url: '/orders', headers: { 'x-request-id': 'r-1' } });
 * expect(logs.lines.some((line) => line.requestId === 'r-1')).toBe(true);
 */
export function captureLogs(onLine?: (line: string) => void): CapturedLogs {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) {
        if (!line) continue;
        onLine?.(line);
        lines.push(JSON.parse(line) as Record<string, unknown>);
      }
      done();
    },
  });
  return { stream, lines };
}
