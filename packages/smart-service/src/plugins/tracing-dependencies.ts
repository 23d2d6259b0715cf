import { type Attributes, context, type Span, SpanKind, SpanStatusCode, type Tracer, trace } from '@opentelemetry/api';
import type { LogEvent } from 'kysely';

// Why our own hooks and not @opentelemetry/instrumentation-pg / -ioredis:
// those patch the modules as they load, which for ESM (how smart services
// run) needs a loader hook (`node --import .../hook.mjs`) that every service
// would have to be started with; they trace into the one global tracer
// provider, while each smart service has its own (tests and tools run
// several in a process); and their current releases need
// @opentelemetry/instrumentation 0.300 and core 3, which clash with the
// SDK set we pin (see TOOLCHAIN). Kysely's `log` hook and ioredis's
// `sendCommand` see every query and command without patching a module.

/** The span of the request (or call) running now, when one is being recorded. */
function recordingParent(): boolean {
  return trace.getSpan(context.active())?.isRecording() === true;
}

const MAX_STATEMENT = 2_000;

/**
 * Kysely's `log` option: a client span for every query made inside a
 * traced request, with its statement (`db.query.text`: the SQL with its
 * `$1` placeholders, never the parameter values), its operation and its
 * time. Kysely calls it once the query is done, in the query's async
 * context, so the span is made then with the query's own start time.
 *
 * @example
 * new Kysely({ dialect, log: querySpans(app.tracer) });
 */
export function querySpans(tracer: Tracer): (event: LogEvent) => void {
  return (event) => {
    if (!recordingParent()) return;
    const end = performance.timeOrigin + performance.now();
    const statement = event.query.sql;
    const operation = /^\s*([A-Za-z]+)/.exec(statement)?.[1]?.toUpperCase() ?? 'QUERY';
    const attributes: Attributes = {
      'db.system.name': 'postgresql',
      'db.operation.name': operation,
      'db.query.text': statement.length > MAX_STATEMENT ? `${statement.slice(0, MAX_STATEMENT)}...` : statement,
    };
    const span = tracer.startSpan(operation, {
      kind: SpanKind.CLIENT,
      attributes,
      startTime: end - event.queryDurationMillis,
    });
    if (event.level === 'error') failed(span, event.error);
    span.end(end);
  };
}

function failed(span: Span, error: unknown): void {
  // The code or class only: a driver's message may quote values.
  const code = (error as { code?: unknown } | undefined)?.code;
  span.setAttribute('error.type', typeof code === 'string' ? code : ((error as Error | undefined)?.name ?? 'Error'));
  span.setStatus({ code: SpanStatusCode.ERROR });
}

/** The slice of ioredis's client and command this hook uses. */
interface RedisLike {
  sendCommand(command: { name: string; promise: Promise<unknown> }, stream?: unknown): unknown;
}

/**
 * Gives every Redis command sent inside a traced request a client span
 * named after the command (`GET`), with `db.operation.name` and never its
 * arguments (keys and values may be personal data or secrets). Wraps the
 * client's own `sendCommand`, the one path every command takes.
 *
 * @example
 * traceRedisCommands(client, app.tracer);
 */
export function traceRedisCommands(client: RedisLike, tracer: Tracer): void {
  const send = client.sendCommand.bind(client);
  client.sendCommand = (command, stream) => {
    if (!recordingParent()) return send(command, stream);
    const operation = command.name.toUpperCase();
    const span = tracer.startSpan(operation, {
      kind: SpanKind.CLIENT,
      attributes: { 'db.system.name': 'redis', 'db.operation.name': operation },
    });
    const result = send(command, stream);
    command.promise.then(
      () => span.end(),
      (err: unknown) => {
        failed(span, err);
        span.end();
      },
    );
    return result;
  };
}
