import type { Attributes, Span, SpanContext, Tracer } from '@opentelemetry/api';
import type { Dispatcher } from 'undici';
import { TRACEPARENT_HEADER, TRACESTATE_HEADER } from '../headers.ts';
import { traceparentOf } from '../trace-context.ts';
import type { Attempt, Layer } from './layer.ts';

// @opentelemetry/api (44 files, ~10 ms of a cold start) is required at the
// first call through the client, not when the client loads: a service that
// calls no other never loads it. Node resolves `import` and `require` of it to
// the same CommonJS build, so this is the one copy an SDK registers with.
type Api = typeof import('@opentelemetry/api');
let otel: Api | undefined;
const api = (): Api =>
  (otel ??= process.getBuiltinModule('node:module').createRequire(import.meta.url)('@opentelemetry/api') as Api);
// SpanKind and SpanStatusCode's values (OpenTelemetry's enums), without loading the API.
const INTERNAL = 0;
const CLIENT = 2;
const ERROR = 2;

// Only @opentelemetry/api here: without an SDK registered (or a tracer
// given) every span is the API's no-op, and the client carries on the
// `traceparent` its propagation layer made. Attributes are set only on a
// recording span, so the no-op path allocates no attribute objects.

type Response = Dispatcher.ResponseData;

// A no-op span (no SDK, no trace) answers the API's one invalid context: an
// identity check spares the hex checks of `isSpanContextValid` on every call.
const traced = (ids: SpanContext) => ids !== api().INVALID_SPAN_CONTEXT && api().isSpanContextValid(ids);

function tracerOf(tracer: Tracer | undefined): Tracer {
  // The API's proxy tracer follows a global provider registered later.
  return tracer ?? api().trace.getTracer('smart-client');
}

function errorType(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : ((err as Error | null)?.name ?? 'Error');
}

/**
 * The call's span, the outermost layer (above `outcome`, so it covers the
 * error mapping): `GET pricing`, with the target service, method, path
 * (never the query), the number of attempts, the status or the error's
 * code. It is the active span while the call runs, so each attempt's span
 * is its child; the call's own parent is the span active where the call
 * was made (the incoming request's, in a smart service), so parallel calls
 * of one request share its trace.
 *
 * @example
 * const send = callSpan(tracer)(next);
 */
export function callSpan(tracer?: Tracer): Layer {
  let spans: Tracer | undefined;
  return function callSpan(next) {
    return (attempt) => {
      const call = attempt.call;
      const { context, trace } = api();
      spans ??= tracerOf(tracer);
      const parent = context.active();
      const span = spans.startSpan(`${call.method} ${call.service}`, { kind: INTERNAL }, parent);
      // No SDK and no trace: nothing to carry, nothing to record.
      if (!traced(span.spanContext())) {
        call.traced = false;
        return next(attempt);
      }
      call.traced = true;
      const recording = span.isRecording();
      if (recording) {
        span.setAttributes({
          'smart.target': call.service,
          'http.request.method': call.method,
          'url.path': pathOf(call.path),
        });
      }
      let running: Promise<Response>;
      try {
        running = context.with(trace.setSpan(parent, span), next, undefined, attempt);
      } catch (err) {
        running = Promise.reject(err);
      }
      return running.then(
        (response) => {
          if (recording) {
            span.setAttributes({ 'http.response.status_code': response.statusCode, 'smart.attempts': call.attempts });
            if (response.statusCode >= 500) span.setStatus({ code: ERROR });
          }
          span.end();
          return response;
        },
        (err: unknown) => {
          if (recording) {
            span.setAttributes({ 'error.type': errorType(err), 'smart.attempts': call.attempts });
            span.setStatus({ code: ERROR });
          }
          span.end();
          throw err;
        },
      );
    };
  };
}

function pathOf(path: string): string {
  const query = path.indexOf('?');
  return query === -1 ? path : path.slice(0, query);
}

