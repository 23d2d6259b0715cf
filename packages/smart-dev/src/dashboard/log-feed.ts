import type { DevLogLine } from '../types.ts';

/** A log line as the dashboard shows and filters it. */
export interface FeedLine {
  readonly seq: number;
  readonly service: string;
  /** ms since the epoch (the line's own `time`, else when it arrived). */
  readonly time: number;
  /** pino's number (30 info, 40 warn, 50 error); undefined for a line that is not JSON. */
  readonly level: number | undefined;
  readonly msg: string;
  readonly requestId: string | undefined;
  readonly traceId: string | undefined;
  /** The line's other fields (JSON lines), for the detail view. */
  readonly fields: Readonly<Record<string, unknown>>;
}

const OWN = new Set([
  'level',
  'time',
  'msg',
  'requestId',
  'reqId',
  'trace_id',
  'span_id',
  'service',
  'realm',
  'version',
  'pid',
  'hostname',
]);

const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * The last `limit` lines of every service, numbered, for the Logs panel
 * and its live stream.
 *
 * @example
 * const feed = new LogFeed(5_000);
 * session.on('log', (line) => feed.push(line));
 */
export class LogFeed {
  readonly #limit: number;
  readonly #lines: FeedLine[] = [];
  readonly #listeners = new Set<(line: FeedLine) => void>();
  #seq = 0;

  constructor(limit = 5_000) {
    this.#limit = limit;
  }

  push(line: DevLogLine): FeedLine {
    const json = line.json;
    const fields: Record<string, unknown> = {};
    if (json) for (const [k, v] of Object.entries(json)) if (!OWN.has(k)) fields[k] = v;
    const entry: FeedLine = {
      seq: ++this.#seq,
      service: line.service,
      time: typeof json?.time === 'number' ? json.time : Date.now(),
      level: typeof json?.level === 'number' ? json.level : undefined,
      msg: json ? String(json.msg ?? '') : line.line,
      requestId: str(json?.requestId) ?? str(json?.reqId),
      traceId: str(json?.trace_id),
      fields,
    };
    this.#lines.push(entry);
    if (this.#lines.length > this.#limit) this.#lines.shift();
    for (const listener of this.#listeners) listener(entry);
    return entry;
  }

  /** Lines after `afterSeq`, oldest first. */
  since(afterSeq = 0): FeedLine[] {
    return this.#lines.filter((l) => l.seq > afterSeq);
  }

  /** Lines of one trace or request, oldest first. */
  of(ids: { traceId?: string | undefined; requestId?: string | undefined }): FeedLine[] {
    return this.#lines.filter(
      (l) => (ids.traceId && l.traceId === ids.traceId) || (ids.requestId && l.requestId === ids.requestId),
    );
  }

  subscribe(listener: (line: FeedLine) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
