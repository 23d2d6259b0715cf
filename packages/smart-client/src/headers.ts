// The headers between services (ARCHITECTURE.md, "Headers between services").
// They will come from smart-protocol once it exports them.

/** The calling service's name. */
export const CALLER_HEADER = 'x-smart-caller';
/** The call's deadline, absolute epoch milliseconds. */
export const DEADLINE_HEADER = 'x-smart-deadline';
export const REQUEST_ID_HEADER = 'x-request-id';
export const TRACEPARENT_HEADER = 'traceparent';
export const TRACESTATE_HEADER = 'tracestate';
