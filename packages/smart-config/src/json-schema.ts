import { z } from 'zod';
import type { ConfigDefinition } from './define-config.ts';

/** The mark of a secret key in a published schema. */
export const SECRET_KEYWORD = 'x-smart-secret';

type JsonSchema = { properties?: Record<string, JsonSchema>; [keyword: string]: unknown };

/**
 * The JSON Schema (draft 2020-12) of a config definition, as a service
 * publishes it to Atlas so Atlas can refuse a bad value before any instance
 * sees it: zod's `z.toJSONSchema` of the schema's input (a key with a
 * default may be left out; types zod cannot express in JSON Schema accept
 * anything), with every `secret()` key marked `"x-smart-secret": true` (a
 * plain write to it is refused).
 *
 * @example
 * const schema = configJsonSchema(definition);
 * await atlas.publishConfigSchema('orders', 'production', schema);
 */
export function configJsonSchema(definition: ConfigDefinition): Record<string, unknown> {
  const schema = z.toJSONSchema(definition.schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  for (const key of definition.keys) {
    if (!key.secret) continue;
    let node: JsonSchema | undefined = schema;
    for (const segment of key.path) node = node?.properties?.[segment];
    if (node) node[SECRET_KEYWORD] = true;
  }
  return schema;
}
