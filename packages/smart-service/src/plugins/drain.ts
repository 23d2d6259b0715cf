import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/**
 * Connection draining. Fastify closes its server after every other `onClose`
 * hook, so without this the db, Redis and config watches would close under
 * requests still in flight. Here `preClose` waits until no request is in
 * flight (the shutdown timeout bounds the wait), so resources close last.
 * Once shutdown begins every response closes its connection: a keep-alive
 * socket whose request was in flight would otherwise stay open, idle, until
 * its timeout and hold the process up.
 */
export const drain = fp(
  async function drain(app: FastifyInstance) {
    let inFlight = 0;
    let idle: (() => void) | undefined;

    app.addHook('onRequest', (_request, _reply, done) => {
      inFlight++;
      done();
    });
    const finished = () => {
      inFlight--;
      if (inFlight === 0) idle?.();
    };
    app.addHook('onResponse', (_request, _reply, done) => {
      finished();
      done();
    });
    app.addHook('onRequestAbort', (_request, done) => {
      finished();
      done();
    });
    app.addHook('onSend', (_request, reply, payload, done) => {
      if (app.shuttingDown) reply.header('connection', 'close');
      done(null, payload);
    });

    app.addHook('preClose', async () => {
      app.server.closeIdleConnections?.();
      if (inFlight === 0) return;
      app.log.info({ inFlight }, 'waiting for requests in flight');
      await new Promise<void>((resolve) => {
        idle = resolve;
      });
    });
  },
  { name: 'smart-drain', dependencies: ['smart-health'] },
);
