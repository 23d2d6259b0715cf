import type { DevSpan } from './otlp.ts';

/** One trace in the list: what its root did, how long it took, who it touched, whether it failed. */
export interface TraceSummary {
  readonly traceId: string;
  readonly requestId: string | undefined;
  /** The root span's route (`GET /:n`), else its name. */
  readonly root: string;
  readonly service: string;
  readonly status: number | undefined;
  readonly startMs: number;
  readonly durationMs: number;
  readonly services: readonly string[];
  readonly spans: number;
  readonly error: boolean;
}

// Where a request id may sit on a span, in the names tracing setups use.
const REQUEST_ID_KEYS = ['smart.request_id', 'request.id', 'http.request.id', 'http.request.header.x-request-id'];

/** The request id a span carries, if any. */
export function requestIdOf(span: DevSpan): string | undefined {
  for (const key of REQUEST_ID_KEYS) {
    const v = span.attributes[key];
    const first = Array.isArray(v) ? v[0] : v;
    if (typeof first === 'string' && first !== '') return first;
  }
  return undefined;
}

const isError = (span: DevSpan) =>
  span.status.code === 2 || Number(span.attributes['http.response.status_code'] ?? 0) >= 500;

/**
 * The last `limit` traces the dashboard received, by trace id (oldest
 * dropped first); spans of one trace arrive in several exports, from
 * several services, and are put together here. Request ids are learnt from
 * spans and from log lines (`requestId` beside `trace_id`).
 *
 * @example
 * const store = new TraceStore(500);
 * store.add(decodeTraces(body, type));
 * store.find('carol-1'); // the trace of request carol-1
 */
export class TraceStore {
  readonly #limit: number;
  readonly #traces = new Map<string, DevSpan[]>();
  readonly #byRequestId = new Map<string, string>();

  constructor(limit = 500) {
    this.#limit = limit;
  }

  add(spans: readonly DevSpan[]): void {
    for (const span of spans) {
      let list = this.#traces.get(span.traceId);
      if (!list) {
        list = [];
        this.#traces.set(span.traceId, list);
        if (this.#traces.size > this.#limit) {
          const oldest = this.#traces.keys().next().value as string;
          this.#traces.delete(oldest);
        }
      }
      list.push(span);
      const requestId = requestIdOf(span);
      if (requestId) this.linkRequest(requestId, span.traceId);
    }
  }

  /** A log line said request `requestId` ran in trace `traceId`. */
  linkRequest(requestId: string, traceId: string): void {
    this.#byRequestId.set(requestId, traceId);
    if (this.#byRequestId.size > this.#limit * 4) {
      this.#byRequestId.delete(this.#byRequestId.keys().next().value as string);
    }
  }

  /** The trace id for a trace id (or its start) or a request id. */
  find(query: string): string | undefined {
    const q = query.trim();
    if (this.#traces.has(q.toLowerCase())) return q.toLowerCase();
    const byRequest = this.#byRequestId.get(q);
    if (byRequest) return byRequest;
    if (q.length >= 4) for (const id of this.#traces.keys()) if (id.startsWith(q.toLowerCase())) return id;
    return undefined;
  }

  spans(traceId: string): readonly DevSpan[] {
    return [...(this.#traces.get(traceId) ?? [])].sort((a, b) => a.startMs - b.startMs);
  }

  requestIdOf(traceId: string): string | undefined {
    for (const span of this.#traces.get(traceId) ?? []) {
      const id = requestIdOf(span);
      if (id) return id;
    }
    for (const [requestId, id] of this.#byRequestId) if (id === traceId) return requestId;
    return undefined;
  }

  /** The newest first; with a query, only the trace it finds. */
  list(query?: string): TraceSummary[] {
    const ids = query ? [this.find(query)].filter((id): id is string => id !== undefined) : [...this.#traces.keys()];
    return ids
      .map((id) => this.summary(id))
      .filter((s): s is TraceSummary => s !== undefined)
      .sort((a, b) => b.startMs - a.startMs);
  }

  summary(traceId: string): TraceSummary | undefined {
    const spans = this.spans(traceId);
    if (spans.length === 0) return undefined;
    const ids = new Set(spans.map((s) => s.spanId));
    const root = spans.find((s) => !s.parentSpanId || !ids.has(s.parentSpanId)) ?? (spans[0] as DevSpan);
    const start = Math.min(...spans.map((s) => s.startMs));
    const end = Math.max(...spans.map((s) => s.startMs + s.durationMs));
    const method = root.attributes['http.request.method'] ?? root.attributes['http.method'];
    const route = root.attributes['http.route'];
    const status = root.attributes['http.response.status_code'] ?? root.attributes['http.status_code'];
    return {
      traceId,
      requestId: this.requestIdOf(traceId),
      root: route ? `${method ?? ''} ${route}`.trim() : root.name,
      service: root.service,
      status: status === undefined ? undefined : Number(status),
      startMs: start,
      durationMs: end - start,
      services: [...new Set(spans.map((s) => s.service))],
      spans: spans.length,
      error: spans.some(isError),
    };
  }
}
