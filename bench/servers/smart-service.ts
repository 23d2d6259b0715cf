// (c) smart-service with all its defaults: access log, request ids, async context, metrics, problem errors.
import { createSmartService } from 'smart-service';
import { reportPort } from './report.ts';

const app = await createSmartService({
  name: 'bench',
  version: '1.0.0',
  realm: 'production',
  env: {
    SMART_HTTP__HOST: '127.0.0.1',
    SMART_HTTP__PORT: '0',
    // Throughput is what is measured: load shedding would answer 503 at saturation.
    SMART_PROTECTION__SHEDDING__ENABLED: 'false',
  },
});
app.get('/', async () => ({ hello: 'world' }));
await app.start();
// The start's phases (createSmartService's performance marks, ms since the process
// started) and when Node's own bootstrap ended, for cold-start.ts.
const marks = performance.getEntriesByType('mark').filter((mark) => mark.name.startsWith('smart-service:'));
reportPort((app.server.address() as { port: number }).port, {
  phases: {
    bootstrap: performance.nodeTiming.bootstrapComplete,
    ...Object.fromEntries(marks.map((mark) => [mark.name.slice('smart-service:'.length), mark.startTime])),
  },
});
