import { randomBytes, scryptSync, timingSafeEqual } from 'node:crypto';

/** `scrypt$<salt>$<hash>`: the only scheme this service writes. */
export function hashPassword(password: string): string {
  const salt = randomBytes(16);
  return `scrypt$${salt.toString('hex')}$${scryptSync(password, salt, 32).toString('hex')}`;
}

/**
 * Checks a password against its stored hash. A record in a scheme this
 * service does not know (left by an older system) is a server error, not a
 * wrong password: it needs fixing, and it must not pass as either.
 */
export function passwordMatches(password: string, stored: string): boolean {
  const [scheme, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) {
    throw new Error(`unsupported password hash scheme "${scheme}": the record needs migrating`);
  }
  const expected = Buffer.from(hash, 'hex');
  return timingSafeEqual(scryptSync(password, Buffer.from(salt, 'hex'), expected.length), expected);
}
