import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import type { FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import Fastify, {
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  type FastifySchema,
  type RouteOptions,
} from 'fastify';
import fp from 'fastify-plugin';
import { PROBLEM_JSON_SCHEMAS, PROBLEM_MEDIA_TYPE } from 'smart-protocol';
import { $ZodType } from 'zod/v4/core';
import { pathOf } from './request-context.ts';

/** Where the document and the reference page are served. */
export const OPENAPI_PATH = '/openapi.json';
export const DOCS_PATH = '/docs';

interface OpenApiOptions {
  readonly service: string;
  readonly version: string;
  /** Serve the reference page at /docs (outside production by default). */
  readonly docs: boolean;
}

/** The service's OpenAPI document, built once, at its first use after the app is ready. */
export interface ApiDescription {
  /** The OpenAPI 3.1 document (frozen); undefined until the app is ready. */
  readonly document: Readonly<Record<string, unknown>> | undefined;
  /** sha256 (hex, first 16 digits) of the document's JSON: the same routes give the same hash. */
  readonly hash: string | undefined;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The service's API description (`/openapi.json`), from its route schemas. */
    readonly openapi: ApiDescription;
  }
}

// The framework's own routes are not the service's API: they are the same in every service.
const OWN_ROUTES = [/^\/health\//, /^\/metrics$/, /^\/openapi\.json$/, /^\/docs(\/|$)/];

const PARTS = ['params', 'querystring', 'body', 'headers'] as const;

function isZod(value: unknown): boolean {
  return value instanceof $ZodType;
}

/** A route whose schema is zod (any part): validated and serialized by zod, described from it. */
export function hasZodSchema(schema: FastifySchema | undefined): boolean {
  if (!schema) return false;
  if (PARTS.some((part) => isZod(schema[part]))) return true;
  const response = schema.response as Record<string, unknown> | undefined;
  return response !== undefined && Object.values(response).some(isZod);
}

type ZodTransform = ReturnType<ZodProvider['createJsonSchemaTransform']>;
type TransformInput = Parameters<ZodTransform>[0];

// Zod schemas become JSON Schema; JSON Schema routes (Atlas's own) pass as they are.
function transformWith(zodTransform: ZodTransform) {
  return (input: TransformInput) => {
    const { url, schema } = input;
    if (OWN_ROUTES.some((pattern) => pattern.test(url))) return { schema: { hide: true }, url };
    return hasZodSchema(schema as FastifySchema) ? zodTransform(input) : { schema, url };
  };
}

/** A bare Fastify serving Scalar's API reference of the document at /openapi.json. */
async function referenceApp(service: string): Promise<FastifyInstance> {
  const { default: scalar } = await import('@scalar/fastify-api-reference');
  const reference = Fastify();
  await reference.register(scalar, {
    routePrefix: DOCS_PATH,
    configuration: { url: OPENAPI_PATH, withDefaultFonts: false, title: `${service} API` },
  });
  await reference.ready();
  return reference;
}

const problemContent = { [PROBLEM_MEDIA_TYPE]: { schema: { $ref: '#/components/schemas/Problem' } } };

type Operation = { parameters?: unknown[]; requestBody?: unknown; responses?: Record<string, unknown> };

/**
 * Every operation answers errors as problem+json: a `400` (invalid input,
 * the failing fields in `errors`) where it takes input, and `default` for
 * the rest, both the shared Problem schema.
 */
function withProblems(document: Record<string, unknown>): Record<string, unknown> {
  const paths = (document.paths ?? {}) as Record<string, Record<string, Operation>>;
  for (const item of Object.values(paths)) {
    for (const operation of Object.values(item)) {
      if (typeof operation !== 'object' || operation === null || !('responses' in operation)) continue;
      operation.responses ??= {};
      const responses = operation.responses;
      const takesInput = (operation.parameters?.length ?? 0) > 0 || operation.requestBody !== undefined;
      if (takesInput && !responses['400'])
        responses['400'] = { description: 'Invalid input: the failing fields in `errors`', content: problemContent };
      responses.default ??= { description: 'An error, as RFC 9457 problem details', content: problemContent };
    }
  }
  const components = (document.components ?? {}) as { schemas?: Record<string, unknown> };
  return { ...document, components: { ...components, schemas: { ...PROBLEM_JSON_SCHEMAS, ...components.schemas } } };
}

// @fastify/swagger, required at the document's first use: it loads yaml
// and a JSON Schema resolver (about 90 files), which no start need pay.
const require = createRequire(import.meta.url);

type ZodProvider = typeof import('fastify-type-provider-zod');
let zodProvider: ZodProvider | undefined;

/**
 * fastify-type-provider-zod, required when the first zod route is added or
 * the document made (a service without zod routes never loads it). Its ES
 * module, by path: `require` by name would pick its CommonJS build, and with
 * it a second copy of zod whose schemas are not this one's.
 */
function zodTypeProvider(): ZodProvider {
  zodProvider ??= require(esModuleOf('fastify-type-provider-zod')) as ZodProvider;
  return zodProvider;
}

/**
 * The file of a package's ES module (its exports' `default` condition, as
 * `import` resolves it), found from the package.json above the CommonJS entry
 * `require.resolve` finds: `import.meta.resolve` would say it at once, but
 * vitest's module runner, which runs a service's tests, does not support it.
 */
function esModuleOf(name: string): string {
  const { dirname, join } = process.getBuiltinModule('node:path');
  const { readFileSync, existsSync } = process.getBuiltinModule('node:fs');
  let dir = dirname(require.resolve(name));
  while (dir !== dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const manifest = JSON.parse(readFileSync(file, 'utf8')) as { name?: string; exports?: unknown };
      if (manifest.name === name) {
        const root = (manifest.exports as Record<string, unknown> | undefined)?.['.'] ?? manifest.exports;
        const entry = (root as { default?: { default?: string } | string } | undefined)?.default;
        const path = typeof entry === 'string' ? entry : entry?.default;
        if (path) return join(dir, path);
        break;
      }
    }
    dir = dirname(dir);
  }
  throw new Error(`no ES module entry found for ${name}`);
}

