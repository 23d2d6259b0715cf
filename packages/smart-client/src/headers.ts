// The headers between services, defined once in smart-protocol; re-exported
// here so `import { DEADLINE_HEADER } from 'smart-client'` keeps working.
export {
  CALLER_HEADER,
  DEADLINE_HEADER,
  REQUEST_ID_HEADER,
  TRACEPARENT_HEADER,
  TRACESTATE_HEADER,
} from 'smart-protocol';
