import { type ConfigDefinition, type ConfigValue, defineConfig, secret } from 'smart-config';
import { z } from 'zod';

// Shared building blocks: a zod schema is immutable, so one instance serves
// every key of its shape. Each `.int()`, `.min()`, `.optional()` makes a new
// schema, and building ~250 of them for the service keys was ~16 ms of a
// cold start (zod's constructors run once per schema, in the interpreter).
const positiveInt = z.number().int().positive();
const nonNegativeInt = z.number().int().min(0);
const portNumber = z.number().int().min(1).max(65535);
const text = z.string();
const optionalText = z.string().optional();
const flag = z.boolean();
const optionalFlag = z.boolean().optional();
const ms = (fallback: number) => nonNegativeInt.default(fallback);

/**
 * The keys every smart service has. Each has a default, so a service's own
 * config only adds its keys; any of them can be set like any other key
 * (`SMART_HTTP__PORT=8080`, a realm override, Atlas).
 */
export const serviceSchema = z.object({
  http: z.object({
    host: text.default('0.0.0.0'),
    port: nonNegativeInt.max(65535).default(3000),
    /** Largest request body in bytes; larger bodies get 413. */
    bodyLimit: positiveInt.default(1_048_576),
    /** Receiving a whole request (headers and body) that takes longer is cut off by Node (408). */
    requestTimeoutMs: ms(30_000),
    /** Receiving the headers that takes longer is cut off (slowloris). */
    headersTimeoutMs: ms(30_000),
    /** How often Node checks the two timeouts above: their precision (Node's default, 30 s, doubles them). */
    timeoutCheckIntervalMs: positiveInt.default(1_000),
    /** JSON bodies nesting deeper are refused (400) before they are parsed. */
    maxJsonDepth: positiveInt.default(64),
    /** Above the 60 s idle timeout of common load balancers, so they close first. */
    keepAliveTimeoutMs: ms(72_000),
    /** Fastify's trustProxy: true, a hop count, or addresses/CIDRs separated by commas. */
    trustProxy: z.union([flag, nonNegativeInt, text]).default(false),
  }),
  log: z.object({
    level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** Pretty, coloured lines; by default only in realm `local` on a terminal. */
    pretty: optionalFlag,
  }),
  db: z.object({
    /** postgres:// URL. Unset in realm `local` means the embedded database. */
    url: optionalText,
    poolMax: positiveInt.default(10),
    connectionTimeoutMs: ms(5_000),
    /** A query that waits longer for a pooled connection fails with 503 (pool exhausted or database down). */
    acquireTimeoutMs: ms(400),
    idleTimeoutMs: ms(10_000),
    /** Postgres statement_timeout for every query; 0 turns it off. */
    statementTimeoutMs: ms(30_000),
    /** Where migrations live, relative to the service's root. */
    migrationsDir: text.default('migrations'),
    /** Run pending migrations at start; by default only in realm `local`. */
    migrateAtStart: optionalFlag,
    /** Where the embedded database keeps its files, relative to the service's root. */
    embeddedDir: text.default('.smart/pglite'),
  }),
  redis: z.object({
    /** redis:// URL. Unset in realm `local` means redis://127.0.0.1:6379. */
    url: optionalText,
    /** A command that gets no answer in this time fails (503: the answer comes within 500 ms). */
    commandTimeoutMs: ms(400),
    connectTimeoutMs: ms(2_000),
    /** Queue commands while disconnected (false: fail at once during an outage). */
    offlineQueue: flag.default(false),
    keyPrefix: text.default(''),
  }),
  /** Outages of Redis and the database (plugins/dependencies.ts); read at start. */
  dependencies: z.object({
    /** While one is known down, calls to it fail at once with 503 (no timeout each) until a probe succeeds. */
    failFast: flag.default(true),
    /** The wait before the second probe of a down dependency (the first runs at once); doubles after each failure. */
    probeIntervalMs: positiveInt.default(250),
    /** The longest wait between two probes (so at most about this long from its return to the outage's end). */
    probeMaxIntervalMs: positiveInt.default(2_000),
  }),
  health: z.object({
    /** Default timeout of a readiness check. */
    timeoutMs: ms(2_000),
  }),
  metrics: z.object({
    enabled: flag.default(true),
  }),
  bugsnag: z.object({
    apiKey: optionalText,
    notifyEndpoint: z.url().optional(),
    sessionsEndpoint: z.url().optional(),
  }),
  protection: z.object({
    /**
     * Load shedding: 503 + Retry-After over an adaptive limit of requests in flight or an event-loop
     * queue wait (plugins/concurrency-limit.ts), and while the event loop stalls (@fastify/under-pressure);
     * probes exempt. Read at start.
     */
    shedding: z.object({
      enabled: flag.default(true),
      initialLimit: positiveInt.default(100),
      minLimit: positiveInt.default(10),
      maxLimit: positiveInt.default(1_000),
      latencyTolerance: z.number().min(1.1).default(1.5),
      minQueueDelayMs: z.number().nonnegative().default(2),
      maxQueueDelayMs: z.number().positive().default(100),
      burstQueueDelayMs: z.number().positive().default(10),
      windowMs: positiveInt.default(100),
      maxEventLoopDelayMs: z.number().positive().default(200),
      maxEventLoopUtilization: z.number().positive().max(1).default(1),
      sampleIntervalMs: positiveInt.default(250),
      retryAfterSeconds: positiveInt.default(1),
    }),
    /** Rate limits (@fastify/rate-limit) per route and caller (`x-smart-caller`, else the IP); live. */
    rateLimit: z.object({
      enabled: flag.default(false),
      /** Requests per caller per route per window. */
      max: positiveInt.default(1_000),
      timeWindowMs: positiveInt.default(60_000),
      /** Per-route limits, by route pattern (`/users/:id`). */
      routes: z.record(text, z.object({ max: positiveInt, timeWindowMs: positiveInt.optional() })).default({}),
    }),
  }),
  /** Fault injection for chaos exercises; live; refused in realm production unless allowInProduction. */
  faults: z.object({
    allowInProduction: flag.default(false),
    rules: z
      .array(
        z.object({
          /** A route pattern of this service (`/users/:id`), or `*` for every route but probes. */
          route: optionalText,
          /** An upstream service (calls through app.client), or `*` for all. */
          upstream: optionalText,
          /** How often the fault applies, 0-100. */
          percent: z.number().min(0).max(100),
          latencyMs: nonNegativeInt.optional(),
          /** Answer (route) or fail (upstream) with this status. */
          abortStatus: z.number().int().min(400).max(599).optional(),
          /** Destroy the connection (route) or fail as a reset (upstream). */
          reset: optionalFlag,
        }),
      )
      .default([]),
  }),
  /**
   * OpenTelemetry tracing; the standard OTEL_* variables set these keys too
   * (layer `otel-env`). On when an exporter is named or an OTLP endpoint is set.
   */
  tracing: z.object({
    /** `otlp`, `zipkin`, `console` or `none`; unset: `otlp` if an endpoint is set, else none. OTEL_TRACES_EXPORTER. */
    exporter: z.enum(['otlp', 'zipkin', 'console', 'none']).optional(),
    /** The OTLP base URL (`/v1/traces` is added). OTEL_EXPORTER_OTLP_ENDPOINT. */
    endpoint: optionalText,
    /** The OTLP traces URL, used as is. OTEL_EXPORTER_OTLP_TRACES_ENDPOINT. */
    tracesEndpoint: optionalText,
    /** OTEL_EXPORTER_OTLP_PROTOCOL (grpc is not supported). */
    protocol: z.enum(['http/protobuf', 'http/json']).default('http/protobuf'),
    /** Where the zipkin exporter sends spans. OTEL_EXPORTER_ZIPKIN_ENDPOINT. */
    zipkinEndpoint: text.default('http://localhost:9411/api/v2/spans'),
    /** OTEL_TRACES_SAMPLER; live. */
    sampler: z
      .enum([
        'always_on',
        'always_off',
        'traceidratio',
        'parentbased_always_on',
        'parentbased_always_off',
        'parentbased_traceidratio',
      ])
      .default('parentbased_always_on'),
    /** The ratio of the `traceidratio` samplers, 0 to 1; live. OTEL_TRACES_SAMPLER_ARG. */
    samplerArg: z.number().min(0).max(1).default(1),
    /** The `service.name` spans carry; default the service's name. OTEL_SERVICE_NAME. */
    serviceName: optionalText,
    /** Extra resource attributes, `key=value,key=value`. OTEL_RESOURCE_ATTRIBUTES. */
    resourceAttributes: optionalText,
    /** Spans waiting for export; more are dropped (and counted), never waited for. OTEL_BSP_MAX_QUEUE_SIZE. */
    maxQueueSize: positiveInt.default(2_048),
    /** OTEL_BSP_MAX_EXPORT_BATCH_SIZE. */
    maxExportBatchSize: positiveInt.default(512),
    /** How long spans wait to be sent in a batch. OTEL_BSP_SCHEDULE_DELAY. */
    scheduledDelayMs: ms(5_000),
    /** An export taking longer is given up (its spans counted as dropped). OTEL_EXPORTER_OTLP_TIMEOUT. */
    exportTimeoutMs: positiveInt.default(10_000),
    /** On close, queued spans get this long to leave. */
    shutdownTimeoutMs: ms(2_000),
  }),
  /** How `app.client` finds other services; read at start. */
  client: z.object({
    /**
     * `direct`: `SMART_SERVICE_<NAME>_URL`, then Atlas, balanced by the client.
     * `sidecar`: `SMART_SERVICE_<NAME>_URL`, then every call to the local
     * smart-sidecar (HAProxy) with `x-smart-service`, balanced by HAProxy.
     * `dns`: `SMART_SERVICE_<NAME>_URL`, then DNS (`client.dns.*`: SRV or
     * A/AAAA records, as Kubernetes headless services and Consul DNS serve
     * them), balanced by the client; no Atlas needed.
     */
    via: z.enum(['direct', 'sidecar', 'dns']).default('direct'),
    sidecar: z.object({
      host: text.default('127.0.0.1'),
      /** smart-sidecar's `sidecar.listen`. */
      port: portNumber.default(4180),
    }),
    dns: z.object({
      /** A service's DNS name, `{service}` and `{realm}` filled in (Consul: `{service}.service.consul`). */
      name: z.string().includes('{service}').default('{service}.{realm}.svc.cluster.local'),
      /** `srv`: host and port from SRV records; `a`: A/AAAA records at `client.dns.port`. */
      records: z.enum(['srv', 'a']).default('srv'),
      port: portNumber.default(80),
      /** DNS servers (`10.96.0.10:53`); none: the system's. */
      servers: z.array(z.string().min(1)).default([]),
      timeoutMs: positiveInt.default(1_000),
      /** Longest an answer is kept whatever its TTL (and the TTL of SRV answers). */
      maxTtlMs: positiveInt.default(30_000),
    }),
  }),
  shutdown: z.object({
    /** After readiness turns 503, keep serving this long so load balancers notice. */
    drainDelayMs: ms(5_000),
    /** Past this, shutdown gives up and exits non-zero. */
    timeoutMs: ms(30_000),
  }),
});

