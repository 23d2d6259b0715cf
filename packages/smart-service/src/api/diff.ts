/**
 * Breaking changes between two OpenAPI 3.x documents of one service: what
 * an old client, still calling the new version, would trip on. A request
 * must still be accepted (no new required input, no narrower type or
 * constraint); an answer must still hold what the old one promised (no
 * removed or newly optional field, no changed type, no new enum value).
 * Written here rather than taken from a library: openapi-diff reads
 * Swagger 2 and OpenAPI 3.0 only, and Optic's classifier comes with its
 * CLI and rulesets (dozens of packages) for what is ~200 lines of rules.
 */

/** One difference between the two documents. */
export interface ApiChange {
  /** `'GET /price/{n}'`. */
  readonly route: string;
  /** Where in the route: `query n`, `body .amount`, `response 200 .cost`, or `''` for the route itself. */
  readonly where: string;
  readonly kind: ApiChangeKind;
  readonly breaking: boolean;
  /** One line for people: `GET /price/{n}: response 200 .cost: removed`. */
  readonly message: string;
}

export type ApiChangeKind =
  | 'route-removed'
  | 'route-added'
  | 'input-required'
  | 'input-added'
  | 'input-removed'
  | 'type-changed'
  | 'type-widened'
  | 'type-narrowed'
  | 'constraint-narrowed'
  | 'constraint-widened'
  | 'enum-narrowed'
  | 'enum-widened'
  | 'field-removed'
  | 'field-added'
  | 'field-optional'
  | 'status-removed'
  | 'status-added';

type Schema = Record<string, unknown>;
type Doc = Record<string, unknown>;
type Direction = 'request' | 'response';

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'] as const;

const BREAKING: Record<ApiChangeKind, Record<Direction, boolean>> = {
  'route-removed': { request: true, response: true },
  'route-added': { request: false, response: false },
  'input-required': { request: true, response: true },
  'input-added': { request: false, response: false },
  'input-removed': { request: false, response: false },
  'type-changed': { request: true, response: true },
  // A request that takes more is fine; an answer that may hold more (null) is not.
  'type-widened': { request: false, response: true },
  'type-narrowed': { request: true, response: false },
  'constraint-narrowed': { request: true, response: false },
  'constraint-widened': { request: false, response: false },
  'enum-narrowed': { request: true, response: false },
  'enum-widened': { request: false, response: true },
  'field-removed': { request: false, response: true },
  'field-added': { request: false, response: false },
  'field-optional': { request: false, response: true },
  'status-removed': { request: true, response: true },
  'status-added': { request: false, response: false },
};

class Differ {
  readonly changes: ApiChange[] = [];
  readonly #old: Doc;
  readonly #new: Doc;

  constructor(oldDoc: Doc, newDoc: Doc) {
    this.#old = oldDoc;
    this.#new = newDoc;
  }

  add(route: string, where: string, kind: ApiChangeKind, direction: Direction, what: string): void {
    const place = where ? `${where}: ` : '';
    this.changes.push({
      route,
      where,
      kind,
      breaking: BREAKING[kind][direction],
      message: `${route}: ${place}${what}`,
    });
  }

  /** A schema with `$ref`s of its document followed and `anyOf [X, null]` folded into X's types. */
  resolve(schema: unknown, doc: 'old' | 'new', depth = 0): Schema {
    if (typeof schema !== 'object' || schema === null || depth > 20) return {};
    let s = schema as Schema;
    const ref = s.$ref;
    if (typeof ref === 'string' && ref.startsWith('#/')) {
      let target: unknown = doc === 'old' ? this.#old : this.#new;
      for (const part of ref.slice(2).split('/')) target = (target as Record<string, unknown> | undefined)?.[part];
      s = {
        ...this.resolve(target, doc, depth + 1),
        ...Object.fromEntries(Object.entries(s).filter(([k]) => k !== '$ref')),
      };
    }
    const union = (s.anyOf ?? s.oneOf) as unknown[] | undefined;
    if (Array.isArray(union)) {
      const branches = union.map((branch) => this.resolve(branch, doc, depth + 1));
      const nulls = branches.filter((b) => b.type === 'null');
      const rest = branches.filter((b) => b.type !== 'null');
      if (rest.length === 1 && rest[0]) {
        const types = typesOf(rest[0]);
        return { ...rest[0], type: nulls.length ? [...types, 'null'] : types };
      }
      if (rest.every((b) => Object.keys(b).every((k) => k === 'type' || k === 'description'))) {
        return { type: branches.flatMap(typesOf) };
      }
    }
    return s;
  }

