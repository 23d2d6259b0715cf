import type { Dispatcher } from 'undici';
import { Attempt, Call, type CallInput, type Send } from '../../src/index.ts';
import { Target } from '../../src/targets.ts';

/** A call to `service`, as the client would make it. */
export function callTo(service = 'users', input: Partial<CallInput> & { retryable?: boolean } = {}): Attempt {
  const { retryable = true, ...rest } = input;
  const call = new Call(
    {
      method: 'GET',
      target: new Target(service, undefined),
      path: '/x',
      origin: undefined,
      headers: {},
      body: null,
      signal: undefined,
      timeout: undefined,
      hedge: undefined,
      context: undefined,
      ...rest,
    },
    retryable,
  );
  return new Attempt(call, 'first', 1);
}

/** An undici answer with `status` (its body can be dumped). */
export function answer(status: number, headers: Record<string, string> = {}): Dispatcher.ResponseData {
  return { statusCode: status, headers, body: { dump: async () => {} } } as unknown as Dispatcher.ResponseData;
}

/**
 * The next layer, played by a function of the attempt: records every
 * attempt it is given (kind, origin, signal) and answers what `reply` says.
 */
export function nextLayer(reply: (attempt: Attempt) => Promise<Dispatcher.ResponseData> | Dispatcher.ResponseData) {
  const seen: Attempt[] = [];
  const send: Send = async (attempt) => {
    seen.push(attempt);
    return reply(attempt);
  };
  return { send, seen };
}

export const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
