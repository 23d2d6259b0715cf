// Starts the service: listens on http.port (SMART_HTTP__PORT, default 3000),
// and shuts down gracefully on SIGTERM/SIGINT (readiness 503, drain, close).
import { build } from './app.ts';

const app = await build();
await app.start();