  compare(route: string, where: string, oldRaw: unknown, newRaw: unknown, direction: Direction, depth = 0): void {
    if (depth > 12) return;
    const before = this.resolve(oldRaw, 'old');
    const after = this.resolve(newRaw, 'new');
    const oldTypes = typesOf(before);
    const newTypes = typesOf(after);
    if (oldTypes.length && newTypes.length && !sameSet(oldTypes, newTypes)) {
      // integer fits in number: number where integer was is wider, integer where number was narrower.
      const covers = (wide: string[], narrow: string[]) =>
        narrow.every((t) => wide.includes(t) || (t === 'integer' && wide.includes('number')));
      const label = `type ${oldTypes.join('|')} -> ${newTypes.join('|')}`;
      if (covers(newTypes, oldTypes)) this.add(route, where, 'type-widened', direction, label);
      else if (covers(oldTypes, newTypes)) this.add(route, where, 'type-narrowed', direction, label);
      else {
        this.add(route, where, 'type-changed', direction, label);
        return;
      }
    }
    this.compareEnums(route, where, before, after, direction);
    if (direction === 'request') this.compareConstraints(route, where, before, after);
    this.compareProperties(route, where, before, after, direction, depth);
    if (before.items || after.items) this.compare(route, `${where}[]`, before.items, after.items, direction, depth + 1);
  }

  compareEnums(route: string, where: string, before: Schema, after: Schema, direction: Direction): void {
    const oldValues = valuesOf(before);
    const newValues = valuesOf(after);
    if (!oldValues && !newValues) return;
    if (!newValues) {
      this.add(route, where, 'enum-widened', direction, 'any value now');
      return;
    }
    if (!oldValues) {
      this.add(route, where, 'enum-narrowed', direction, `only ${newValues.map(show).join(', ')} now`);
      return;
    }
    const removed = oldValues.filter((v) => !newValues.includes(v));
    const added = newValues.filter((v) => !oldValues.includes(v));
    if (removed.length) this.add(route, where, 'enum-narrowed', direction, `${removed.map(show).join(', ')} removed`);
    if (added.length) this.add(route, where, 'enum-widened', direction, `${added.map(show).join(', ')} added`);
  }

  compareConstraints(route: string, where: string, before: Schema, after: Schema): void {
    // [keyword, true when a larger value accepts more]
    const bounds: [string, boolean][] = [
      ['maxLength', true],
      ['maximum', true],
      ['exclusiveMaximum', true],
      ['maxItems', true],
      ['maxProperties', true],
      ['minLength', false],
      ['minimum', false],
      ['exclusiveMinimum', false],
      ['minItems', false],
    ];
    for (const [keyword, upper] of bounds) {
      const was = before[keyword];
      const now = after[keyword];
      if (was === now || (typeof was !== 'number' && typeof now !== 'number')) continue;
      const narrower = typeof now === 'number' && (typeof was !== 'number' || (upper ? now < was : now > was));
      const text = `${keyword} ${was ?? 'none'} -> ${now ?? 'none'}`;
      this.add(route, where, narrower ? 'constraint-narrowed' : 'constraint-widened', 'request', text);
    }
    if (before.pattern !== after.pattern && after.pattern !== undefined)
      this.add(route, where, 'constraint-narrowed', 'request', `pattern ${String(after.pattern)}`);
  }

  compareProperties(
    route: string,
    where: string,
    before: Schema,
    after: Schema,
    direction: Direction,
    depth: number,
  ): void {
    const oldProps = (before.properties ?? {}) as Record<string, unknown>;
    const newProps = (after.properties ?? {}) as Record<string, unknown>;
    const oldRequired = new Set((before.required ?? []) as string[]);
    const newRequired = new Set((after.required ?? []) as string[]);
    for (const name of Object.keys(oldProps)) {
      const at = `${where} .${name}`.trim();
      if (!(name in newProps)) {
        this.add(route, at, 'field-removed', direction, 'removed');
        continue;
      }
      if (direction === 'request' && !oldRequired.has(name) && newRequired.has(name))
        this.add(route, at, 'input-required', direction, 'now required');
      if (direction === 'response' && oldRequired.has(name) && !newRequired.has(name))
        this.add(route, at, 'field-optional', direction, 'may now be missing');
      this.compare(route, at, oldProps[name], newProps[name], direction, depth + 1);
    }
    for (const name of Object.keys(newProps)) {
      if (name in oldProps) continue;
      const at = `${where} .${name}`.trim();
      if (direction === 'request' && newRequired.has(name))
        this.add(route, at, 'input-required', direction, 'new required field');
      else this.add(route, at, 'field-added', direction, direction === 'request' ? 'new optional field' : 'added');
    }
  }
}

function typesOf(schema: Schema): string[] {
  const type = schema.type;
  if (Array.isArray(type)) return [...new Set(type as string[])].sort();
  return typeof type === 'string' ? [type] : [];
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

function valuesOf(schema: Schema): unknown[] | undefined {
  if (Array.isArray(schema.enum)) return schema.enum;
  if ('const' in schema) return [schema.const];
  return undefined;
}

const show = (value: unknown) => JSON.stringify(value);

type Operation = {
  parameters?: { name: string; in: string; required?: boolean; schema?: unknown; $ref?: string }[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: unknown }> };
  responses?: Record<string, { content?: Record<string, { schema?: unknown }> }>;
};

// `/users/{name}` and `/users/{id}` are one route: parameter names are not part of a URL.
const routeKey = (method: string, path: string) => `${method.toUpperCase()} ${path.replace(/\{[^}]+\}/g, '{}')}`;

