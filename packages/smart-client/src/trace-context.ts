import { randomFillSync } from 'node:crypto';

// Random bytes drawn in blocks and turned into hex once per block: one
// randomFillSync and one toString per 2,048 hex digits, then an id is a
// substring (V8 slices a flat string without copying). A UUID per id, or a
// toString per id, cost more than the rest of a call's bookkeeping.
const pool = Buffer.allocUnsafe(4_096);
let hex = '';
let offset = 0;

/** `bytes` random bytes as lower-case hex. */
export function randomHex(bytes: number): string {
  const digits = bytes * 2;
  if (offset + digits > hex.length) {
    randomFillSync(pool);
    hex = pool.toString('hex');
    offset = 0;
  }
  const out = hex.substring(offset, offset + digits);
  offset += digits;
  return out;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

/**
 * The traceparent an outgoing call carries on from `parent`: the same
 * trace and flags with a new parent id (this hop); undefined when `parent`
 * is absent or not a valid W3C traceparent (all-zero ids included). A call
 * with no trace to continue then sends none, as OpenTelemetry's W3C
 * propagator injects nothing without a span context: the next service
 * starts its own trace and makes its own sampling decision.
 *
 * @example
 * continueTraceparent('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01')
 * // '00-0af7651916cd43dd8448eb211c80319c-<16 new hex digits>-01'
 * continueTraceparent(undefined) // undefined
 */
export function continueTraceparent(parent: string | undefined): string | undefined {
  const match = parent === undefined ? null : TRACEPARENT.exec(parent);
  if (!match || match[1] === ZERO_TRACE || match[2] === ZERO_SPAN) return undefined;
  return `00-${match[1]}-${randomHex(8)}-${match[3]}`;
}

/**
 * A W3C traceparent for an outgoing call: the same trace with a new parent
 * id, or a new sampled trace when there is no (valid) parent. The client
 * itself sends none without a parent (see `continueTraceparent`); this is
 * for a caller that wants a trace started whatever comes in.
 *
 * @example
 * childTraceparent('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01')
 * // '00-0af7651916cd43dd8448eb211c80319c-<16 new hex digits>-01'
 */
export function childTraceparent(parent: string | undefined): string {
  return continueTraceparent(parent) ?? newTraceparent();
}

/**
 * A traceparent for a new trace, sampled.
 *
 * @example
 * newTraceparent() // '00-<32 hex digits>-<16 hex digits>-01'
 */
export function newTraceparent(): string {
  return `00-${randomHex(16)}-${randomHex(8)}-01`;
}

/**
 * The W3C traceparent naming a span (an OpenTelemetry `SpanContext`): its
 * trace, the span as the parent, and its sampled flag.
 *
 * @example
 * traceparentOf(span.spanContext()) // '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'
 */
export function traceparentOf(ids: {
  readonly traceId: string;
  readonly spanId: string;
  readonly traceFlags: number;
}): string {
  return `00-${ids.traceId}-${ids.spanId}-${ids.traceFlags & 1 ? '01' : '00'}`;
}
