import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest, onRequestHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import { forbidden, tokenInQuery, unauthorized } from './errors.ts';
import type { AtlasStore, TokenScope } from './store.ts';

/** Who is calling, as their token says. */
export interface Principal {
  /** Shown in the audit table: the token's name. */
  readonly actor: string;
  readonly scope: TokenScope;
  /** The service a `service` token acts as. */
  readonly service: string | null;
  /** The realm the token may see; `*` for all. */
  readonly realm: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller (set for every `/v1` route). */
    principal: Principal;
  }
}

/** The SHA-256 of a token, as stored: Atlas never keeps a token itself. */
export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

/** A new random token: `atl_` and 43 URL-safe characters (256 bits). */
export const newToken = (): string => `atl_${randomBytes(32).toString('base64url')}`;

const OPEN: Principal = Object.freeze({ actor: 'anonymous (auth off)', scope: 'admin', service: null, realm: '*' });
// Query parameter names that carry credentials, compared decoded and lower-cased (`?%74oken=`, `?Access_Token=`).
const TOKEN_PARAMS = new Set([
  'token',
  'access_token',
  'accesstoken',
  'id_token',
  'refresh_token',
  'api_key',
  'apikey',
  'api-key',
  'auth',
  'authorization',
  'bearer',
  'key',
  'secret',
  'password',
]);

/** The raw query string carries a credential, whatever its encoding, case or array form (`token[]=`). */
export function hasQueryToken(url: string): boolean {
  const at = url.indexOf('?');
  if (at < 0) return false;
  let params: URLSearchParams;
  try {
    params = new URLSearchParams(url.slice(at + 1));
  } catch {
    return true; // an unparsable query is refused rather than guessed at
  }
  for (const name of params.keys()) {
    if (TOKEN_PARAMS.has(name.trim().toLowerCase().replace(/\[.*$/, ''))) return true;
  }
  return false;
}

/** The token may see this realm. */
export function checkRealm(principal: Principal, realm: string): void {
  if (principal.realm !== '*' && principal.realm !== realm) {
    throw forbidden(`this token is for realm "${principal.realm}", not "${realm}"`);
  }
}

/** An admin token for this realm. */
export function checkAdmin(principal: Principal, realm: string): void {
  checkRealm(principal, realm);
  if (principal.scope !== 'admin') throw forbidden('an admin token is required');
}

/** The token's scope lets it change the service's instances in some realm: an admin, or the service's own token. */
export function checkInstanceScope(principal: Principal, service: string): void {
  if (principal.scope === 'admin') return;
  if (principal.scope === 'service' && principal.service === service) return;
  throw forbidden(`only an admin or the "${service}" service token may change its instances`);
}

/** An admin, or the service's own token, may register and deregister its instances in its realm. */
export function checkInstanceWriter(principal: Principal, service: string, realm: string): void {
  checkInstanceScope(principal, service);
  checkRealm(principal, realm);
}

/** Secret values go to admins and to the owning service (every service owns `_global`). */
export function seesSecretsOf(principal: Principal, service: string): boolean {
  if (principal.scope === 'admin') return true;
  return principal.scope === 'service' && (principal.service === service || service === '_global');
}

interface AuthOptions {
  readonly store: AtlasStore;
  readonly enabled: boolean;
  /** The bootstrap admin token (from config), if any. */
  readonly adminToken: string | undefined;
}

/**
 * Bearer-token authentication of every `/v1` route. 401 without a token or
 * with an unknown or revoked one; tokens in query strings are refused (400)
 * before anything else, whatever their encoding. With auth off (realm
 * `local` by default) every caller is an admin.
 *
 * The check is a hook of each `/v1` route itself (added as the route is
 * declared), not a test of the raw URL: the router decodes the path
 * (`/%761/services` is `/v1/services`), so whatever spelling reaches a `/v1`
 * route has passed its authentication.
 */
export const auth = fp(
  async function auth(app: FastifyInstance, options: AuthOptions) {
    const adminHash = options.adminToken ? Buffer.from(hashToken(options.adminToken), 'hex') : undefined;
    app.decorateRequest('principal', null as unknown as Principal);
    async function authenticate(request: FastifyRequest): Promise<void> {
      if (hasQueryToken(request.url)) throw tokenInQuery();
      if (!options.enabled) {
        request.principal = OPEN;
        return;
      }
      const header = request.headers.authorization;
      if (!header || !/^Bearer \S+$/i.test(header)) throw unauthorized('send Authorization: Bearer <token>');
      const token = header.slice(7).trim();
      const hash = hashToken(token);
      if (adminHash && timingSafeEqual(Buffer.from(hash, 'hex'), adminHash)) {
        request.principal = { actor: 'admin (bootstrap token)', scope: 'admin', service: null, realm: '*' };
        return;
      }
      const record = await options.store.tokens.find(hash);
      if (!record || record.revokedAt !== null) throw unauthorized('unknown or revoked token');
      request.principal = { actor: record.name, scope: record.scope, service: record.service, realm: record.realm };
    }
    app.addHook('onRoute', (route) => {
      if (!route.url.startsWith('/v1/')) return;
      const own = route.onRequest;
      route.onRequest = [authenticate as onRequestHookHandler, ...(own === undefined ? [] : [own].flat())];
    });
  },
  { name: 'atlas-auth' },
);
