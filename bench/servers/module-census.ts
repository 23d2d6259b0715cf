// Preloaded (`node --import ./servers/module-census.ts server.ts`) by `cold-start.ts --modules`:
// records every file a server loads, through Node's synchronous module hooks
// (they see `import` and `require` alike), and on the runner's 'census'
// message answers with them grouped by package, with what first pulled each
// package in.
import { registerHooks } from 'node:module';

/** One package's share of a start: how many files, how many bytes of source, and who imported it first. */
export interface PackageCensus {
  readonly name: string;
  readonly files: number;
  readonly bytes: number;
  readonly importedBy: string;
}

const loaded = new Map<string, number>();
const importedBy = new Map<string, string>();

// The package a file belongs to: the npm name under node_modules, else the workspace folder.
export function packageOf(url: string): string {
  const dependency = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)\//.exec(url);
  if (dependency) return dependency[1] as string;
  // cold-start-built.ts's published copies: <tmp>/smart-cold-built-*/<package>/dist/...
  const built = /\/smart-cold-built-[^/]+\/([^/]+)\//.exec(url);
  if (built) return `${built[1]} (built)`;
  const workspace = /\/((?:packages|examples)\/[^/]+|bench)\//.exec(url);
  return workspace ? (workspace[1] as string) : url;
}

const short = (url: string) =>
  url
    .replace(/^.*node_modules\//, '')
    .replace(/^.*\/smart-cold-built-[^/]+\//, '')
    .replace(/^.*\/((?:packages|examples|bench)\/)/, '$1');

const sizeOf = (source: unknown): number =>
  typeof source === 'string'
    ? source.length
    : ArrayBuffer.isView(source) || source instanceof ArrayBuffer
      ? source.byteLength
      : 0;

registerHooks({
  resolve(specifier, context, next) {
    const result = next(specifier, context);
    if (result.url.startsWith('file:') && context.parentURL) {
      const name = packageOf(result.url);
      if (!importedBy.has(name) && packageOf(context.parentURL) !== name)
        importedBy.set(name, short(context.parentURL));
    }
    return result;
  },
  load(url, context, next) {
    const result = next(url, context);
    if (url.startsWith('file:')) loaded.set(url, sizeOf(result.source));
    return result;
  },
});

function census(): PackageCensus[] {
  const byPackage = new Map<string, { files: number; bytes: number }>();
  for (const [url, bytes] of loaded) {
    const name = packageOf(url);
    const entry = byPackage.get(name) ?? { files: 0, bytes: 0 };
    entry.files++;
    entry.bytes += bytes;
    byPackage.set(name, entry);
  }
  return [...byPackage]
    .map(([name, { files, bytes }]) => ({ name, files, bytes, importedBy: importedBy.get(name) ?? '' }))
    .sort((a, b) => b.bytes - a.bytes);
}

process.on('message', (message) => {
  if (message === 'census') process.send?.({ census: census() });
});
