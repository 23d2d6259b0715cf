import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

function pathOf(url: string): string {
  const query = url.indexOf('?');
  return query === -1 ? url : url.slice(0, query);
}

/**
 * One line per request, when it is answered: method, route, status and
 * duration. The request's own logger adds `requestId`. Routes with a
 * `logLevel` above info (health, metrics) stay quiet.
 */
export const accessLog = fp(
  async function accessLog(app: FastifyInstance) {
    app.addHook('onResponse', (request, reply, done) => {
      request.log.info(
        {
          method: request.method,
          route: request.routeOptions.url ?? null,
          // The path without its query string, which may carry tokens or personal data.
          path: pathOf(request.url),
          status: reply.statusCode,
          durationMs: Math.round(reply.elapsedTime * 100) / 100,
        },
        'request completed',
      );
      done();
    });
    app.addHook('onRequestAbort', (request, done) => {
      request.log.info(
        {
          method: request.method,
          route: request.routeOptions.url ?? null,
          path: pathOf(request.url),
          status: 499,
          aborted: true,
        },
        'request aborted by the client',
      );
      done();
    });
  },
  { name: 'smart-access-log' },
);
