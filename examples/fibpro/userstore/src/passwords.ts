import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { unsupportedHash } from './errors.ts';

const KEY_BYTES = 32;

// Asynchronous: scrypt costs tens of milliseconds of CPU by design, spent on
// libuv's thread pool instead of blocking every other request.
function derive(password: string, salt: Buffer, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, length, (err, key) => (err ? reject(err) : resolve(key)));
  });
}

/**
 * `scrypt$<salt>$<key>` (hex, scrypt's default cost N=16384, r=8, p=1): the
 * only scheme this service writes. Never the password itself.
 *
 * @example
 * await hashPassword('wonderland'); // 'scrypt$9f3c…$41d2…'
 */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  return `scrypt$${salt.toString('hex')}$${(await derive(password, salt, KEY_BYTES)).toString('hex')}`;
}

/**
 * Checks a password against its stored hash in constant time. A record in a
 * scheme this service does not know (left by an older system) is a server
 * error, not a wrong password: it needs fixing, and it must pass as neither.
 *
 * @example
 * await passwordMatches('wonderland', row.password_hash); // true
 */
export async function passwordMatches(password: string, stored: string): Promise<boolean> {
  const [scheme, salt, hash, ...rest] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash || rest.length > 0) throw unsupportedHash(scheme);
  const expected = Buffer.from(hash, 'hex');
  return timingSafeEqual(await derive(password, Buffer.from(salt, 'hex'), expected.length), expected);
}

// Derived once: an unknown user costs the same hash as a known one, so the
// time of the answer does not tell which names exist.
let decoy: Promise<string> | undefined;

/** Spends one check's time on a user that does not exist; always false. */
export async function noUserMatches(password: string): Promise<false> {
  decoy ??= hashPassword(randomBytes(16).toString('hex'));
  await passwordMatches(password, await decoy);
  return false;
}
