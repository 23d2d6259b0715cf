import type { Attributes, Context, Link, SpanKind } from '@opentelemetry/api';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ParentBasedSampler,
  type Sampler,
  type SamplingResult,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import type { TracingConfig } from './tracing-settings.ts';

/** `OTEL_TRACES_SAMPLER` values (the `tracing.sampler` key). */
export type SamplerName = TracingConfig['sampler'];

function build(name: SamplerName, ratio: number): Sampler {
  switch (name) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio);
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

/**
 * A sampler that follows the live config: each decision asks `read()` for
 * the current `tracing.sampler` and `tracing.samplerArg`, and the SDK's own
 * sampler for them is rebuilt only when they change (a comparison per
 * span, no allocation). So a ratio set in Atlas applies to the next request.
 *
 * @example
 * new BasicTracerProvider({ sampler: new LiveSampler(() => app.config.tracing) });
 */
export class LiveSampler implements Sampler {
  readonly #read: () => Pick<TracingConfig, 'sampler' | 'samplerArg'>;
  #name: SamplerName | undefined;
  #ratio = Number.NaN;
  #current: Sampler = new AlwaysOnSampler();

  constructor(read: () => Pick<TracingConfig, 'sampler' | 'samplerArg'>) {
    this.#read = read;
  }

  #sampler(): Sampler {
    const { sampler, samplerArg } = this.#read();
    if (sampler !== this.#name || samplerArg !== this.#ratio) {
      this.#name = sampler;
      this.#ratio = samplerArg;
      this.#current = build(sampler, samplerArg);
    }
    return this.#current;
  }

  shouldSample(
    context: Context,
    traceId: string,
    spanName: string,
    spanKind: SpanKind,
    attributes: Attributes,
    links: Link[],
  ): SamplingResult {
    return this.#sampler().shouldSample(context, traceId, spanName, spanKind, attributes, links);
  }

  toString(): string {
    return `LiveSampler{${this.#sampler().toString()}}`;
  }
}
