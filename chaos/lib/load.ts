// A keep-alive load generator on undici: `concurrency` loops, each sending
// one request after another for `durationMs`, recording status and latency.
import { Agent, request } from 'undici';

export interface Outcome {
  readonly at: number;
  readonly status: number;
  readonly ms: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly code?: string;
}

export interface LoadOptions {
  readonly url: string;
  readonly concurrency: number;
  readonly durationMs: number;
  readonly headers?: Record<string, string>;
  /** Pause between one loop's requests. */
  readonly pauseMs?: number;
}

/** Runs the load; network errors are recorded as status 0. */
export async function runLoad(options: LoadOptions): Promise<Outcome[]> {
  const agent = new Agent({ connections: options.concurrency, keepAliveTimeout: 30_000 });
  const outcomes: Outcome[] = [];
  const end = Date.now() + options.durationMs;
  const loop = async () => {
    while (Date.now() < end) {
      const started = performance.now();
      const at = Date.now();
      try {
        const res = await request(options.url, { dispatcher: agent, headers: options.headers });
        const text = await res.body.text();
        let code: string | undefined;
        if (res.statusCode >= 400) {
          try {
            code = (JSON.parse(text) as { code?: string }).code;
          } catch {}
        }
        outcomes.push({ at, status: res.statusCode, ms: performance.now() - started, headers: res.headers, code });
      } catch {
        outcomes.push({ at, status: 0, ms: performance.now() - started, headers: {} });
      }
      if (options.pauseMs) await new Promise((resolve) => setTimeout(resolve, options.pauseMs));
    }
  };
  await Promise.all(Array.from({ length: options.concurrency }, loop));
  await agent.close();
  return outcomes;
}
