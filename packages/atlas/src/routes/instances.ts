import type { FastifyInstance } from 'fastify';
import { checkAdmin, checkInstanceScope, checkInstanceWriter, checkRealm, type Principal } from '../auth.ts';
import { blockingQuerySchema, blockingRead } from '../blocking.ts';
import { forbidden, notFound } from '../errors.ts';
import { checkInstanceHost } from '../host-rules.ts';
import { type InstanceRecord, topics } from '../store.ts';
import { auditEntry, HOST, INSTANCE_ID, REALM, type RouteContext, SERVICE } from './shared.ts';

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

/**
 * The instance `service/id` for a principal already allowed to change the
 * service's instances somewhere: 404 only to a principal of every realm; to
 * one bound to a realm, an instance of another realm and no instance at all
 * answer the same 403, so no realm learns which ids exist in another.
 */
async function visibleInstance(
  store: RouteContext['store'],
  principal: Principal,
  service: string,
  id: string,
): Promise<InstanceRecord> {
  const existing = await store.instances.get(service, id);
  if (existing) {
    checkRealm(principal, existing.realm);
    return existing;
  }
  if (principal.realm !== '*') throw forbidden(`no instance ${service}/${id} in realm "${principal.realm}"`);
  throw notFound(`instance ${service}/${id}`);
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
            host: { type: 'string', minLength: 1, maxLength: 253, pattern: HOST },
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
      checkInstanceHost(body.host, body.realm, context.allowedHosts(body.realm));
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
      const stored = await store.instances.register(instance, (existing) => {
        if (existing.realm !== body.realm) checkInstanceWriter(request.principal, service, existing.realm);
      });
      return instanceView(stored);
    },
  );

  app.delete('/v1/services/:service/instances/:id', { schema: { params: instanceParams } }, async (request, reply) => {
    const { service, id } = request.params as { service: string; id: string };
    // Permission before existence: what the token may do first, then whether the id is there.
    checkInstanceScope(request.principal, service);
    await visibleInstance(store, request.principal, service, id);
    await store.instances.deregister(service, id);
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
      if (request.principal.scope !== 'admin') throw forbidden('an admin token is required');
      const existing = await visibleInstance(store, request.principal, service, id);
      checkAdmin(request.principal, existing.realm);
      const { disabled } = request.body as { disabled: boolean };
      const updated = await store.instances.setDisabled(service, id, disabled);
      await store.tokens.audit(
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
      return blockingRead(
        context,
        request,
        reply,
        [topics.instances(realm, service)],
        async () => (await store.instances.list(service, realm)).map(instanceView),
        `instances:${realm}/${service}`,
      );
    },
  );

  app.get('/v1/services', { schema: { querystring: realmQuery } }, async (request, reply) => {
    const { realm } = request.query as { realm: string };
    checkRealm(request.principal, realm);
    return blockingRead(
      context,
      request,
      reply,
      [topics.catalog(realm)],
      () => store.instances.catalog(realm),
      `catalog:${realm}`,
    );
  });
}