/** The defaults beyond the schema's own: which keys are secret. */
export const serviceDefaults = {
  db: { url: secret({ optional: true }) },
  redis: { url: secret({ optional: true }) },
  bugsnag: { apiKey: secret({ optional: true }) },
} as const;

/** Realm overrides of the service keys: a developer's machine wants fast restarts and a loopback listener. */
export const serviceRealms = {
  local: {
    http: { host: '127.0.0.1' },
    log: { level: 'debug' },
    shutdown: { drainDelayMs: 0 },
    // Traces show in the dev dashboard within a second.
    tracing: { scheduledDelayMs: 500 },
    // A developer's machine runs several services, smart dev, an editor and
    // tests on a few cores: a burst fills the event loop for a moment there,
    // and shedding it would refuse what production absorbs. On elsewhere.
    protection: { shedding: { enabled: false } },
  },
  // Test suites fire bursts (a hundred parallel calls) at services sharing a
  // machine with everything else the suite runs: the same reason as `local`.
  // Tests of shedding turn it on.
  testing: {
    protection: { shedding: { enabled: false } },
  },
} as const;

/** The value of the service keys. */
export type ServiceConfig = ConfigValue<typeof serviceSchema, typeof serviceDefaults>;

type ObjectDef = { type: string; shape?: Record<string, z.ZodType> };
const defOf = (schema: z.ZodType) => (schema as unknown as { _zod: { def: ObjectDef } })._zod.def;

