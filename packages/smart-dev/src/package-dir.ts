import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * smart-dev's own folder (where `ui/bundle` and `vendor` are), found walking
 * up from this file: `src/` in the workspace, `dist/src/` once built.
 *
 * @example
 * join(packageDir(), 'ui', 'bundle'); // '/…/node_modules/smart-dev/ui/bundle'
 */
export function packageDir(): string {
  for (let dir = import.meta.dirname; dir !== dirname(dir); dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file) && (JSON.parse(readFileSync(file, 'utf8')) as { name?: string }).name === 'smart-dev')
      return dir;
  }
  throw new Error(`smart-dev: no package.json of smart-dev above ${import.meta.dirname}`);
}
