import { describe, expect, expectTypeOf, it } from 'vitest';
import { CodedError, createError } from '../src/index.ts';

class PackageError extends CodedError {}

describe('createError', () => {
  it('makes a class whose instances carry code, status, name and message, and are instances of the base', () => {
    const BadUrl = createError('PKG_BAD_URL', 500, 'bad service URL', { base: PackageError });
    const err = new BadUrl();
    expect(err).toBeInstanceOf(BadUrl);
    expect(err).toBeInstanceOf(PackageError);
    expect(err).toBeInstanceOf(CodedError);
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ code: 'PKG_BAD_URL', statusCode: 500, message: 'bad service URL' });
    expect(err.name).toBe('PackageError');
    expect(BadUrl.code).toBe('PKG_BAD_URL');
    expect(BadUrl.statusCode).toBe(500);
    expect(err.stack).toContain('PackageError: bad service URL');
  });

  it('fills a template: each %s takes one argument, in order', () => {
    const NoInstances = createError('PKG_NO_INSTANCES', 503, 'no live instance of "%s" in realm "%s"');
    expect(new NoInstances('userstore', 'testing').message).toBe('no live instance of "userstore" in realm "testing"');
  });

  it('makes the message with a function of the arguments, typed by its parameters', () => {
    const Late = createError('PKG_LATE', 504, (ms: number, what: string) => `${what} is ${ms} ms late`);
    expect(new Late(20, 'the call').message).toBe('the call is 20 ms late');
    // @ts-expect-error: the arguments are typed by the function's parameters
    expect(() => new Late('20')).not.toThrow();
  });

  it('takes one extra, last argument as the instance options: cause and the problem answer', () => {
    const Unavailable = createError('PKG_UNAVAILABLE', 503, (target: string) => `${target} is unavailable`);
    const cause = new Error('ECONNREFUSED');
    const err = new Unavailable('userstore', { cause, headers: { 'retry-after': '1' }, report: false });
    expect(err.message).toBe('userstore is unavailable');
    expect(err.cause).toBe(cause);
    expect(err.headers).toEqual({ 'retry-after': '1' });
    expect(err.report).toBe(false);
    const bare = new Unavailable('userstore');
    expect('cause' in bare).toBe(false);
    expect('headers' in bare).toBe(false);
  });

  it('gives every instance the class options, which an instance option overrides', () => {
    const Refused = createError('PKG_REFUSED', 400, 'refused', { expose: true, report: false, problem: { a: 1 } });
    expect(new Refused()).toMatchObject({ expose: true, report: false, problem: { a: 1 } });
    expect(new Refused({ report: true })).toMatchObject({ expose: true, report: true });
  });

  it('names instances after a subclass, which may add its own members', () => {
    class UnknownKeyError extends createError('PKG_UNKNOWN_KEY', 500, (key: string) => `Unknown config key "${key}"`, {
      base: PackageError,
    }) {
      readonly key: string;
      constructor(key: string) {
        super(key);
        this.key = key;
      }
    }
    const err = new UnknownKeyError('db.pool');
    expect(err).toBeInstanceOf(PackageError);
    expect(err).toMatchObject({ name: 'UnknownKeyError', code: 'PKG_UNKNOWN_KEY', key: 'db.pool' });
    expect(UnknownKeyError.code).toBe('PKG_UNKNOWN_KEY');
    expectTypeOf(UnknownKeyError.code).toEqualTypeOf<'PKG_UNKNOWN_KEY'>();
  });

  it('takes a name for its instances', () => {
    const Named = createError('PKG_NAMED', 500, 'x', { name: 'NamedError' });
    expect(new Named().name).toBe('NamedError');
  });

  it('refuses an empty code or a status that is not an HTTP status', () => {
    expect(() => createError('', 500, 'x')).toThrow(TypeError);
    expect(() => createError('PKG_X', 1000, 'x')).toThrow(/PKG_X/);
  });
});

describe('CodedError', () => {
  it('is a base a package extends, named after the subclass', () => {
    const err = new PackageError('PKG_X', 502, 'upstream failed', { cause: 'why', expose: true });
    expect(err).toMatchObject({ name: 'PackageError', code: 'PKG_X', statusCode: 502, cause: 'why', expose: true });
  });
});
