// Builds the package in the current folder for publishing: removes dist/
// (tsc never deletes the output of a source file that is gone, and a stale
// file would be published), emits JavaScript, declarations, declaration maps
// and source maps with `tsc -p tsconfig.build.json`, then copies the folders
// given as `--copy <from> <to>` (create-smart-service's template).
//
//   node ../../scripts/build-package.ts [--copy <from> <to>]...
//
// In the workspace nothing needs building: Node runs the sources.
import { execFileSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';

const args = process.argv.slice(2);
const copies: [string, string][] = [];
for (let i = 0; i < args.length; i++) {
  const [from, to] = [args[i + 1], args[i + 2]];
  if (args[i] !== '--copy' || !from || !to) {
    console.error(`build-package: unexpected argument ${args[i]} (usage: [--copy <from> <to>]...)`);
    process.exit(2);
  }
  copies.push([from, to]);
  i += 2;
}

rmSync('dist', { recursive: true, force: true });
execFileSync('tsc', ['-p', 'tsconfig.build.json'], { stdio: 'inherit' });
for (const [from, to] of copies) {
  rmSync(to, { recursive: true, force: true });
  cpSync(resolve(from), resolve(to), { recursive: true });
}