type Hook = (...args: never[]) => unknown;
type SwaggerPlugin = (instance: unknown, options: FastifyDynamicSwaggerOptions, done: (err?: Error) => void) => void;

/** What @fastify/swagger's dynamic mode is shown, recorded from the start on. */
interface Recorded {
  readonly routes: RouteOptions[];
  readonly instances: FastifyInstance[];
}

/**
 * The document, made by @fastify/swagger's dynamic mode as if it had been
 * registered at start: its plugin function gets a stand-in instance that
 * keeps its three hooks (onRoute, onRegister, onReady) and its decorator,
 * the recorded encapsulated instances and routes go through those hooks in
 * the order Fastify ran them, and its onReady reads the shared schemas.
 */
function swaggerDocument(app: FastifyInstance, recorded: Recorded, options: OpenApiOptions): Record<string, unknown> {
  const { fastifySwagger } = require('@fastify/swagger') as { fastifySwagger: SwaggerPlugin };
  const hooks = new Map<string, Hook>();
  let swagger: (() => unknown) | undefined;
  const standIn = {
    addHook: (name: string, hook: Hook) => hooks.set(name, hook),
    decorate: (_name: string, value: () => unknown) => {
      swagger = value;
    },
    getSchemas: () => app.getSchemas(),
  };
  let failed: Error | undefined;
  const { createJsonSchemaTransform, jsonSchemaTransformObject } = zodTypeProvider();
  const zodTransform = createJsonSchemaTransform({ skipList: [] });
  fastifySwagger(
    standIn,
    {
      openapi: { openapi: '3.1.0', info: { title: options.service, version: options.version } },
      transform: transformWith(zodTransform) as never,
      transformObject: ((input: Parameters<typeof jsonSchemaTransformObject>[0]) =>
        withProblems(jsonSchemaTransformObject(input) as Record<string, unknown>)) as never,
    },
    (err) => {
      failed = err;
    },
  );
  if (failed) throw failed;
  const call = (name: string, ...args: unknown[]) => (hooks.get(name) as (...a: unknown[]) => unknown)(...args);
  for (const instance of recorded.instances) call('onRegister', instance);
  for (const route of recorded.routes) call('onRoute', route);
  call('onReady', () => {});
  return (swagger as () => Record<string, unknown>)();
}

