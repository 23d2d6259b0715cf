import { resolve } from 'node:path';
import { createSmartService, type SmartServiceOptions } from 'smart-service';
import { numbers } from '../../fizz/src/divides.ts';

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

  app.get('/fizzbuzz/:n', async (request) => {
    const [n] = numbers({}, (request.params as { n: string }).n) as [number];
    const [fizz, buzz] = await Promise.all([
      app.client.get<Fizz>(`service://fizz/fizz/${n}`),
      app.client.get<Buzz>(`service://buzz/buzz/${n}`),
    ]);
    return { n, answer: word(n, fizz.fizz, buzz.buzz) };
  });

  app.get('/fizzbuzz', async (request) => {
    const list = numbers(request.query as { from?: string; to?: string });
    const range = `from=${list[0]}&to=${list.at(-1)}`;
    const [fizz, buzz] = await Promise.all([
      app.client.get<Fizz[]>(`service://fizz/fizz?${range}`),
      app.client.get<Buzz[]>(`service://buzz/buzz?${range}`),
    ]);
    return list.map((n, i) => word(n, fizz[i]?.fizz === true, buzz[i]?.buzz === true));
  });
  return app;
}
