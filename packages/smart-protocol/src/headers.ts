/**
 * The HTTP headers smart services, the smart client and the sidecar send
 * each other. Header names are lowercase, as Node's `IncomingMessage.headers`
 * keys are.
 */

/**
 * One id per call chain: kept when an incoming value matches
 * {@link REQUEST_ID_PATTERN}, else replaced; echoed on every response and
 * put on every log line.
 *
 * @example
 * reply.header(REQUEST_ID_HEADER, request.id);
 */
export const REQUEST_ID_HEADER = 'x-request-id';

/**
 * W3C Trace Context: the trace id and the caller's span.
 *
 * @example
 * headers[TRACEPARENT_HEADER] = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
 */
export const TRACEPARENT_HEADER = 'traceparent';

/**
 * W3C Trace Context: vendor state, passed on unchanged.
 *
 * @example
 * if (tracestate) headers[TRACESTATE_HEADER] = tracestate;
 */
export const TRACESTATE_HEADER = 'tracestate';

/**
 * The calling service's name, so a service can tell (and log, and meter)
 * who called it.
 *
 * @example
 * const caller = request.headers[CALLER_HEADER]; // 'fibfrontend'
 */
export const CALLER_HEADER = 'x-smart-caller';

/**
 * When the caller stops waiting, as absolute Unix epoch milliseconds
 * (`String(Date.now() + 2000)`), not remaining time: it survives queues and
 * retries without being re-counted, at the price of needing roughly synced
 * clocks. A service that receives a deadline already past answers 504
 * without running the handler.
 *
 * @example
 * headers[DEADLINE_HEADER] = String(Date.now() + 2_000);
 */
export const DEADLINE_HEADER = 'x-smart-deadline';

/**
 * The target service of a call sent through the local sidecar (HAProxy),
 * which routes on it.
 *
 * @example
 * await fetch('http://127.0.0.1:7070/users/42', { headers: { [SERVICE_HEADER]: 'userstore' } });
 */
export const SERVICE_HEADER = 'x-smart-service';