// Where the attempt went, from its origin (`http://10.0.0.7:3001`) without parsing a URL.
function instanceAttributes(origin: string): Attributes {
  const host = origin.slice(origin.indexOf('//') + 2);
  const colon = host.lastIndexOf(':');
  const closing = host.lastIndexOf(']');
  return colon > closing
    ? { 'smart.instance': origin, 'server.address': host.slice(0, colon), 'server.port': Number(host.slice(colon + 1)) }
    : { 'smart.instance': origin, 'server.address': host };
}

// Why an attempt that did not answer was given up: another attempt won the
// hedge race (the loser cancelled with hedge.cancelLoser, else left to
// finish unread: superseded), the call's deadline passed, or the caller aborted.
function abandonedBecause(attempt: Attempt): string | undefined {
  if (attempt.abortReason) return `${attempt.signal?.aborted ? 'cancelled' : 'superseded'}: ${attempt.abortReason}`;
  const call = attempt.call;
  if (call.callerSignal?.aborted) return 'caller aborted';
  if (call.deadlineSignal?.aborted || Date.now() >= call.deadline) return 'deadline';
  return undefined;
}

function endAttempt(span: Span, attempt: Attempt, status: number | undefined, err: unknown): void {
  const attributes: Attributes = {
    'smart.attempt.kind': attempt.kind,
    'smart.attempt.number': attempt.number,
    ...(attempt.origin ? instanceAttributes(attempt.origin) : {}),
  };
  const abandoned = attempt.abortReason || err !== undefined ? abandonedBecause(attempt) : undefined;
  if (abandoned) {
    attributes['smart.attempt.outcome'] = 'abandoned';
    attributes['smart.attempt.abandoned'] = abandoned;
    if (attempt.abortReason && attempt.signal?.aborted) attributes['smart.attempt.cancelled'] = true;
  } else if (status !== undefined) {
    attributes['smart.attempt.outcome'] = status >= 500 ? 'error' : 'ok';
  } else {
    attributes['smart.attempt.outcome'] = 'unavailable';
    attributes['error.type'] = errorType(err);
    span.setStatus({ code: ERROR });
  }
  if (status !== undefined) {
    attributes['http.response.status_code'] = status;
    if (status >= 500 && !abandoned) span.setStatus({ code: ERROR });
  }
  span.setAttributes(attributes);
  span.end();
}

/**
 * One span per attempt, right below `hedge` (so a retry, a hedge and the
 * attempt a breaker or bulkhead refuses each get one): the attempt's kind
 * (`first`, `retry`, `hedge`) and number, the instance it went to, its
 * status and outcome (`ok`, `error`, `unavailable`, `abandoned`), and why
 * an abandoned one was given up (`superseded: attempt 2 answered first` for
 * a hedge race's loser, `cancelled: ...` with `hedge.cancelLoser`,
 * `deadline`, `caller aborted`). The attempt carries
 * its own `traceparent` naming this span, so the upstream's server span is
 * its child.
 *
 * @example
 * const send = attemptSpan(tracer)(next);
 */
export function attemptSpan(tracer?: Tracer): Layer {
  let spans: Tracer | undefined;
  return function attemptSpan(next) {
    return (attempt) => {
      const call = attempt.call;
      // No trace for the call (no SDK, no parent): an attempt's span would be a no-op as well.
      if (call.traced === false) return next(attempt);
      const name = `${call.method} ${call.service} #${attempt.number} ${attempt.kind}`;
      spans ??= tracerOf(tracer);
      const span = spans.startSpan(name, { kind: CLIENT });
      const ids = span.spanContext();
      if (!traced(ids)) return next(attempt);
      const headers: Record<string, string> = {
        ...(attempt.headers ?? call.headers),
        [TRACEPARENT_HEADER]: traceparentOf(ids),
      };
      const state = ids.traceState?.serialize();
      if (state) headers[TRACESTATE_HEADER] = state;
      attempt.headers = headers;
      if (!span.isRecording()) return next(attempt);
      let running: Promise<Response>;
      try {
        running = next(attempt);
      } catch (err) {
        running = Promise.reject(err);
      }
      return running.then(
        (response) => {
          endAttempt(span, attempt, response.statusCode, undefined);
          return response;
        },
        (err: unknown) => {
          endAttempt(span, attempt, undefined, err);
          throw err;
        },
      );
    };
  };
}
