import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { badMasterKey, decryptFailed } from './errors.ts';

const VERSION = 'v1';

/** Reads a 32-byte key from 64 hex characters or base64. */
export function parseMasterKey(text: string): Buffer {
  const key = /^[0-9a-f]{64}$/i.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
  if (key.length !== 32) throw badMasterKey();
  return key;
}

/**
 * Encrypts config secrets at rest with AES-256-GCM. Each value gets a fresh
 * 96-bit IV; the key's name (`service/realm/key`) is authenticated data, so a
 * ciphertext copied onto another key fails to decrypt.
 *
 * @example
 * const box = new SecretBox(parseMasterKey(process.env.SMART_ATLAS__MASTER_KEY));
 * const stored = box.seal('orders/production/db.password', 's3cret');
 */
export class SecretBox {
  readonly #key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== 32) throw badMasterKey();
    this.#key = key;
  }

  seal(name: string, value: unknown): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(name));
    const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
    return [VERSION, iv.toString('base64'), cipher.getAuthTag().toString('base64'), body.toString('base64')].join(':');
  }

  open(name: string, sealed: string): unknown {
    const [version, iv, tag, body] = sealed.split(':');
    try {
      if (version !== VERSION || !iv || !tag || !body) throw new Error('unknown format');
      const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(iv, 'base64'));
      decipher.setAAD(Buffer.from(name));
      decipher.setAuthTag(Buffer.from(tag, 'base64'));
      const text = Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]).toString('utf8');
      return JSON.parse(text);
    } catch {
      throw decryptFailed(name);
    }
  }
}