function operationsOf(doc: Doc): Map<string, { route: string; operation: Operation }> {
  const operations = new Map<string, { route: string; operation: Operation }>();
  const paths = (doc.paths ?? {}) as Record<string, Record<string, Operation>>;
  for (const [path, item] of Object.entries(paths)) {
    for (const method of METHODS) {
      const operation = item[method];
      if (operation) operations.set(routeKey(method, path), { route: `${method.toUpperCase()} ${path}`, operation });
    }
  }
  return operations;
}

const jsonSchemaOf = (content: Record<string, { schema?: unknown }> | undefined): unknown => {
  if (!content) return undefined;
  const key = Object.keys(content).find((type) => type.includes('json')) ?? Object.keys(content)[0];
  return key === undefined ? undefined : content[key]?.schema;
};

function compareOperation(differ: Differ, route: string, before: Operation, after: Operation): void {
  const paramKey = (p: { name: string; in: string }) => `${p.in} ${p.name}`;
  const oldParams = new Map((before.parameters ?? []).map((p) => [paramKey(p), p]));
  const newParams = new Map((after.parameters ?? []).map((p) => [paramKey(p), p]));
  for (const [key, param] of newParams) {
    const old = oldParams.get(key);
    // A path parameter renamed is the same parameter: matched by position in the route key.
    if (!old && param.in === 'path') continue;
    if (!old) {
      differ.add(
        route,
        key,
        param.required ? 'input-required' : 'input-added',
        'request',
        param.required ? 'new required parameter' : 'new optional parameter',
      );
      continue;
    }
    if (param.required && !old.required) differ.add(route, key, 'input-required', 'request', 'now required');
    differ.compare(route, key, old.schema, param.schema, 'request');
  }
  for (const [key, param] of oldParams) {
    if (!newParams.has(key) && param.in !== 'path')
      differ.add(route, key, 'input-removed', 'request', 'no longer read');
  }

  const oldBody = before.requestBody;
  const newBody = after.requestBody;
  if (newBody && !oldBody && newBody.required)
    differ.add(route, 'body', 'input-required', 'request', 'a body is now required');
  else if (newBody?.required && oldBody && !oldBody.required)
    differ.add(route, 'body', 'input-required', 'request', 'now required');
  if (oldBody && newBody)
    differ.compare(route, 'body', jsonSchemaOf(oldBody.content), jsonSchemaOf(newBody.content), 'request');

  const successes = (op: Operation) => Object.keys(op.responses ?? {}).filter((status) => /^2/.test(status));
  const newSuccesses = successes(after);
  for (const status of successes(before)) {
    if (!newSuccesses.includes(status)) {
      differ.add(route, `response ${status}`, 'status-removed', 'response', 'no longer answered');
      continue;
    }
    differ.compare(
      route,
      `response ${status}`,
      jsonSchemaOf(before.responses?.[status]?.content),
      jsonSchemaOf(after.responses?.[status]?.content),
      'response',
    );
  }
  for (const status of newSuccesses)
    if (!successes(before).includes(status))
      differ.add(route, `response ${status}`, 'status-added', 'response', 'new answer');
}

/**
 * Every difference between two OpenAPI documents that a client could
 * notice, each classified breaking or not; breaking ones first.
 *
 * @example
 * const changes = diffApis(released, current);
 * if (changes.some((c) => c.breaking)) process.exitCode = 1;
 */
export function diffApis(oldDoc: Doc, newDoc: Doc): ApiChange[] {
  const differ = new Differ(oldDoc, newDoc);
  const before = operationsOf(oldDoc);
  const after = operationsOf(newDoc);
  for (const [key, { route, operation }] of before) {
    const next = after.get(key);
    if (!next) differ.add(route, '', 'route-removed', 'request', 'route removed');
    else compareOperation(differ, route, operation, next.operation);
  }
  for (const [key, { route }] of after)
    if (!before.has(key)) differ.add(route, '', 'route-added', 'request', 'new route');
  return [...differ.changes].sort((a, b) => Number(b.breaking) - Number(a.breaking));
}

/**
 * The report `smart api diff` prints: breaking changes, then the
 * compatible ones, then a count.
 *
 * @example
 * console.log(formatChanges(diffApis(released, current)));
 */
export function formatChanges(changes: readonly ApiChange[], accepted: ReadonlySet<string> = new Set()): string {
  const lines = changes.map((change) => {
    const label = !change.breaking ? 'compatible' : accepted.has(change.message) ? 'accepted breaking' : 'BREAKING';
    return `${label}: ${change.message}`;
  });
  const breaking = changes.filter((c) => c.breaking && !accepted.has(c.message)).length;
  const summary =
    changes.length === 0
      ? 'no changes to the API'
      : `${breaking} breaking change${breaking === 1 ? '' : 's'}, ${changes.length - breaking} other${changes.length - breaking === 1 ? '' : 's'}`;
  return [...lines, summary].join('\n');
}
