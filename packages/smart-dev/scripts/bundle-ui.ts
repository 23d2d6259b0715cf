// Builds the dashboard's page into ui/dist (committed, so neither the
// workspace nor an installed smart-dev needs a build step, and the page never
// loads anything from the internet): ui/src/app.js with Preact, htm and uPlot
// bundled and minified by rolldown, plus the HTML, the CSS and uPlot's CSS.
//
//   pnpm --filter smart-dev build:ui
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { build } from 'rolldown';

const ui = join(import.meta.dirname, '..', 'ui');
const out = join(ui, 'dist');
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
console.log(`bundled the dashboard into ${out}`);
