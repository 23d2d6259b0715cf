import { resolve } from 'node:path';
import { createSmartService, currentRequest, type SmartServiceOptions, type ZodTypeProvider } from 'smart-service';
import { z } from 'zod';
import { badRange } from './errors.ts';

// The inputs stay strings in the schemas: their rules (a whole number from 1,
// at most 10,000 of them) are checked by `numbers`, whose 400 carries
// FIZZBUZZ_BAD_RANGE and a detail saying which rule, as the README shows.
const whole = (what: string) => z.string().meta({ description: `${what}: a whole number from 1 to 999999999` });

/** `GET /<word>/:n`'s params, `GET /<word>`'s and `GET /fizzbuzz`'s query, as the route schemas declare them. */
export const inputs = {
  single: z.object({ n: whole('n') }),
  range: z.object({ from: whole('from').optional(), to: whole('to').optional() }),
};

/** Parses `n`, or `from` and `to` (at most 10,000 numbers), as positive integers; a 400 problem otherwise. */
export function numbers(query: { from?: string; to?: string }, single?: string): number[] {
  const int = (value: string | undefined, what: string) => {
    if (value === undefined || !/^\d{1,9}$/.test(value) || Number(value) < 1)
      throw badRange(`${what} must be a whole number >= 1`);
    return Number(value);
  };
  if (single !== undefined) return [int(single, 'n')];
  const from = int(query.from, 'from');
  const to = int(query.to, 'to');
  if (to < from || to - from >= 10_000) throw badRange('from..to must be increasing and at most 10,000 numbers');
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/**
 * A service that says, for each number, whether `divisor` divides it:
 * `GET /<word>/:n` and `GET /<word>?from=&to=`. fizz and buzz are two of these.
 */
export async function divisibilityService(
  word: string,
  divisor: number,
  root: string,
  options: Partial<SmartServiceOptions>,
) {
  const app = await createSmartService({ name: word, version: '1.0.0', root: resolve(root, '..'), ...options });
  const answer = (list: number[]) => {
    const request = currentRequest();
    // The tracing demo's point: who asked, and under which trace (the W3C
    // traceparent the smart client sent: the caller's trace id, a new parent).
    const trace = String(request.headers.traceparent ?? '').split('-')[1];
    request.log.info(
      { caller: request.headers['x-smart-caller'], trace, numbers: list.length },
      `${word}: checked ${list.length === 1 ? list[0] : `${list[0]}..${list.at(-1)}`} for ${divisor}`,
    );
    return list.map((n) => ({ n, [word]: n % divisor === 0 }));
  };
  const one = z.object({ n: z.number().int() }).extend({ [word]: z.boolean() });
  const routes = app.withTypeProvider<ZodTypeProvider>();
  routes.get(
    `/${word}/:n`,
    {
      schema: {
        summary: `Whether ${divisor} divides n`,
        params: inputs.single,
        response: { 200: one },
      },
    },
    async (request) => answer(numbers({}, request.params.n))[0] as z.infer<typeof one>,
  );
  routes.get(
    `/${word}`,
    {
      schema: {
        summary: `Whether ${divisor} divides each number of from..to (at most 10,000)`,
        querystring: inputs.range,
        response: { 200: z.array(one) },
      },
    },
    async (request) => answer(numbers(request.query)) as z.infer<typeof one>[],
  );
  return app;
}
