import { setTimeout as sleep } from 'node:timers/promises';
import type { Dispatcher } from 'undici';

/** How calls are retried (defaults after Envoy and Finagle). */
export interface RetryOptions {
  /** Attempts in all, the first included. Default 3. */
  readonly maxAttempts?: number;
  /** Full-jitter back-off: a random wait in [0, min(capMs, baseMs x 2^retry)]. Defaults 25 and 250 ms (Envoy's). */
  readonly baseMs?: number;
  readonly capMs?: number;
  /** The retry budget per target service (Finagle's defaults): 20% of requests plus 10/s, over 10 s. */
  readonly budget?: { readonly percent?: number; readonly minPerSecond?: number; readonly ttlSeconds?: number };
}

const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);
const RETRY_STATUS = new Set([502, 503, 504]);
const RETRY_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** A call may be retried: an idempotent method, or a request carrying an `idempotency-key`. */
export function mayRetry(method: string, headers: Readonly<Record<string, string>>): boolean {
  return IDEMPOTENT.has(method) || headers['idempotency-key'] !== undefined;
}

/** A failure worth another attempt: the connection was refused or reset (never a timeout: the deadline is spent). */
export function isRetryableError(err: unknown): boolean {
  const code =
    (err as { code?: string; cause?: { code?: string } })?.code ?? (err as { cause?: { code?: string } })?.cause?.code;
  return code !== undefined && RETRY_CODES.has(code);
}

export const isRetryableStatus = (status: number) => RETRY_STATUS.has(status);

/**
 * A retry budget (Finagle's RetryBudget): over a sliding window of
 * `ttlSeconds`, retries may not exceed `percent` of requests plus
 * `minPerSecond` x ttl. So when every upstream fails, retries add at most
 * ~20% load plus a small floor, instead of multiplying it.
 */
export class RetryBudget {
  readonly #percent: number;
  readonly #floor: number;
  readonly #ttl: number;
  // One bucket per second: [second, requests, retries].
  readonly #buckets: [number, number, number][] = [];

  constructor(options: RetryOptions['budget'] = {}) {
    this.#percent = options.percent ?? 0.2;
    this.#ttl = options.ttlSeconds ?? 10;
    this.#floor = (options.minPerSecond ?? 10) * this.#ttl;
  }

  #bucket(): [number, number, number] {
    const second = Math.floor(Date.now() / 1000);
    // Every call counts itself here: within the same second, the last bucket is the one.
    const last = this.#buckets.at(-1);
    if (last && last[0] === second) return last;
    while (this.#buckets.length > 0 && (this.#buckets[0] as [number, number, number])[0] <= second - this.#ttl)
      this.#buckets.shift();
    const current: [number, number, number] = [second, 0, 0];
    this.#buckets.push(current);
    return current;
  }

  /** Counts a first attempt (it earns retry credit). */
  request(): void {
    this.#bucket()[1]++;
  }

  /** Takes credit for one retry (within `percent` of requests, the budget's own by default); false when spent. */
  tryRetry(percent = this.#percent): boolean {
    const current = this.#bucket();
    let requests = 0;
    let retries = 0;
    for (const [, r, t] of this.#buckets) {
      requests += r;
      retries += t;
    }
    if (retries + 1 > percent * requests + this.#floor) return false;
    current[2]++;
    return true;
  }
}

/** One attempt's outcome, as the retry layer sees it. */
export interface Attempted {
  readonly response: Dispatcher.ResponseData;
}

/** What the retry layer reports. */
export interface RetryEvents {
  onRetry?(reason: string): void;
  onBudgetExhausted?(): void;
}

/** The wait an answer's `Retry-After` asks for (seconds or an HTTP date), in ms. */
export function retryAfterMs(response: Dispatcher.ResponseData): number | undefined {
  const value = response.headers['retry-after'];
  if (typeof value !== 'string') return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/**
 * The retry layer: runs `attempt` (which picks an instance not in `tried`),
 * and again after a refused/reset connection or a 502/503/504, while the
 * call may be retried, attempts remain, the budget allows and the deadline
 * leaves room for the back-off (or `Retry-After`).
 */
export async function withRetries(
  attempt: (tried: Set<string>) => Promise<Attempted & { origin: string }>,
  context: { retryable: boolean; deadline: number; budget: RetryBudget; options: RetryOptions; events?: RetryEvents },
): Promise<Attempted> {
  const { options, budget } = context;
  const maxAttempts = context.retryable ? (options.maxAttempts ?? 3) : 1;
  const tried = new Set<string>();
  // Full jitter: a random wait in [0, min(cap, base x 2^retry)].
  const backoff = (n: number) => Math.random() * Math.min(options.capMs ?? 250, (options.baseMs ?? 25) * 2 ** (n - 1));
  // Another attempt only while attempts remain, the deadline leaves room for the wait and the budget allows.
  const mayRetry = (n: number, wait: number) => {
    if (n >= maxAttempts || Date.now() + wait >= context.deadline) return false;
    if (budget.tryRetry()) return true;
    context.events?.onBudgetExhausted?.();
    return false;
  };
  budget.request();
  for (let n = 1; ; n++) {
    let result: Attempted & { origin: string };
    try {
      result = await attempt(tried);
    } catch (err) {
      const origin = (err as { origin?: string }).origin;
      if (origin) tried.add(origin);
      const wait = backoff(n);
      if (!isRetryableError(err) || !mayRetry(n, wait)) throw err;
      context.events?.onRetry?.((err as { code?: string }).code ?? 'error');
      await sleep(wait);
      continue;
    }
    tried.add(result.origin);
    if (!isRetryableStatus(result.response.statusCode)) return result;
    // The upstream's Retry-After wins over our back-off; if no retry can follow, this answer stands.
    const wait = retryAfterMs(result.response) ?? backoff(n);
    if (!mayRetry(n, wait)) return result;
    await result.response.body.dump();
    context.events?.onRetry?.(`status ${result.response.statusCode}`);
    await sleep(wait);
  }
}
