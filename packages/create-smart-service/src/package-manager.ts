/** The package managers a generated service is written for. */
export type PackageManager = 'pnpm' | 'npm';

/** The package manager a command was run with, as far as it told us. */
export interface DetectedPackageManager {
  readonly name: PackageManager;
  /** Its version, when it ran the command (`pnpm/12.21.0 ...`). */
  readonly version?: string | undefined;
  /** Said to the user when the one that ran us is not supported. */
  readonly note?: string | undefined;
}

/**
 * The package manager that ran the command, from `npm_config_user_agent`,
 * which npm, pnpm, yarn and bun set for what they run (`npx
 * create-smart-service` gives `npm/11.6.0 node/v24.11.0 linux x64
 * workspaces/false`, `pnpm create smart-service` gives `pnpm/12.21.0 npm/?
 * node/v24.11.0 linux x64`). yarn and bun are not supported: the service is
 * written for npm, which ships with Node, and `note` says so. Without a user
 * agent (the bin run by `node` itself) it is npm too, for the same reason.
 *
 * @example
 * detectPackageManager('pnpm/12.21.0 npm/? node/v24.11.0 linux x64'); // { name: 'pnpm', version: '12.21.0' }
 * detectPackageManager(undefined); // { name: 'npm' }
 */
export function detectPackageManager(userAgent: string | undefined): DetectedPackageManager {
  const match = /^([a-z]+)\/(\S+)/.exec(userAgent ?? '');
  const [, name, version] = match ?? [];
  if (name === 'pnpm' || name === 'npm') return { name, version };
  if (name === 'yarn' || name === 'bun') {
    return {
      name: 'npm',
      note: `${name} is not supported yet: the service is written for npm (or pass --package-manager pnpm)`,
    };
  }
  return { name: 'npm' };
}
