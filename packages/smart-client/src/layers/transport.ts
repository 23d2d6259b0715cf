import type { Dispatcher } from 'undici';
import { LazyAgent } from '../lazy-agent.ts';
import { readAnswer } from '../read-answer.ts';
import type { Attempt, Send } from './layer.ts';

// undici's fast timers may fire up to ~0.5 s early: its timeouts get this much slack past the deadline.
const UNDICI_TIMER_SLACK_MS = 1_000;

// An endpoint's own headers (the sidecar's x-smart-service) go on top of the call's.
const withEndpointHeaders = (headers: Record<string, string>, extra: Readonly<Record<string, string>> | undefined) =>
  extra ? { ...headers, ...extra } : headers;

/** What the transport sends with: undici's `Agent`, `Pool` or any dispatcher's `request` and `dispatch`. */
export type RequestDispatcher = Pick<Dispatcher, 'request' | 'dispatch'>;

function send(dispatcher: RequestDispatcher, attempt: Attempt): Promise<Dispatcher.ResponseData> {
  const call = attempt.call;
  const options: Dispatcher.RequestOptions = {
    origin: attempt.origin as string,
    path: call.path,
    method: call.method as Dispatcher.HttpMethod,
    headers: withEndpointHeaders(attempt.headers ?? call.headers, attempt.endpoint?.headers),
    body: call.body,
  };
  if (call.deadline !== Number.POSITIVE_INFINITY) {
    const remaining = Math.max(1, call.deadline - Date.now()) + UNDICI_TIMER_SLACK_MS;
    options.headersTimeout = remaining;
    options.bodyTimeout = remaining;
  }
  const signal = attempt.signal ?? call.signal;
  // A JSON helper's call reads its answer whole: undici's dispatch with a handler that keeps the
  // chunks, no stream per answer (see read-answer.ts). `fetch` streams: undici's `request`.
  if (call.buffered) return readAnswer(dispatcher, options, signal);
  if (signal) options.signal = signal;
  return dispatcher.request(options);
}

/**
 * The end of the chain: sends the attempt with undici to the origin the
 * balance layer chose, with the endpoint's own headers when it has some.
 * undici's own header and body timeouts are set a second past the call's
 * deadline (the deadline layer's timer, or its check after the fact,
 * decides). A buffered call (the JSON helpers') answers once its body has
 * arrived, read whole; a streamed one (`fetch`) once the headers have.
 * Given a `LazyAgent` (what a client makes), the first attempt waits for
 * undici's import and the agent; every later one goes straight to the
 * agent.
 *
 * @example
 * const send = transport(new Agent());
 */
export function transport(agent: RequestDispatcher | LazyAgent): Send {
  if (!(agent instanceof LazyAgent)) return (attempt) => send(agent, attempt);
  return function transport(attempt: Attempt): Promise<Dispatcher.ResponseData> {
    const current = agent.current;
    return current ? send(current, attempt) : agent.load().then((loaded) => send(loaded, attempt));
  };
}
