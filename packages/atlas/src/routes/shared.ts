import type { FastifyRequest } from 'fastify';
import type { AtlasStore, AuditEntry } from '../store.ts';

/** What every route module gets. */
export interface RouteContext {
  readonly store: AtlasStore;
  readonly maxWaitMs: number;
  /** The longest TTL an instance may ask for. */
  readonly maxTtlMs: number;
}

// `_global` holds keys for every service; otherwise service names are kebab-case.
export const SERVICE = '^(_global|[a-z][a-z0-9-]{0,62})$';
export const REALM = '^[a-z][a-z0-9_-]{0,62}$';
export const INSTANCE_ID = '^[A-Za-z0-9._-]{1,128}$';
export const CONFIG_KEY = '^[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+){0,15}$';

export const serviceParams = {
  type: 'object',
  required: ['service'],
  properties: { service: { type: 'string', pattern: SERVICE } },
} as const;

/** An audit entry for what this request did: who (the token's name), when, what, never a value. */
export function auditEntry(
  request: FastifyRequest,
  action: string,
  target: string,
  key: string | null = null,
): AuditEntry {
  return { at: Date.now(), actor: request.principal.actor, action, target, key };
}
