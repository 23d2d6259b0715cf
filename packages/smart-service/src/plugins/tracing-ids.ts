import { randomFillSync } from 'node:crypto';
import type { IdGenerator } from '@opentelemetry/sdk-trace-base';

const BYTES = 4_096;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

/**
 * Trace and span ids cut from a pre-generated random buffer: 4 KiB from
 * the system's CSPRNG, hex-encoded once, then handed out as slices (~170
 * requests' ids per refill). Written by hand because the SDK's
 * RandomIdGenerator draws each id from Math.random and hex-encodes it on
 * every call, a visible cost per request in the bench; W3C Trace Context
 * asks for random ids, which these are. An all-zero id (invalid) is skipped.
 *
 * @example
 * new BasicTracerProvider({ idGenerator: new BufferedIdGenerator() });
 */
export class BufferedIdGenerator implements IdGenerator {
  readonly #bytes = Buffer.allocUnsafe(BYTES);
  #hex = '';
  #at = 0;

  generateTraceId(): string {
    const id = this.#take(32);
    return id === ZERO_TRACE ? this.generateTraceId() : id;
  }

  generateSpanId(): string {
    const id = this.#take(16);
    return id === ZERO_SPAN ? this.generateSpanId() : id;
  }

  #take(chars: number): string {
    if (this.#at + chars > this.#hex.length) {
      this.#hex = randomFillSync(this.#bytes).toString('hex');
      this.#at = 0;
    }
    const id = this.#hex.slice(this.#at, this.#at + chars);
    this.#at += chars;
    return id;
  }
}
