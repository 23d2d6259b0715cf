import type { FastifyInstance } from 'fastify';
import { checkInstanceWriter, checkRealm } from '../auth.ts';
import type { ConfigSchemaStore } from '../config-schemas.ts';
import type { ConfigValidator } from '../config-validation.ts';
import { notFound } from '../errors.ts';
import type { AuditEntry } from '../store.ts';
import { auditEntry, REALM, SERVICE } from './shared.ts';

const GLOBAL = '_global';

/** What the config-schema routes need. */
export interface ConfigSchemaContext {
  readonly schemas: ConfigSchemaStore;
  readonly validator: ConfigValidator;
  readonly audit: (entry: AuditEntry) => Promise<void>;
}

const params = {
  type: 'object',
  required: ['service', 'realm'],
  properties: { service: { type: 'string', pattern: SERVICE }, realm: { type: 'string', pattern: REALM } },
} as const;

/**
 * Checks one config write against the published schemas: the service's own
 * for its keys; for a `_global` key, every schema of the realm that has the
 * key. Nothing is checked for a service that published no schema.
 *
 * @example
 * await checkConfigWrite(context, 'orders', 'production', 'db.poolMax', 'lots', false); // 422
 */
export async function checkConfigWrite(
  context: ConfigSchemaContext,
  service: string,
  realm: string,
  key: string,
  value: unknown,
  secret: boolean,
): Promise<void> {
  if (service !== GLOBAL) {
    const record = await context.schemas.get(service, realm);
    if (record) context.validator.check(record, key, value, secret);
    return;
  }
  for (const record of await context.schemas.list(realm)) {
    if (context.validator.has(record.schema, key)) context.validator.check(record, key, value, secret);
  }
}

/**
 * `PUT /v1/config-schema/:service/:realm` (the service's own token or an
 * admin): a service publishes its config schema when it registers; `GET`
 * reads it back (any token of the realm). Audited.
 */
export async function configSchemaRoutes(app: FastifyInstance, context: ConfigSchemaContext) {
  app.put(
    '/v1/config-schema/:service/:realm',
    {
      schema: {
        params,
        body: {
          type: 'object',
          required: ['schema'],
          additionalProperties: false,
          properties: { schema: { type: 'object' } },
        },
      },
    },
    async (request, reply) => {
      const { service, realm } = request.params as { service: string; realm: string };
      // The same rule as registering: an admin, or the service's own token, in the realm.
      checkInstanceWriter(request.principal, service, realm);
      const { schema } = request.body as { schema: Record<string, unknown> };
      await context.schemas.put({
        service,
        realm,
        schema,
        updatedAt: Date.now(),
        updatedBy: request.principal.actor,
      });
      await context.audit(auditEntry(request, 'config-schema.set', `${service}/${realm}`));
      return reply.code(204).send();
    },
  );

  app.get('/v1/config-schema/:service/:realm', { schema: { params } }, async (request) => {
    const { service, realm } = request.params as { service: string; realm: string };
    checkRealm(request.principal, realm);
    const record = await context.schemas.get(service, realm);
    if (!record) throw notFound(`config schema of ${service} in realm ${realm}`);
    return { service, realm, schema: record.schema, updatedAt: record.updatedAt, updatedBy: record.updatedBy };
  });
}
