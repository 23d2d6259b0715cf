import { createRequire } from 'node:module';
import type { FastifyServerOptions } from 'fastify';

// Fastify requires its two JSON Schema compilers when it is made: Ajv for
// validation (@fastify/ajv-compiler with ajv and fast-uri, ~95 files, ~40 ms
// of a cold start) and fast-json-stringify for answers (~15 files, ~15 ms).
// Only routes with a JSON Schema use them (zod routes bring their own
// compilers; the framework's routes have none): given as factories here, each
// is required when the first route that needs it is compiled, in the same
// versions Fastify would use.
const require = createRequire(import.meta.url);

type Compilers = NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>;
type ValidatorFactory = NonNullable<Compilers['buildValidator']>;
type SerializerFactory = NonNullable<Compilers['buildSerializer']>;
// What Fastify hands a validator compiler, and the compiler.
interface RouteSchema {
  readonly schema: unknown;
  readonly method: string;
  readonly url: string;
  readonly httpPart: string;
}
type ValidatorCompiler = (route: RouteSchema) => unknown;

// The slice of Fastify's lib/validation.js used for header schemas (below).
interface FastifyValidation {
  compileSchemasForValidation(
    context: { schema: Record<string, unknown>; config: { method?: string; url?: string } },
    compile: ValidatorCompiler,
    isCustom: boolean,
  ): void;
  symbols: { headersSchema: symbol };
}

/**
 * Compiles a header schema as Fastify compiles one for its own Ajv: Fastify
 * hands a compiler it did not make (this factory's) a header schema as
 * written, but its own gets it with every header name lowercased, as Node
 * lowercases every name it receives (and with Fastify's warnings about
 * references it cannot lowercase). So header schemas go through Fastify's
 * own preparation, and `X-Api-Key` in `required` still matches.
 */
function headerCompiler(compile: ValidatorCompiler): ValidatorCompiler {
  const validation = require('fastify/lib/validation.js') as FastifyValidation;
  const compiler = (route: RouteSchema) => {
    if (route.httpPart !== 'headers') return compile(route);
    const context = { schema: { headers: route.schema }, config: { method: route.method, url: route.url } };
    validation.compileSchemasForValidation(context, compile, false);
    return (context as unknown as Record<symbol, unknown>)[validation.symbols.headersSchema];
  };
  // With the compiler's own marks (Ajv's instance, for standalone code).
  return Object.assign(compiler, compile);
}

/**
 * Fastify's own schema compilers, required at their first use.
 *
 * @example
 * Fastify({ schemaController: { compilersFactory: lazySchemaCompilers() } });
 */
export function lazySchemaCompilers(): { buildValidator: ValidatorFactory; buildSerializer: SerializerFactory } {
  type Validators = (externalSchemas: unknown, options: unknown) => ValidatorCompiler;
  let validators: Validators | undefined;
  let serializers: SerializerFactory | undefined;
  const buildValidator: Validators = (externalSchemas, options) => {
    validators ??= (require('@fastify/ajv-compiler') as () => Validators)();
    return headerCompiler(validators(externalSchemas, options));
  };
  return {
    buildValidator: buildValidator as unknown as ValidatorFactory,
    buildSerializer: (externalSchemas, options) => {
      serializers ??= (require('@fastify/fast-json-stringify-compiler') as () => SerializerFactory)();
      return serializers(externalSchemas, options);
    },
  };
}
