import { createConnection } from 'node:net';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The Redis every test app uses: SMART_REDIS__URL, else REDIS_URL, else redis://127.0.0.1:6379. */
    redisUrl: string;
  }
}

const DEFAULT_URL = 'redis://127.0.0.1:6379';

/** The URL with its password hidden, for messages. */
const shown = (url: URL) => (url.password ? url.href.replace(`:${url.password}@`, ':***@') : url.href);

function connects(url: URL, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 6379) });
    const done = (why?: string) => {
      socket.destroy();
      resolve(why);
    };
    socket.setTimeout(timeoutMs, () => done(`no answer within ${timeoutMs} ms`));
    socket.once('connect', () => done());
    socket.once('error', (err) => done(err.message));
  });
}

/**
 * Checks once, before any test, that Redis answers where the tests will look
 * for it, and says what to do if not: without it every test app would fail
 * with the Redis client's own error ("Stream isn't writeable") instead.
 */
export default async function redisReachable(project: TestProject) {
  const [name, value] = process.env.SMART_REDIS__URL
    ? ['SMART_REDIS__URL', process.env.SMART_REDIS__URL]
    : process.env.REDIS_URL
      ? ['REDIS_URL', process.env.REDIS_URL]
      : [undefined, DEFAULT_URL];
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new Error(`${name}=${value} is not a URL: set it to redis://host:6379`);
  }
  const why = await connects(url, 3_000);
  if (why) {
    throw new Error(
      `These tests need Redis, and none answers at ${shown(url)} (${why}; ${name ? `from ${name}` : 'the default'}). ` +
        'Start one (docker run --rm -p 6379:6379 redis:8-alpine), or point the tests at yours with ' +
        'SMART_REDIS__URL=redis://host:port (REDIS_URL is read too).',
    );
  }
  project.provide('redisUrl', url.href);
}
