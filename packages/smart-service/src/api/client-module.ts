/**
 * `smart api client`: a typed client module generated from a service's
 * OpenAPI document, for callers in another repository. It declares the
 * service's `Api` (the shape `serviceClient` takes) from the document's
 * schemas and exports a factory over the smart client. openapi-typescript
 * would print the path types, but it builds them with the TypeScript 5
 * compiler API, which TypeScript 7 (the native compiler this project and
 * the services it generates use) does not have; the JSON Schema the zod
 * transform emits is small enough to print here.
 */

type Schema = Record<string, unknown>;

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
// Single-quoted, as the project's formatter (and most TypeScript code) writes strings.
const quote = (text: string) => `'${JSON.stringify(text).slice(1, -1).replace(/\\"/g, '"').replace(/'/g, "\\'")}'`;
const literal = (value: unknown) => (typeof value === 'string' ? quote(value) : JSON.stringify(value));
const key = (name: string) => (IDENTIFIER.test(name) ? name : quote(name));
const typeName = (name: string) => name.replace(/[^A-Za-z0-9_$]/g, '_').replace(/^([0-9])/, '_$1');

function comment(schema: Schema, pad: string): string {
  const text = schema.description;
  return typeof text === 'string' && text ? `${pad}/** ${text.replace(/\*\//g, '* /')} */\n` : '';
}

/** The TypeScript type of a JSON Schema (2020-12, as OpenAPI 3.1 uses it). */
export function typeOfSchema(raw: unknown, indent = ''): string {
  if (raw === true || raw === undefined) return 'unknown';
  if (raw === false) return 'never';
  const schema = raw as Schema;
  if (typeof schema.$ref === 'string') return typeName(schema.$ref.split('/').pop() ?? 'unknown');
  if ('const' in schema) return literal(schema.const);
  if (Array.isArray(schema.enum)) return schema.enum.map(literal).join(' | ') || 'never';
  const union = (schema.anyOf ?? schema.oneOf) as unknown[] | undefined;
  if (Array.isArray(union)) return union.map((s) => wrap(typeOfSchema(s, indent))).join(' | ');
  if (Array.isArray(schema.allOf)) return schema.allOf.map((s) => wrap(typeOfSchema(s, indent))).join(' & ');
  const types = Array.isArray(schema.type)
    ? (schema.type as string[])
    : typeof schema.type === 'string'
      ? [schema.type]
      : [];
  if (types.length > 1) return types.map((type) => wrap(typeOfSchema({ ...schema, type }, indent))).join(' | ');
  switch (types[0] ?? (schema.properties ? 'object' : undefined)) {
    case 'string':
      return 'string';
    case 'number':
    case 'integer':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'null':
      return 'null';
    case 'array':
      if (Array.isArray(schema.prefixItems))
        return `[${schema.prefixItems.map((s) => typeOfSchema(s, indent)).join(', ')}]`;
      return `Array<${typeOfSchema(schema.items, indent)}>`;
    case 'object':
      return objectType(schema, indent);
    default:
      return 'unknown';
  }
}

const wrap = (type: string) => (/[|&]/.test(type) && !type.startsWith('{') ? `(${type})` : type);

function objectType(schema: Schema, indent: string): string {
  const properties = (schema.properties ?? {}) as Record<string, Schema>;
  const required = new Set((schema.required ?? []) as string[]);
  const inner = `${indent}  `;
  const lines = Object.entries(properties).map(
    ([name, property]) =>
      `${comment(property, inner)}${inner}${key(name)}${required.has(name) ? '' : '?'}: ${typeOfSchema(property, inner)};`,
  );
  const extra = schema.additionalProperties;
  // Extra members are allowed: typed unknown (an index signature must admit every named member's type).
  if (extra !== undefined && extra !== false) lines.push(`${inner}[key: string]: unknown;`);
  if (lines.length === 0) return extra === false ? 'Record<string, never>' : 'Record<string, unknown>';
  return `{\n${lines.join('\n')}\n${indent}}`;
}

type Parameter = { name: string; in: string; required?: boolean; schema?: unknown; description?: string };
type Operation = {
  summary?: string;
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: unknown }> };
  responses?: Record<string, { content?: Record<string, { schema?: unknown }> }>;
};

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

const jsonSchemaOf = (content: Record<string, { schema?: unknown }> | undefined): unknown => {
  if (!content) return undefined;
  const type = Object.keys(content).find((t) => t.includes('json'));
  return type === undefined ? undefined : (content[type]?.schema ?? {});
};

