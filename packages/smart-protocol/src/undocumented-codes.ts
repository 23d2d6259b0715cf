/** What {@link undocumentedCodes} checks. */
export interface DocumentedCodesInput {
  /** The package's codes: a list (`errorCodes`) or an object of them (`codes`). */
  readonly codes: readonly string[] | Readonly<Record<string, string>>;
  /** The text of the README that documents them. */
  readonly readme: string;
  /** The prefix every code starts with (`SMART_CLIENT_`). */
  readonly prefix: string;
}

/**
 * The problems with a package's error codes, as sentences: a code listed
 * twice, one without the package's prefix (followed by `A-Z`, `0-9`, `_`),
 * one missing from the README (written as `` `CODE` ``), or no codes at all.
 * Empty when all is well, so a test reads as one line and a failure names
 * each offending code.
 *
 * @example
 * import { undocumentedCodes } from 'smart-protocol/testing';
 * const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
 * expect(undocumentedCodes({ codes: errorCodes, readme, prefix: 'SMART_CLIENT_' })).toEqual([]);
 */
export function undocumentedCodes({ codes, readme, prefix }: DocumentedCodesInput): string[] {
  const list: readonly string[] = Array.isArray(codes) ? codes : Object.values(codes);
  if (list.length === 0) return ['no codes were given'];
  const problems: string[] = [];
  const shape = new RegExp(`^${prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}[A-Z][A-Z0-9_]*$`);
  const seen = new Set<string>();
  for (const code of list) {
    if (seen.has(code)) {
      problems.push(`${code} is listed more than once`);
      continue;
    }
    seen.add(code);
    if (!shape.test(code)) problems.push(`${code} is not ${prefix} followed by A-Z, 0-9 and _`);
    if (!readme.includes(`\`${code}\``)) problems.push(`${code} is not in the README as \`${code}\``);
  }
  return problems;
}
