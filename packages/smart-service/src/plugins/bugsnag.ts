import type { Client, Event } from '@bugsnag/js';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { pathOf, routeOf } from './request-context.ts';

/** What the Bugsnag reporter needs. */
export interface BugsnagOptions {
  readonly apiKey: string | undefined;
  readonly notifyEndpoint?: string | undefined;
  readonly sessionsEndpoint?: string | undefined;
  readonly service: string;
  readonly version: string;
  readonly realm: string;
  /** The longest `close()` waits for reports still being sent. Default 3 s. */
  readonly flushTimeoutMs?: number;
}

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * Reports an error to Bugsnag (when `bugsnag.apiKey` is set) with the
     * request id, route, realm and service. Unhandled 5xx are reported for you.
     */
    reportError(err: Error, request?: FastifyRequest): void;
  }
}

function describe(event: Event, options: BugsnagOptions, request: FastifyRequest | undefined): void {
  event.addMetadata('service', { name: options.service, version: options.version, realm: options.realm });
  if (!request) return;
  const route = routeOf(request);
  event.context = route ? `${request.method} ${route}` : request.method;
  event.request = { httpMethod: request.method, url: pathOf(request.url) };
  event.addMetadata('request', { requestId: request.id, route: route ?? null, method: request.method });
}

/**
 * Bugsnag error reporting. Without an API key, `reportError` does nothing.
 * Reports still being sent are awaited when the app closes.
 */
export const bugsnag = fp(
  async function bugsnag(app: FastifyInstance, options: BugsnagOptions) {
    const pending = new Set<Promise<void>>();
    let client: Client | undefined;
    if (options.apiKey) {
      const endpoints =
        options.notifyEndpoint || options.sessionsEndpoint
          ? {
              notify: options.notifyEndpoint ?? 'https://notify.bugsnag.com',
              sessions: options.sessionsEndpoint ?? 'https://sessions.bugsnag.com',
            }
          : undefined;
      // Imported only with an API key: a service that reports nothing does not load Bugsnag.
      const { default: Bugsnag } = await import('@bugsnag/js');
      // createClient, not start(): several apps in one process must not share a global client.
      // (`.default` is how the CommonJS export type-checks under NodeNext; it is the same object.)
      client = Bugsnag.default.createClient({
        apiKey: options.apiKey,
        ...(endpoints ? { endpoints } : {}),
        appVersion: options.version,
        releaseStage: options.realm,
        autoDetectErrors: false,
        autoTrackSessions: false,
        // No automatic breadcrumbs: the console plugin would send whatever was
        // printed (secrets included) and wrap the global console for good.
        enabledBreadcrumbTypes: [],
        redactedKeys: [/authorization/i, /cookie/i, /password/i, /secret/i, /token/i, /api[-_]?key/i],
        logger: null,
        metadata: { service: { name: options.service } },
      });
    }

    app.decorate('reportError', (err: Error, request?: FastifyRequest) => {
      if (!client) return;
      const sent = new Promise<void>((resolve) => {
        client.notify(
          err,
          (event) => describe(event, options, request),
          (deliveryError) => {
            if (deliveryError) app.log.warn({ err: deliveryError }, 'could not report an error to Bugsnag');
            resolve();
          },
        );
      });
      pending.add(sent);
      void sent.finally(() => pending.delete(sent));
    });

    // Reports still being sent are awaited, but never longer than this:
    // Bugsnag's own requests have no timeout.
    app.addHook('onClose', async () => {
      if (pending.size === 0) return;
      let timer: NodeJS.Timeout | undefined;
      const limit = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, options.flushTimeoutMs ?? 3_000);
      });
      await Promise.race([Promise.all(pending), limit]);
      clearTimeout(timer);
    });
  },
  { name: 'smart-bugsnag' },
);
