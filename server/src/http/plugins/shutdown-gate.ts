/**
 * Pipeline step: how requests are answered while the server stops (lifecycle/shutdown.ts has the phases).
 * - From the first moment of a stop, every answer carries `Connection: close`, so keep-alive clients leave after
 *   the answer they are waiting for (and reconnect: to another instance, once the load balancer has noticed).
 * - Just before the listener closes, new requests wait at this gate (`held`) instead of being answered: a client
 *   waiting for its answer opens no new connection, so the listen backlog empties and can be closed without a
 *   reset. They are answered normally the moment the listener is closed.
 */
import fp from 'fastify-plugin';
import type { ShutdownState } from '../../lifecycle/shutdown.js';

export const shutdownGate = fp<{ shutdown: ShutdownState }>(
  async (app, { shutdown }) => {
    let closing = false;
    app.addHook('preClose', async () => {
      closing = true;
    });
    // A callback hook, not an async one: on every request of a running server it only reads a field.
    app.addHook('onRequest', (_request, _reply, done) => {
      if (shutdown.held) shutdown.held.then(() => done());
      else done();
    });
    app.addHook('onSend', (_request, reply, payload, done) => {
      if (closing || shutdown.draining) reply.header('connection', 'close');
      done(null, payload);
    });
  },
  { name: 'shutdown-gate', fastify: '5.x' },
);
