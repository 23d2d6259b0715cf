import type { ConfigSource, Env } from 'smart-config';
import type { ServiceConfig } from '../service-config.ts';

/** The `tracing.*` config keys. */
export type TracingConfig = ServiceConfig['tracing'];

/** Where spans go once the settings are read: an exporter, or nowhere (tracing off). */
export type TracingExporter = 'otlp' | 'zipkin' | 'console' | 'none';

// The OpenTelemetry SDK's environment variables and the `tracing.*` key each sets.
// https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/
// and https://opentelemetry.io/docs/specs/otel/protocol/exporter/
const OTEL_KEYS: readonly (readonly [string, keyof TracingConfig])[] = [
  ['OTEL_TRACES_EXPORTER', 'exporter'],
  ['OTEL_EXPORTER_OTLP_ENDPOINT', 'endpoint'],
  ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'tracesEndpoint'],
  ['OTEL_EXPORTER_OTLP_PROTOCOL', 'protocol'],
  ['OTEL_EXPORTER_OTLP_TRACES_PROTOCOL', 'protocol'],
  ['OTEL_EXPORTER_OTLP_TIMEOUT', 'exportTimeoutMs'],
  ['OTEL_EXPORTER_OTLP_TRACES_TIMEOUT', 'exportTimeoutMs'],
  ['OTEL_EXPORTER_ZIPKIN_ENDPOINT', 'zipkinEndpoint'],
  ['OTEL_TRACES_SAMPLER', 'sampler'],
  ['OTEL_TRACES_SAMPLER_ARG', 'samplerArg'],
  ['OTEL_SERVICE_NAME', 'serviceName'],
  ['OTEL_RESOURCE_ATTRIBUTES', 'resourceAttributes'],
  ['OTEL_BSP_MAX_QUEUE_SIZE', 'maxQueueSize'],
  ['OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 'maxExportBatchSize'],
  ['OTEL_BSP_SCHEDULE_DELAY', 'scheduledDelayMs'],
  ['OTEL_BSP_EXPORT_TIMEOUT', 'exportTimeoutMs'],
];

/**
 * The standard `OTEL_*` environment variables as a config layer (named
 * `otel-env`) that sets the `tracing.*` keys, so `explain()` says where a
 * tracing setting came from and Atlas can still override it. It sits just
 * above the `SMART_*` environment. `OTEL_SDK_DISABLED=true` turns tracing
 * off; `OTEL_TRACES_EXPORTER` lists exporters, the first one counts.
 *
 * @example
 * loadConfig(definition, { service: 'fizz', sources: [otelEnvSource(process.env)] });
 */
export function otelEnvSource(env: Env): ConfigSource {
  return {
    name: 'otel-env',
    load() {
      const tracing: Record<string, string> = {};
      for (const [variable, key] of OTEL_KEYS) {
        const value = env[variable]?.trim();
        if (value) tracing[key] = value;
      }
      if (tracing.exporter) tracing.exporter = tracing.exporter.split(',')[0]?.trim() ?? '';
      if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') tracing.exporter = 'none';
      return Object.keys(tracing).length === 0 ? {} : { tracing };
    },
  };
}

/** The exporter the settings name: `otlp` when only an endpoint is set, none when nothing is. */
export function exporterOf(config: TracingConfig): TracingExporter {
  return config.exporter ?? (config.endpoint || config.tracesEndpoint ? 'otlp' : 'none');
}

/** Where OTLP spans are sent: the traces URL as is, else the base endpoint plus `/v1/traces`. */
export function otlpTracesUrl(config: TracingConfig): string {
  if (config.tracesEndpoint) return config.tracesEndpoint;
  const base = config.endpoint ?? 'http://localhost:4318';
  return `${base.replace(/\/+$/, '')}/v1/traces`;
}

/**
 * `key=value,key=value` (OTEL_RESOURCE_ATTRIBUTES, W3C Baggage octets:
 * values percent-encoded). A malformed pair is left out, as the SDK does.
 */
export function parseKeyValues(list: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!list) return out;
  for (const pair of list.split(',')) {
    const at = pair.indexOf('=');
    if (at <= 0) continue;
    const key = pair.slice(0, at).trim();
    try {
      out[key] = decodeURIComponent(pair.slice(at + 1).trim());
    } catch {
      // Not valid percent-encoding: skipped, like the SDK's own parser.
    }
  }
  return out;
}
