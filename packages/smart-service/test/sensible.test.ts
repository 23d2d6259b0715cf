import realSensible from '@fastify/sensible';
import Fastify, { type FastifyPluginAsync, type FastifyPluginCallback } from 'fastify';
import { describe, expect, it } from 'vitest';
import { sensible } from '../src/plugins/sensible.ts';
import { build } from './helper.ts';

type Names = Record<'app' | 'request' | 'reply', Set<string>>;

// Every property name along an object's prototype chain.
function namesOf(value: object): Set<string> {
  const names = new Set<string>();
  for (let o = value; o && o !== Object.prototype; o = Object.getPrototypeOf(o))
    for (const name of Object.getOwnPropertyNames(o)) names.add(name);
  return names;
}

// What a bare Fastify's app, requests and replies have once `plugin` is registered.
async function decorated(plugin?: FastifyPluginAsync | FastifyPluginCallback): Promise<Names> {
  const app = Fastify();
  if (plugin) await app.register(plugin);
  let names: Names | undefined;
  app.get('/', async (request, reply) => {
    names = { app: namesOf(app), request: namesOf(request), reply: namesOf(reply) };
    return {};
  });
  await app.inject('/');
  await app.close();
  return names as Names;
}

describe("@fastify/sensible's API", () => {
  it('decorates the app, requests and replies with the very names @fastify/sensible does', async () => {
    const [bare, theirs, ours] = [await decorated(), await decorated(realSensible), await decorated(sensible)];
    for (const part of ['app', 'request', 'reply'] as const) {
      const added = (names: Names) => [...names[part]].filter((name) => !bare[part].has(name)).sort();
      expect(added(ours)).toEqual(added(theirs));
    }
    expect([...ours.reply]).toEqual(expect.arrayContaining(['notFound', 'conflict', 'getHttpError', 'cacheControl']));
  });

  it('answers request.is() and request.forwarded() (loaded at their first call) and the error replies', async () => {
    const app = await build();
    app.post('/echo', async (request) => ({ json: request.is(['json']), forwarded: request.forwarded() }));
    app.get('/gone', async (_request, reply) => reply.gone('moved away'));
    app.get('/taken', async (_request, reply) => reply.getHttpError(409, 'already taken'));
    const echo = await app.inject({
      method: 'POST',
      url: '/echo',
      headers: { 'x-forwarded-for': '203.0.113.7' },
      payload: { a: 1 },
    });
    expect(echo.json()).toEqual({ json: 'json', forwarded: ['127.0.0.1', '203.0.113.7'] });
    const gone = await app.inject('/gone');
    expect(gone.statusCode).toBe(410);
    expect(gone.json()).toMatchObject({ status: 410, detail: 'moved away' });
    expect((await app.inject('/taken')).json()).toMatchObject({ status: 409, detail: 'already taken' });
  });
});