// Nested objects present in both schemas are merged key by key; the service's own key wins.
function mergeSchemas(base: z.ZodObject, extra: z.ZodObject): z.ZodObject {
  const shape: Record<string, z.ZodType> = { ...base.shape };
  for (const [key, schema] of Object.entries(extra.shape as Record<string, z.ZodType>)) {
    const mine = shape[key];
    const both = mine && defOf(mine).type === 'object' && defOf(schema).type === 'object';
    shape[key] = both ? mergeSchemas(mine as z.ZodObject, schema as z.ZodObject) : schema;
  }
  return z.object(shape);
}

function mergeTrees(base: object, extra: object): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    const mine = out[key];
    const both = isPlain(mine) && isPlain(value);
    out[key] = both ? mergeTrees(mine, value) : value;
  }
  return out;
}

// `tree` minus every leaf that `taken` sets.
function withoutKeysOf(tree: object, taken: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(tree)) {
    const other = (taken as Record<string, unknown>)[key];
    if (other === undefined) out[key] = value;
    else if (isPlain(value) && isPlain(other)) out[key] = withoutKeysOf(value, other);
  }
  return out;
}

function isPlain(value: unknown): value is object {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;
}

/**
 * The service's definition with the service keys added. Where both define a
 * key, the service's own definition wins (schema, default and realm override).
 */
export function withServiceKeys(definition: ConfigDefinition | undefined): ConfigDefinition {
  const realms: Record<string, object> = {};
  // Our realm overrides only fill in what the service's own defaults leave open.
  for (const [realm, overrides] of Object.entries(serviceRealms)) {
    realms[realm] = withoutKeysOf(overrides, (definition?.defaults as object | undefined) ?? {});
  }
  for (const [realm, overrides] of Object.entries(definition?.realms ?? {})) {
    realms[realm] = mergeTrees(realms[realm] ?? {}, overrides);
  }
  return defineConfig({
    schema: definition ? mergeSchemas(serviceSchema, definition.schema) : serviceSchema,
    defaults: mergeTrees(serviceDefaults, (definition?.defaults as object | undefined) ?? {}) as never,
    realms: realms as never,
  });
}
