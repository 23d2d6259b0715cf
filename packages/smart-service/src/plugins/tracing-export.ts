import { type Attributes, createNoopMeter, type Meter, type MeterProvider } from '@opentelemetry/api';
import { OTLPExporterBase } from '@opentelemetry/otlp-exporter-base';
import { convertLegacyHttpOptions, createOtlpHttpExportDelegate } from '@opentelemetry/otlp-exporter-base/node-http';
import {
  BatchSpanProcessor,
  type BufferConfig,
  ConsoleSpanExporter,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { decodeAnswer, encodeSpans } from './tracing-otlp-proto.ts';
import { otlpTracesUrl, type TracingConfig, type TracingExporter } from './tracing-settings.ts';

/** Told how many spans were exported, and how many were dropped and why. */
export interface SpanCounts {
  exported(count: number): void;
  /** `queue_full` (the exporter is slower than the spans come) or `export_failed` (down, refused, timed out). */
  dropped(count: number, reason: 'queue_full' | 'export_failed'): void;
}

/**
 * The exporter the settings name (never `none`: no exporter means no
 * tracing). Only the one in use is loaded: the OTLP/JSON exporter alone
 * took ~40 ms to load, Zipkin's ~10 ms.
 *
 * @example
 * const exporter = await createExporter('otlp', app.config.tracing);
 */
export async function createExporter(
  kind: Exclude<TracingExporter, 'none'>,
  config: TracingConfig,
): Promise<SpanExporter> {
  if (kind === 'zipkin') {
    const { ZipkinExporter } = await import('@opentelemetry/exporter-zipkin');
    return new ZipkinExporter({ url: config.zipkinEndpoint });
  }
  if (kind === 'console') return new ConsoleSpanExporter();
  const options = { url: otlpTracesUrl(config), timeoutMillis: config.exportTimeoutMs };
  if (config.protocol === 'http/json') {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
    return new OTLPTraceExporter(options);
  }
  return otlpProtoExporter(options);
}

/**
 * The SDK's OTLP/protobuf HTTP exporter (its options, OTEL_EXPORTER_OTLP_*
 * headers and compression, retries, timeout and bounded concurrency), as
 * `@opentelemetry/exporter-trace-otlp-proto` builds it, with our span
 * encoder (tracing-otlp-proto.ts) in place of the SDK's serializer.
 */
function otlpProtoExporter(options: { url: string; timeoutMillis: number }): SpanExporter {
  const delegate = createOtlpHttpExportDelegate(
    convertLegacyHttpOptions(options, 'TRACES', 'v1/traces', { 'Content-Type': 'application/x-protobuf' }),
    { serializeRequest: encodeSpans, deserializeResponse: decodeAnswer },
    'otlp_http_span_exporter',
    { name: 'span', countItems: (spans: ReadableSpan[]) => spans.length },
    undefined,
  );
  return new OTLPExporterBase(delegate);
}

// The SDK's batch processor reports what became of each span through its
// self-observability counter `otel.sdk.processor.span.processed` (with
// `error.type` = `queue_full` for a full queue, else the export error's
// name). A meter with only that counter turns it into our counts, so the
// drops are counted where the SDK decides them, with no wrapper of our own.
function countingMeterProvider(counts: SpanCounts): MeterProvider {
  const noop = createNoopMeter();
  const meter: Meter = Object.create(noop, {
    createCounter: {
      value(name: string, options?: unknown) {
        if (name !== 'otel.sdk.processor.span.processed') return noop.createCounter(name, options as never);
        return {
          add(count: number, attributes?: Attributes) {
            const error = attributes?.['error.type'];
            if (error === undefined) counts.exported(count);
            else counts.dropped(count, error === 'queue_full' ? 'queue_full' : 'export_failed');
          },
        };
      },
    },
  });
  return { getMeter: () => meter };
}

/**
 * The bounded, batching span processor: spans wait in a queue of
 * `maxQueueSize` (more are dropped, never waited for) and leave in batches
 * every `scheduledDelayMs`; an export that fails or outlasts
 * `exportTimeoutMs` loses its batch. A request never waits for an exporter.
 *
 * @example
 * const processor = batchProcessor(await createExporter('otlp', config), config, counts);
 */
export function batchProcessor(exporter: SpanExporter, config: TracingConfig, counts: SpanCounts): BatchSpanProcessor {
  // sdk-trace-base's BatchSpanProcessor passes its options on to sdk-trace's, whose
  // type has selfObsMeterProvider; the older config type here does not list it.
  const options: BufferConfig & { selfObsMeterProvider: MeterProvider } = {
    maxQueueSize: config.maxQueueSize,
    maxExportBatchSize: Math.min(config.maxExportBatchSize, config.maxQueueSize),
    scheduledDelayMillis: config.scheduledDelayMs,
    // A little above the exporter's own timeout, so the exporter's error (and count) comes first.
    exportTimeoutMillis: config.exportTimeoutMs + 1_000,
    selfObsMeterProvider: countingMeterProvider(counts),
  };
  return new BatchSpanProcessor(exporter, options);
}
