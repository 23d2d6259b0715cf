// Builds the dashboard's page into ui/bundle (committed, so neither the
// workspace nor an installed smart-dev needs a build step, and the page never
// loads anything from the internet): ui/src/app.js with Preact, htm and uPlot
// bundled and minified by rolldown, plus the HTML, the CSS and uPlot's CSS;
// and the OTLP protobuf decoder into vendor/ (see src/dashboard/otlp.ts).
// A test rebuilds it into a temporary folder and compares, so the committed
// bundle cannot fall behind its sources.
//
//   pnpm --filter smart-dev build:ui
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { build } from 'rolldown';

const ui = join(import.meta.dirname, '..', 'ui');

/** The committed bundle's folder. */
export const BUNDLE_DIR = join(ui, 'bundle');

/** Where the OTLP protobuf decoder is bundled (see src/dashboard/otlp.ts). */
export const VENDOR_FILE = join(import.meta.dirname, '..', 'vendor', 'otlp-proto.cjs');

/**
 * The official OTLP protobuf root (as @opentelemetry/otlp-transformer 0.57
 * ships it) with protobufjs's minimal runtime, as one CommonJS file.
 */
export async function bundleOtlpProto(file: string): Promise<void> {
  mkdirSync(dirname(file), { recursive: true });
  const entry = createRequire(import.meta.url).resolve('@opentelemetry/otlp-transformer/build/src/generated/root.js');
  await build({
    input: entry,
    output: { file, format: 'cjs', minify: true },
    logLevel: 'warn',
  });
}

/** Writes the page's files into `out` (emptied first). */
export async function bundleUi(out: string): Promise<void> {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  await build({
    input: join(ui, 'src', 'app.js'),
    output: { file: join(out, 'app.js'), format: 'esm', minify: true },
    logLevel: 'warn',
  });
  copyFileSync(join(ui, 'src', 'index.html'), join(out, 'index.html'));
  copyFileSync(join(ui, 'src', 'app.css'), join(out, 'app.css'));
  const uplot = dirname(createRequire(import.meta.url).resolve('uplot/package.json'));
  copyFileSync(join(uplot, 'dist', 'uPlot.min.css'), join(out, 'uPlot.min.css'));
}

if (import.meta.main) {
  await bundleUi(BUNDLE_DIR);
  await bundleOtlpProto(VENDOR_FILE);
  console.log(`bundled the dashboard into ${BUNDLE_DIR} and the OTLP decoder into ${VENDOR_FILE}`);
}