function parametersType(parameters: Parameter[], where: string, indent: string): string | undefined {
  const mine = parameters.filter((p) => p.in === where);
  if (mine.length === 0) return undefined;
  const schema = {
    type: 'object',
    properties: Object.fromEntries(mine.map((p) => [p.name, { ...(p.schema as Schema), description: p.description }])),
    required: mine.filter((p) => p.required || where === 'path').map((p) => p.name),
  };
  return typeOfSchema(schema, indent);
}

function routeType(operation: Operation, indent: string): string {
  const inner = `${indent}  `;
  const parts: string[] = [];
  const parameters = operation.parameters ?? [];
  const params = parametersType(parameters, 'path', inner);
  if (params) parts.push(`${inner}params: ${params};`);
  const query = parametersType(parameters, 'query', inner);
  if (query) parts.push(`${inner}query: ${query};`);
  const body = operation.requestBody;
  if (body) {
    const type = typeOfSchema(jsonSchemaOf(body.content), inner);
    parts.push(`${inner}body: ${body.required ? type : `${wrap(type)} | undefined`};`);
  }
  const answers = Object.entries(operation.responses ?? {})
    .filter(([status]) => /^2/.test(status))
    .map(([, response]) => {
      const schema = jsonSchemaOf(response.content);
      return schema === undefined ? 'undefined' : typeOfSchema(schema, inner);
    });
  parts.push(`${inner}answer: ${answers.length ? [...new Set(answers)].join(' | ') : 'unknown'};`);
  return `{\n${parts.join('\n')}\n${indent}}`;
}

/** Options of `generateClientModule`. */
export interface ClientModuleOptions {
  /** The service's name, as `service://` URLs give it; default: the document's `info.title`. */
  readonly service?: string;
  /** Where the document came from, for the header comment. */
  readonly source?: string;
  /** The module the generated code imports `serviceClient` from; default `smart-service`. */
  readonly from?: string;
}

/**
 * A TypeScript module declaring a service's `Api` from its OpenAPI document
 * (paths as the typed client takes them: `/price/:n`) and a factory of its
 * typed client over a smart client.
 *
 * @example
 * const source = generateClientModule(await (await fetch('http://127.0.0.1:3002/openapi.json')).json());
 * // export type Api = { 'GET /price/:n': { params: { n: number }; answer: { n: number; cost: number } } };
 * // export function pricingClient(client: JsonCaller): ServiceClient<Api>
 */
export function generateClientModule(doc: Record<string, unknown>, options: ClientModuleOptions = {}): string {
  const info = (doc.info ?? {}) as { title?: string; version?: string };
  const service = options.service ?? info.title ?? 'service';
  const factory = `${service.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase()).replace(/[^A-Za-z0-9_$]/g, '')}Client`;
  const schemas = ((doc.components as { schemas?: Record<string, Schema> } | undefined)?.schemas ?? {}) as Record<
    string,
    Schema
  >;
  const out: string[] = [
    `// The typed client of ${service} ${info.version ?? ''}, generated by \`smart api client${options.source ? ` ${options.source}` : ''}\` from its OpenAPI document.`,
    '// Do not edit: generate it again when the service changes.',
    `import { type JsonCaller, type ServiceClient, serviceClient } from '${options.from ?? 'smart-service'}';`,
    '',
  ];
  for (const [name, schema] of Object.entries(schemas).sort(([a], [b]) => a.localeCompare(b))) {
    out.push(`${comment(schema, '')}export type ${typeName(name)} = ${typeOfSchema(schema)};`, '');
  }
  const routes: string[] = [];
  const paths = (doc.paths ?? {}) as Record<string, Record<string, Operation>>;
  for (const [path, item] of Object.entries(paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (!operation) continue;
      const route = `${method.toUpperCase()} ${path.replace(/\{([^}]+)\}/g, ':$1')}`;
      const summary = operation.summary ? `  /** ${operation.summary.replace(/\*\//g, '* /')} */\n` : '';
      routes.push(`${summary}  ${quote(route)}: ${routeType(operation, '  ')};`);
    }
  }
  out.push(
    `/** ${service}'s routes: paths, inputs and answers for \`serviceClient\`. */`,
    `export type Api = {\n${routes.join('\n')}\n};`,
    '',
    `/** The name ${service} is called by (\`service://${service}/...\`). */`,
    `export const SERVICE = ${quote(service)};`,
    '',
    `/**`,
    ` * A typed client of ${service} over a smart client (\`app.client\` in a service): retries, hedging,`,
    ` * deadlines and RemoteError as for any call.`,
    ` */`,
    `export function ${factory}(client: JsonCaller): ServiceClient<Api> {`,
    '  return serviceClient<Api>(client, SERVICE);',
    '}',
    '',
  );
  return out.join('\n');
}
