import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { jsonSchemaPatterns } from 'smart-protocol';
import { checkAdmin, hashToken, newToken } from '../auth.ts';
import { badRequest, forbidden, notFound } from '../errors.ts';
import type { TokenScope } from '../store.ts';
import { auditEntry, REALM, type RouteContext } from './shared.ts';

/** Tokens (admin only) and the audit trail. */
export async function tokenRoutes(app: FastifyInstance, { store }: RouteContext) {
  app.post(
    '/v1/tokens',
    {
      schema: {
        body: {
          type: 'object',
          required: ['name', 'scope', 'realm'],
          additionalProperties: false,
          properties: {
            name: { type: 'string', minLength: 1, maxLength: 100 },
            scope: { type: 'string', enum: ['admin', 'service', 'catalog'] },
            service: { type: 'string', pattern: jsonSchemaPatterns.serviceName },
            realm: { type: 'string', anyOf: [{ pattern: REALM }, { const: '*' }] },
          },
        },
      },
    },
    async (request, reply) => {
      const body = request.body as { name: string; scope: TokenScope; service?: string; realm: string };
      if (body.realm === '*' && request.principal.realm !== '*')
        throw forbidden('only an admin of every realm may create a token for every realm');
      checkAdmin(request.principal, body.realm === '*' ? request.principal.realm : body.realm);
      if ((body.scope === 'service') !== (body.service !== undefined)) {
        throw badRequest('a service token names its service, and only a service token does');
      }
      const token = newToken();
      const record = {
        id: randomUUID(),
        name: body.name,
        hash: hashToken(token),
        scope: body.scope,
        service: body.service ?? null,
        realm: body.realm,
        createdAt: Date.now(),
        createdBy: request.principal.actor,
        revokedAt: null,
      };
      await store.tokens.put(record);
      await store.tokens.audit(auditEntry(request, 'token.create', record.id, body.name));
      const { hash: _hash, ...visible } = record;
      return reply.code(201).send({ ...visible, token });
    },
  );

  app.delete('/v1/tokens/:id', async (request, reply) => {
    if (request.principal.scope !== 'admin' || request.principal.realm !== '*')
      throw forbidden('only an admin of every realm may revoke tokens');
    const { id } = request.params as { id: string };
    if (!(await store.tokens.revoke(id, Date.now()))) throw notFound(`token ${id}`);
    await store.tokens.audit(auditEntry(request, 'token.revoke', id, null));
    return reply.code(204).send();
  });

  app.get(
    '/v1/audit',
    {
      schema: {
        querystring: { type: 'object', properties: { limit: { type: 'integer', minimum: 1, maximum: 1000 } } },
      },
    },
    async (request) => {
      if (request.principal.scope !== 'admin' || request.principal.realm !== '*')
        throw forbidden('the audit trail is for admins of every realm');
      return store.tokens.listAudit((request.query as { limit?: number }).limit ?? 100);
    },
  );
}
