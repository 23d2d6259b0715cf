import { describe, expect, it } from 'vitest';
import {
  CONFIG_KEY_PATTERN,
  INSTANCE_ID_PATTERN,
  isRealm,
  isRequestId,
  isServiceName,
  jsonSchemaPatterns,
  REALM_PATTERN,
} from '../src/index.ts';

describe('name patterns', () => {
  it('accept kebab-case service names of at most 63 characters, starting with a letter', () => {
    for (const name of ['a', 'userstore', 'fib-frontend', 'svc2', `a${'b'.repeat(62)}`])
      expect(isServiceName(name)).toBe(true);
    for (const name of ['', '2fa', '-a', 'User', 'user_store', 'a.b', `a${'b'.repeat(63)}`, 42]) {
      expect(isServiceName(name)).toBe(false);
    }
  });

  it('accept realm names like service names, with _ too', () => {
    expect(isRealm('eu_west-2')).toBe(true);
    expect(REALM_PATTERN.test('Production')).toBe(false);
    expect(isRealm('_global')).toBe(false);
  });

  it('keep request ids of 1 to 64 safe characters only', () => {
    expect(isRequestId('0b7c2e1a-6f7e.4b1c_9a51')).toBe(true);
    for (const id of ['', 'a b', 'a\nb', 'x'.repeat(65), 'é']) expect(isRequestId(id)).toBe(false);
  });

  it('accept instance ids and dotted config keys as Atlas does', () => {
    expect(INSTANCE_ID_PATTERN.test('userstore-7f9c.host-1')).toBe(true);
    expect(INSTANCE_ID_PATTERN.test('a/b')).toBe(false);
    expect(CONFIG_KEY_PATTERN.test('db.poolMax')).toBe(true);
    expect(CONFIG_KEY_PATTERN.test('db..poolMax')).toBe(false);
    expect(CONFIG_KEY_PATTERN.test(Array(17).fill('a').join('.'))).toBe(false);
  });

  it('give JSON Schema the same rules as strings', () => {
    expect(jsonSchemaPatterns.serviceName).toBe('^[a-z][a-z0-9-]{0,62}$');
    expect(jsonSchemaPatterns.configKey).toBe('^[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+){0,15}$');
    expect(new RegExp(jsonSchemaPatterns.realm).test('eu_west')).toBe(true);
  });
});