/** The document, its JSON and its hash. */
interface Described {
  readonly document: Readonly<Record<string, unknown>>;
  readonly body: string;
  readonly hash: string;
}

function describeApi(app: FastifyInstance, recorded: Recorded, options: OpenApiOptions): Described {
  const document = swaggerDocument(app, recorded, options);
  const body = JSON.stringify(document);
  return {
    document: Object.freeze(document),
    body,
    hash: createHash('sha256').update(body).digest('hex').slice(0, 16),
  };
}

/**
 * Route schemas as the service's contract. A route whose schema is zod
 * (`params`, `querystring`, `body`, `headers`, `response`) is validated by
 * it (invalid input: the problem+json 400 listing the failing fields), its
 * answer is checked and stripped to the response schema, and it is
 * described in the OpenAPI 3.1 document served at `/openapi.json` (with
 * @fastify/swagger and fastify-type-provider-zod's transform), errors as
 * the shared Problem schema. The document is built once, at its first use
 * after the app is ready (the first `/openapi.json`, `app.openapi`, or
 * Atlas's registration), so a start loads none of @fastify/swagger; then
 * serving it costs a string send. Outside production, `/docs` shows
 * it with Scalar's API reference, whose script is served by the service
 * itself (no CDN, no web fonts), loaded at the first visit.
 *
 * @example
 * app.withTypeProvider<ZodTypeProvider>().get('/price/:n', { schema: { params: z.object({ n: z.coerce.number() }) } },
 *   async (request) => ({ n: request.params.n }));
 * await app.ready(); app.openapi.document; // { openapi: '3.1.0', paths: { '/price/{n}': ... } }
 */
export const openapi = fp(
  async function openapi(app: FastifyInstance, options: OpenApiOptions) {
    // Kept for the document, as @fastify/swagger's own hooks would keep them.
    const recorded: Recorded = { routes: [], instances: [] };
    app.addHook('onRoute', (route: RouteOptions) => {
      recorded.routes.push(route);
      if (!hasZodSchema(route.schema)) return;
      const { validatorCompiler, serializerCompiler } = zodTypeProvider();
      route.validatorCompiler ??= validatorCompiler as RouteOptions['validatorCompiler'];
      route.serializerCompiler ??= serializerCompiler as RouteOptions['serializerCompiler'];
    });
    app.addHook('onRegister', (instance) => {
      recorded.instances.push(instance);
    });

    let ready = false;
    // A route schema the document cannot describe fails each use alike (a 500 at /openapi.json), once built.
    let cached: Described | Error | undefined;
    const described = (): Described => {
      if (cached === undefined) {
        try {
          cached = describeApi(app, recorded, options);
        } catch (err) {
          cached = err as Error;
        }
      }
      if (cached instanceof Error) throw cached;
      return cached;
    };
    const description: ApiDescription = {
      get document() {
        return ready ? described().document : undefined;
      },
      get hash() {
        return ready ? described().hash : undefined;
      },
    };
    app.decorate('openapi', { getter: () => description });
    app.addHook('onReady', async () => {
      ready = true;
    });
    app.get(OPENAPI_PATH, { logLevel: 'warn' }, async (_request, reply) =>
      reply.type('application/json; charset=utf-8').send(described().body),
    );

    if (options.docs) {
      // Scalar's plugin carries its 5 MB script inline: loaded at the first
      // visit to /docs, in a Fastify of its own answered through inject, so
      // no start and no request elsewhere pays for it.
      let reference: Promise<FastifyInstance> | undefined;
      const docs = async (request: FastifyRequest, reply: FastifyReply) => {
        reference ??= referenceApp(options.service);
        const answer = await (await reference).inject({ method: 'GET', url: pathOf(request.url) });
        for (const name of ['content-type', 'location', 'cache-control']) {
          const value = answer.headers[name];
          if (value !== undefined) reply.header(name, value);
        }
        return reply.code(answer.statusCode).send(answer.rawPayload);
      };
      app.get(DOCS_PATH, { logLevel: 'warn' }, docs);
      app.get(`${DOCS_PATH}/*`, { logLevel: 'warn' }, docs);
      app.addHook('onClose', async () => {
        if (reference) await (await reference).close();
      });
    }
  },
  { name: 'smart-openapi', dependencies: ['smart-problem-errors'] },
);
