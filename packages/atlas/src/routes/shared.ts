import type { FastifyRequest } from 'fastify';
import { jsonSchemaPatterns } from 'smart-protocol';
import type { AtlasStore, AuditEntry } from '../store.ts';

/** What every route module gets. */
export interface RouteContext {
  readonly store: AtlasStore;
  readonly maxWaitMs: number;
  /** The longest TTL an instance may ask for. */
  readonly maxTtlMs: number;
  /** The realm's allow list of instance hosts (`atlas.allowedHosts`), if it has one. */
  readonly allowedHosts: (realm: string) => readonly string[] | undefined;
}

// The JSON Schema forms of smart-protocol's name rules. `_global` holds
// config keys for every service; otherwise a service name is the one rule.
export const SERVICE = `^_global$|${jsonSchemaPatterns.serviceName}`;
export const REALM = jsonSchemaPatterns.realm;
export const INSTANCE_ID = jsonSchemaPatterns.instanceId;
export const CONFIG_KEY = jsonSchemaPatterns.configKey;
export const HOST = jsonSchemaPatterns.host;

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

/**
 * True when a JSON value holds a NUL character in any string or key.
 * Postgres text and jsonb cannot store one (the write fails), and etcd
 * would keep what Postgres refuses: Atlas refuses it on every backend.
 */
export function holdsNul(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('\u0000');
  if (typeof value !== 'object' || value === null) return false;
  if (Array.isArray(value)) return value.some(holdsNul);
  for (const [key, item] of Object.entries(value)) if (key.includes('\u0000') || holdsNul(item)) return true;
  return false;
}
