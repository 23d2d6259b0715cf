import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { invalidConfig, secretKey } from './errors.ts';

type Node = { [keyword: string]: unknown };

const SECRET_KEYWORD = 'x-smart-secret';
const isNode = (value: unknown): value is Node => typeof value === 'object' && value !== null && !Array.isArray(value);
const escapePointer = (segment: string) => segment.replaceAll('~', '~0').replaceAll('/', '~1');

/**
 * Checks config writes against the schema a service published (JSON Schema
 * draft 2020-12, as smart-config's `configJsonSchema` makes it): the dotted
 * key must be in the schema, a key marked `x-smart-secret` must be written
 * as a secret, and the value must be valid for the key's part of the
 * schema. Strings are coerced the way smart-config coerces them ("20" is a
 * number where a number is wanted), so Atlas refuses only what the service
 * would refuse. Each schema is compiled once (by its publication time).
 *
 * @example
 * validator.check({ service: 'orders', realm: 'production', schema, updatedAt }, 'db.poolMax', 'lots', false);
 * // throws SMART_ATLAS_INVALID_CONFIG: config key db.poolMax of orders: must be integer (type)
 */
export class ConfigValidator {
  readonly #ajv = new Ajv2020({ strict: false, coerceTypes: true, allErrors: false, validateSchema: false });
  readonly #compiled = new Map<string, string>();

  constructor() {
    this.#ajv.addKeyword({ keyword: SECRET_KEYWORD, schemaType: 'boolean' });
  }

  // The schema's id in ajv, added once per publication.
  #idOf(record: { service: string; realm: string; schema: Readonly<Node>; updatedAt: number }): string {
    const name = `${record.service}/${record.realm}`;
    const id = `https://atlas.invalid/config-schema/${name}/${record.updatedAt}`;
    const previous = this.#compiled.get(name);
    if (previous !== id) {
      if (previous) this.#ajv.removeSchema(previous);
      const { $id: _ignored, $schema: _draft, ...schema } = record.schema as Node;
      this.#ajv.addSchema({ ...schema, $id: id });
      this.#compiled.set(name, id);
    }
    return id;
  }

  /**
   * Where `key` lives in the schema: a JSON pointer, and the node (with its
   * secret mark); undefined when the schema has no such key.
   */
  #locate(schema: Readonly<Node>, key: string): { pointer: string; node: Node } | undefined {
    let node: Node = schema as Node;
    let pointer = '';
    for (const segment of key.split('.')) {
      node = this.#deref(schema as Node, node);
      const properties = node.properties;
      if (isNode(properties) && isNode(properties[segment])) {
        node = properties[segment] as Node;
        pointer += `/properties/${escapePointer(segment)}`;
      } else if (isNode(node.additionalProperties)) {
        node = node.additionalProperties;
        pointer += '/additionalProperties';
      } else return undefined;
    }
    return { pointer, node: this.#deref(schema as Node, node) };
  }

  // A local `$ref` (`#/$defs/...`), as zod emits for reused schemas.
  #deref(root: Node, node: Node): Node {
    const ref = node.$ref;
    if (typeof ref !== 'string' || !ref.startsWith('#/')) return node;
    let target: unknown = root;
    for (const part of ref.slice(2).split('/'))
      target = isNode(target) ? target[part.replaceAll('~1', '/').replaceAll('~0', '~')] : undefined;
    return isNode(target) ? target : node;
  }

  /** True when the schema has `key` (a `_global` write is checked only against the schemas that do). */
  has(schema: Readonly<Node>, key: string): boolean {
    return this.#locate(schema, key) !== undefined;
  }

  /** Throws 422 (`SMART_ATLAS_INVALID_CONFIG`, `SMART_ATLAS_SECRET_KEY`) naming the key and the rule. */
  check(
    record: { service: string; realm: string; schema: Readonly<Node>; updatedAt: number },
    key: string,
    value: unknown,
    secret: boolean,
  ): void {
    const found = this.#locate(record.schema, key);
    if (!found) throw invalidConfig(key, record.service, 'the published schema has no such key');
    if (found.node[SECRET_KEYWORD] === true && !secret) throw secretKey(key, record.service);
    const validate = this.#ajv.getSchema(`${this.#idOf(record)}#${found.pointer}`) as ValidateFunction | undefined;
    // A copy: coercion writes into the data it checks.
    if (!validate || validate(structuredClone({ value }).value)) return;
    const error = validate.errors?.[0];
    const where = error?.instancePath ? ` at ${error.instancePath}` : '';
    throw invalidConfig(key, record.service, `${error?.message ?? 'invalid'}${where} (${error?.keyword ?? 'schema'})`);
  }
}
