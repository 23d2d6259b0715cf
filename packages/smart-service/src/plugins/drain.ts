import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/**
 * Connection draining. Fastify closes its server after every other `onClose`
 * hook, so without this the db, Redis and config watches would close under
 * requests still in flight. Here `preClose` waits until no request is in
 * flight (the shutdown timeout bounds the wait), so resources close last;
 * and every response from then on closes its connection (a keep-alive socket
 * whose request was in flight would otherwise stay open, idle, until its
 * timeout and hold the process up).
 */
export const drain = fp(
  async function drain(app: FastifyInstance) {
    app.addHook('preClose', async () => {
      app.lifecycle.closeConnections();
      app.server.closeIdleConnections?.();
      if (app.lifecycle.inFlight.size === 0) return;
      app.log.info({ inFlight: app.lifecycle.inFlight.size }, 'waiting for requests in flight');
      await app.lifecycle.whenIdle();
    });
  },
  { name: 'smart-drain', dependencies: ['smart-request-lifecycle'] },
);
