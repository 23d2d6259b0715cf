import { resolve } from 'node:path';
import { createSmartService, type SmartServiceOptions, type ZodTypeProvider } from 'smart-service';
import { z } from 'zod';
import { inputs, numbers } from '../../fizz/src/divides.ts';

type Fizz = { n: number; fizz: boolean };
type Buzz = { n: number; buzz: boolean };

/** The FizzBuzz word for n from the two answers. */
export const word = (n: number, fizz: boolean, buzz: boolean) =>
  fizz && buzz ? 'FizzBuzz' : fizz ? 'Fizz' : buzz ? 'Buzz' : String(n);

/**
 * gateway: `GET /fizzbuzz/:n` and `GET /fizzbuzz?from=&to=`. Asks fizz and
 * buzz at once through the smart client (request id, trace context and
 * deadline travel with both calls) and combines their answers.
 */
export async function build(options: Partial<SmartServiceOptions> = {}) {
  const app = await createSmartService({
    name: 'gateway',
    version: '1.0.0',
    root: resolve(import.meta.dirname, '..'),
    ...options,
  });

  const routes = app.withTypeProvider<ZodTypeProvider>();
  const answer = z.string().meta({ description: "n's FizzBuzz word: Fizz, Buzz, FizzBuzz or n itself" });
  routes.get(
    '/fizzbuzz/:n',
    {
      schema: {
        summary: "n's FizzBuzz answer",
        params: inputs.single,
        response: { 200: z.object({ n: z.number().int(), answer }) },
      },
    },
    async (request) => {
      const [n] = numbers({}, request.params.n) as [number];
      const [fizz, buzz] = await Promise.all([
        app.client.get<Fizz>(`service://fizz/fizz/${n}`),
        app.client.get<Buzz>(`service://buzz/buzz/${n}`),
      ]);
      return { n, answer: word(n, fizz.fizz, buzz.buzz) };
    },
  );

  routes.get(
    '/fizzbuzz',
    {
      schema: {
        summary: 'The FizzBuzz answers of from..to (at most 10,000), in order',
        querystring: inputs.range,
        response: { 200: z.array(answer) },
      },
    },
    async (request) => {
      const list = numbers(request.query);
      const range = `from=${list[0]}&to=${list.at(-1)}`;
      const [fizz, buzz] = await Promise.all([
        app.client.get<Fizz[]>(`service://fizz/fizz?${range}`),
        app.client.get<Buzz[]>(`service://buzz/buzz?${range}`),
      ]);
      return list.map((n, i) => word(n, fizz[i]?.fizz === true, buzz[i]?.buzz === true));
    },
  );
  return app;
}
