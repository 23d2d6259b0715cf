import type { FastifyInstance, FastifyRequest } from 'fastify';
import { checkAdmin, checkRealm, seesSecretsOf } from '../auth.ts';
import { blockingQuerySchema, blockingRead } from '../blocking.ts';
import { notFound } from '../errors.ts';
import type { SecretBox } from '../secret-box.ts';
import { type ConfigRow, topics } from '../store.ts';
import { type ConfigSchemaContext, checkConfigWrite } from './config-schema.ts';
import { auditEntry, CONFIG_KEY, REALM, type RouteContext, SERVICE } from './shared.ts';

const GLOBAL = '_global';

const scopeParams = {
  type: 'object',
  required: ['service', 'realm'],
  properties: { service: { type: 'string', pattern: SERVICE }, realm: { type: 'string', pattern: REALM } },
} as const;
const keyParams = {
  type: 'object',
  required: ['service', 'realm', 'key'],
  properties: { ...scopeParams.properties, key: { type: 'string', pattern: CONFIG_KEY, maxLength: 200 } },
} as const;

interface Scope {
  service: string;
  realm: string;
  key?: string;
}

/** One key of a config answer. `value` is absent when the caller may not see the secret. */
export interface ConfigEntry {
  readonly key: string;
  readonly value?: unknown;
  readonly secret: boolean;
  /** Where it is set: the service itself or `_global`. */
  readonly source: string;
}

const nameOf = (row: Pick<ConfigRow, 'service' | 'realm' | 'key'>) => `${row.service}/${row.realm}/${row.key}`;

/** Config per service and realm, `_global` underneath every service, secrets encrypted at rest. */
export async function configRoutes(
  app: FastifyInstance,
  context: RouteContext & { box: SecretBox; schemaContext: ConfigSchemaContext },
) {
  const { store, box } = context;

  // The service's keys over `_global`'s; secret values only for those allowed to see them.
  async function effective(request: FastifyRequest, service: string, realm: string): Promise<ConfigEntry[]> {
    const rows = await store.config.list(service === GLOBAL ? [GLOBAL] : [GLOBAL, service], realm);
    const byKey = new Map<string, ConfigRow>();
    for (const row of rows.filter((r) => r.service === GLOBAL)) byKey.set(row.key, row);
    for (const row of rows.filter((r) => r.service !== GLOBAL)) byKey.set(row.key, row);
    const visible = seesSecretsOf(request.principal, service);
    return [...byKey.values()]
      .sort((a, b) => a.key.localeCompare(b.key))
      .map((row) => {
        const entry = { key: row.key, secret: row.secret, source: row.service };
        if (!row.secret) return { ...entry, value: row.value };
        return visible ? { ...entry, value: box.open(nameOf(row), row.ciphertext ?? '') } : entry;
      });
  }

  const watched = (service: string, realm: string) =>
    service === GLOBAL ? [topics.config(realm, GLOBAL)] : [topics.config(realm, service), topics.config(realm, GLOBAL)];

  app.get(
    '/v1/config/:service/:realm',
    { schema: { params: scopeParams, querystring: blockingQuerySchema } },
    async (request, reply) => {
      const { service, realm } = request.params as Scope;
      checkRealm(request.principal, realm);
      // Shared by the watchers one write wakes, as long as they may see the same secrets.
      const share = `config:${service}/${realm}:${seesSecretsOf(request.principal, service)}`;
      return blockingRead(
        context,
        request,
        reply,
        watched(service, realm),
        async () => {
          const entries = await effective(request, service, realm);
          const values: Record<string, unknown> = {};
          for (const entry of entries) if ('value' in entry) values[entry.key] = entry.value;
          return { service, realm, values, entries };
        },
        share,
      );
    },
  );

  app.get(
    '/v1/config/:service/:realm/:key',
    { schema: { params: keyParams, querystring: blockingQuerySchema } },
    async (request, reply) => {
      const { service, realm, key } = request.params as Required<Scope>;
      checkRealm(request.principal, realm);
      return blockingRead(context, request, reply, watched(service, realm), async () => {
        const entry = (await effective(request, service, realm)).find((e) => e.key === key);
        if (!entry) throw notFound(`config key ${service}/${realm}/${key}`);
        return entry;
      });
    },
  );

  app.put(
    '/v1/config/:service/:realm/:key',
    {
      schema: {
        params: keyParams,
        body: {
          type: 'object',
          required: ['value'],
          additionalProperties: false,
          properties: { value: {}, secret: { type: 'boolean' } },
        },
      },
    },
    async (request, reply) => {
      const { service, realm, key } = request.params as Required<Scope>;
      checkAdmin(request.principal, realm);
      const { value, secret = false } = request.body as { value: unknown; secret?: boolean };
      // Against the schema the service published: 422 naming the key and the rule, before anything is stored.
      await checkConfigWrite(context.schemaContext, service, realm, key, value, secret);
      const row = { service, realm, key };
      await store.config.put({
        ...row,
        secret,
        value: secret ? null : value,
        ciphertext: secret ? box.seal(nameOf(row), value) : null,
        updatedAt: Date.now(),
        updatedBy: request.principal.actor,
      });
      await store.tokens.audit(
        auditEntry(request, secret ? 'config.set-secret' : 'config.set', `${service}/${realm}`, key),
      );
      return reply.code(204).send();
    },
  );

  app.delete('/v1/config/:service/:realm/:key', { schema: { params: keyParams } }, async (request, reply) => {
    const { service, realm, key } = request.params as Required<Scope>;
    checkAdmin(request.principal, realm);
    const deleted = await store.config.delete(service, realm, key);
    if (deleted.length === 0) throw notFound(`config key ${service}/${realm}/${key}`);
    await store.tokens.audit(auditEntry(request, 'config.unset', `${service}/${realm}`, key));
    return reply.code(204).send();
  });

  app.delete('/v1/config/:service/:realm', { schema: { params: scopeParams } }, async (request, reply) => {
    const { service, realm } = request.params as Scope;
    checkAdmin(request.principal, realm);
    const deleted = await store.config.delete(service, realm, undefined);
    for (const key of deleted) {
      await store.tokens.audit(auditEntry(request, 'config.unset', `${service}/${realm}`, key));
    }
    return reply.code(204).send();
  });
}
