// (d) smart-service as (c), with tracing on: every request sampled and its span
// exported over OTLP (http/protobuf) to the loopback sink the runner started.
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
    OTEL_EXPORTER_OTLP_ENDPOINT: process.env.BENCH_OTLP_URL ?? 'http://127.0.0.1:4318',
    OTEL_TRACES_SAMPLER: 'always_on',
  },
});
app.get('/', async () => ({ hello: 'world' }));
await app.start();
reportPort((app.server.address() as { port: number }).port);
