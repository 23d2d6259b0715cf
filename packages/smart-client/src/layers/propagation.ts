import {
  CALLER_HEADER,
  DEADLINE_HEADER,
  REQUEST_ID_HEADER,
  TRACEPARENT_HEADER,
  TRACESTATE_HEADER,
} from '../headers.ts';
import { continueTraceparent } from '../trace-context.ts';
import type { Layer } from './layer.ts';

/**
 * Carries the request a call runs in on to the next service: its request
 * id, W3C trace context (the same trace with a new parent id for this hop,
 * and its `tracestate`), the calling service's name, and the call's
 * deadline (absolute epoch ms, set by the deadline layer above). Only what
 * carries information: no trace context when the call has none to continue
 * (no invented trace, which would ask the next service to sample it), no
 * tracestate without a traceparent. Headers the caller set win, except the
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
        if (context.caller) headers[CALLER_HEADER] ??= context.caller;
        if (context.traceparent && headers[TRACEPARENT_HEADER] === undefined) {
          const traceparent = continueTraceparent(context.traceparent);
          if (traceparent) {
            headers[TRACEPARENT_HEADER] = traceparent;
            if (context.tracestate) headers[TRACESTATE_HEADER] ??= context.tracestate;
          }
        }
      }
      if (call.deadline !== Infinity) headers[DEADLINE_HEADER] = String(call.deadline);
      return next(attempt);
    };
  };
}
