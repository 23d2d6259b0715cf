import type { FastifyInstance } from 'fastify';
import { checkAdmin, checkInstanceWriter, checkRealm } from '../auth.ts';
import { blockingQuerySchema, blockingRead } from '../blocking.ts';
import { notFound } from '../errors.ts';
import { type InstanceRecord, topics } from '../store.ts';
import { auditEntry, INSTANCE_ID, REALM, type RouteContext, SERVICE } from './shared.ts';

const instanceParams = {
  type: 'object',
  required: ['service', 'id'],
  properties: { service: { type: 'string', pattern: SERVICE }, id: { type: 'string', pattern: INSTANCE_ID } },
} as const;

const realmQuery = {
  type: 'object',
  required: ['realm'],
  properties: { ...blockingQuerySchema.properties, realm: { type: 'string', pattern: REALM } },
} as const;

interface Registration {
  host: string;
  port: number;
  realm: string;
  version?: string;
  metadata?: Record<string, unknown>;
  ttlSeconds?: number;
}

/** What callers see of an instance. */
export function instanceView(instance: InstanceRecord) {
  const { service, id, realm, host, port, version, metadata, registeredAt, expiresAt } = instance;
  return {
    service,
    id,
    realm,
    host,
    port,
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    version,
    metadata,
    registeredAt,
    expiresAt,
  };
}

/** Instances and the catalog: register (and heartbeat), deregister, drain, list. */
export async function instanceRoutes(app: FastifyInstance, context: RouteContext) {
  const { store } = context;

  app.put(
    '/v1/services/:service/instances/:id',
    {
      schema: {
        params: instanceParams,
        body: {
          type: 'object',
          required: ['host', 'port', 'realm'],
          additionalProperties: false,
          properties: {
            host: { type: 'string', minLength: 1, maxLength: 253, pattern: '^[A-Za-z0-9.:_-]+$' },
            port: { type: 'integer', minimum: 1, maximum: 65535 },
            realm: { type: 'string', pattern: REALM },
            version: { type: 'string', maxLength: 64 },
            metadata: { type: 'object', maxProperties: 32 },
            ttlSeconds: { type: 'integer', minimum: 1, maximum: 86_400 },
          },
        },
      },
    },
    async (request) => {
      const { service, id } = request.params as { service: string; id: string };
      const body = request.body as Registration;
      checkInstanceWriter(request.principal, service, body.realm);
      const now = Date.now();
      const ttlMs = Math.min((body.ttlSeconds ?? 30) * 1_000, context.maxTtlMs);
      const instance: InstanceRecord = {
        service,
        id,
        realm: body.realm,
        host: body.host,
        port: body.port,
        version: body.version ?? '',
        metadata: body.metadata ?? {},
        ttlMs,
        expiresAt: now + ttlMs,
        registeredAt: now,
        disabled: false,
      };
      const existing = await store.getInstance(service, id);
      if (existing && existing.realm !== body.realm) checkInstanceWriter(request.principal, service, existing.realm);
      await store.putInstance(instance);
      return instanceView({ ...instance, registeredAt: existing?.registeredAt ?? now });
    },
  );

  app.delete('/v1/services/:service/instances/:id', { schema: { params: instanceParams } }, async (request, reply) => {
    const { service, id } = request.params as { service: string; id: string };
    const existing = await store.getInstance(service, id);
    if (!existing) throw notFound(`instance ${service}/${id}`);
    checkInstanceWriter(request.principal, service, existing.realm);
    await store.deleteInstance(service, id);
    return reply.code(204).send();
  });

  app.put(
    '/v1/services/:service/instances/:id/disabled',
    {
      schema: {
        params: instanceParams,
        body: { type: 'object', required: ['disabled'], properties: { disabled: { type: 'boolean' } } },
      },
    },
    async (request) => {
      const { service, id } = request.params as { service: string; id: string };
      const existing = await store.getInstance(service, id);
      if (!existing) throw notFound(`instance ${service}/${id}`);
      checkAdmin(request.principal, existing.realm);
      const { disabled } = request.body as { disabled: boolean };
      const updated = await store.setDisabled(service, id, disabled);
      await store.audit(
        auditEntry(request, disabled ? 'instance.disable' : 'instance.enable', `${service}/${id}`, null),
      );
      return { ...instanceView(updated as InstanceRecord), disabled };
    },
  );

  app.get(
    '/v1/services/:service/instances',
    {
      schema: {
        params: { type: 'object', properties: { service: { type: 'string', pattern: SERVICE } } },
        querystring: realmQuery,
      },
    },
    async (request, reply) => {
      const { service } = request.params as { service: string };
      const { realm } = request.query as { realm: string };
      checkRealm(request.principal, realm);
      return blockingRead(context, request, reply, [topics.instances(realm, service)], async () =>
        (await store.listInstances(service, realm, Date.now())).map(instanceView),
      );
    },
  );

  app.get('/v1/services', { schema: { querystring: realmQuery } }, async (request, reply) => {
    const { realm } = request.query as { realm: string };
    checkRealm(request.principal, realm);
    return blockingRead(context, request, reply, [topics.catalog(realm)], () => store.listServices(realm, Date.now()));
  });
}
