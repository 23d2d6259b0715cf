import {
  CALLER_HEADER,
  DEADLINE_HEADER,
  REQUEST_ID_HEADER,
  TRACEPARENT_HEADER,
  TRACESTATE_HEADER,
} from '../headers.ts';
import { childTraceparent } from '../trace-context.ts';
import type { Layer } from './layer.ts';

/**
 * Carries the request a call runs in on to the next service: its request
 * id, W3C trace context (a new parent id for this hop, or a new trace),
 * the calling service's name, and the call's deadline (absolute epoch ms,
 * set by the deadline layer above). Headers the caller set win, except the
 * deadline, which is the call's own.
 *
 * @example
 * const send = propagation()(next);
 */
export function propagation(): Layer {
  return function propagation(next) {
    return (attempt) => {
      const call = attempt.call;
      const headers = call.headers;
      const context = call.context;
      if (context) {
        if (context.requestId) headers[REQUEST_ID_HEADER] ??= context.requestId;
        if (context.tracestate) headers[TRACESTATE_HEADER] ??= context.tracestate;
        if (context.caller) headers[CALLER_HEADER] ??= context.caller;
      }
      headers[TRACEPARENT_HEADER] ??= childTraceparent(context?.traceparent);
      if (call.deadline !== Infinity) headers[DEADLINE_HEADER] = String(call.deadline);
      return next(attempt);
    };
  };
}
