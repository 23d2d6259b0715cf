import { existsSync, readdirSync, statSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { CreateError, codes } from './errors.ts';

// npm's rules for a new package name, narrowed to kebab-case: lower-case
// letters, digits and single dashes, starting with a letter, at most 214
// characters. A scope (@team/name) is allowed; the folder is the bare name.
const KEBAB = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;
const SCOPED = /^@([a-z0-9][a-z0-9-]*)\/(.+)$/;
const ACCEPTED =
  'a kebab-case name such as "orders" or "user-store" (lower-case letters, digits and single dashes, starting with a letter), optionally scoped as "@team/orders"';

/**
 * Checks a service name and returns its folder name. Refuses, with what
 * would be accepted: path traversal, absolute paths, separators, control
 * characters (NUL included), upper case, spaces, and anything that is not a
 * kebab-case npm package name.
 *
 * @example
 * validateName('orders'); // 'orders'
 * validateName('../x'); // throws SMART_CREATE_INVALID_NAME
 */
export function validateName(name: string): string {
  const shown = JSON.stringify(name);
  const refuse = (why: string): never => {
    throw new CreateError(codes.invalidName, `${shown} is not a valid service name: ${why}. Use ${ACCEPTED}.`);
  };
  if (name.length === 0) refuse('it is empty');
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is refused.
  if (/[\u0000-\u001f\u007f]/.test(name)) refuse('it contains control characters');
  if (isAbsolute(name) || name.startsWith('~')) refuse('it is a path, not a name');
  if (name.split(/[\\/]/).some((part) => part === '..' || part === '.')) refuse('it walks out of the folder (..)');
  const scoped = SCOPED.exec(name);
  const bare = scoped ? (scoped[2] as string) : name;
  if (/[\\/]/.test(bare)) refuse('it contains a path separator');
  if (name.length > 214) refuse('it is longer than 214 characters');
  if (/\s/.test(bare)) refuse('it contains spaces');
  if (bare !== bare.toLowerCase()) refuse('it has upper-case letters');
  if (!KEBAB.test(bare)) refuse('it is not kebab-case');
  if (bare === 'node_modules' || bare === 'favicon.ico') refuse('that name is reserved');
  return bare;
}

/**
 * The folder the service is written to: `dir` (default `./<folder>`). It
 * must not exist, or be an empty folder.
 *
 * @example
 * targetDir('orders', undefined, process.cwd()); // '/home/ann/orders'
 */
export function targetDir(folder: string, dir: string | undefined, cwd: string): string {
  if (dir !== undefined && (dir.length === 0 || dir.includes('\u0000'))) {
    throw new CreateError(codes.invalidOption, `--dir ${JSON.stringify(dir)} is not a usable folder path`);
  }
  const target = resolve(cwd, dir ?? folder);
  if (existsSync(target)) {
    if (!statSync(target).isDirectory()) {
      throw new CreateError(codes.targetNotEmpty, `${target} exists and is a file. Choose another --dir or name.`);
    }
    if (readdirSync(target).length > 0) {
      throw new CreateError(
        codes.targetNotEmpty,
        `${target} exists and is not empty. Choose another --dir or name, or empty the folder first.`,
      );
    }
  }
  return target;
}
