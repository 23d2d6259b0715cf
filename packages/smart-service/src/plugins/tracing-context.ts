import { type Context, context, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { storage as requestStorage } from '../context.ts';
import { kSpan, type Traced } from './tracing.ts';

type RequestStore = NonNullable<ReturnType<typeof requestStorage.getStore>>;
const kContext = Symbol('smart.otelContext');
/** A request's store once a context was entered inside it (`context.with`). */
type Entered = RequestStore & { [kContext]?: Context };
type ContextManagementToken = ReturnType<AsyncLocalStorageContextManager['attach']>;
const kRequestContext = Symbol('smart.requestOtelContext');
type WithContext = Traced & { [kRequestContext]?: Context };

/** The OpenTelemetry context of a request: its span, made into a Context once and only if asked for. */
function requestContext(store: RequestStore): Context {
  const raw = store.request.raw as WithContext;
  let entered = raw[kRequestContext];
  if (entered === undefined) {
    const span = raw[kSpan];
    entered = span ? trace.setSpan(ROOT_CONTEXT, span) : ROOT_CONTEXT;
    raw[kRequestContext] = entered;
  }
  return entered;
}

/**
 * An OpenTelemetry context manager that keeps, inside a request, the active
 * context in smart-service's own request context (context.ts) instead of a
 * second AsyncLocalStorage: every request already enters that one (for
 * `currentRequest()`), and entering another per request cost ~1 us (two
 * AsyncLocalStorage runs and a Context made even when nothing reads it).
 * Inside a request the active context is the request's span until code
 * enters another (`context.with`, as the smart client does per call), which
 * is kept on a copy of the request's store; outside requests it is the
 * SDK's AsyncLocalStorageContextManager, which this class extends.
 *
 * @example
 * context.setGlobalContextManager(new RequestContextManager().enable());
 */
export class RequestContextManager extends AsyncLocalStorageContextManager {
  override active(): Context {
    const store = requestStorage.getStore() as Entered | undefined;
    if (store === undefined) return super.active();
    return store[kContext] ?? requestContext(store);
  }

  override with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    entered: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    const store = requestStorage.getStore();
    if (store === undefined) return super.with(entered, fn, thisArg, ...args);
    const run = thisArg == null ? fn : fn.bind(thisArg);
    return requestStorage.run({ ...store, [kContext]: entered } as Entered, run, ...args);
  }

  override attach(entered: Context): ContextManagementToken {
    const store = requestStorage.getStore();
    if (store === undefined) return super.attach(entered);
    requestStorage.enterWith({ ...store, [kContext]: entered } as Entered);
    let disposed = false;
    return {
      dispose() {
        if (disposed) return;
        disposed = true;
        requestStorage.enterWith(store);
      },
    };
  }
}

let installed: boolean | undefined;

/**
 * Registers a RequestContextManager as the API's global context manager,
 * once per process, so smart-client (which knows only @opentelemetry/api)
 * sees the request's span. Returns false when a context manager of the
 * user's own SDK was there first (it is kept, and requests must enter their
 * span through it).
 *
 * @example
 * if (!useRequestContextManager()) context.with(trace.setSpan(ROOT_CONTEXT, span), next);
 */
export function useRequestContextManager(): boolean {
  if (installed === undefined) {
    const manager = new RequestContextManager().enable();
    installed = context.setGlobalContextManager(manager);
    if (!installed) manager.disable();
  }
  return installed;
}
