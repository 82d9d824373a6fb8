/**
 * Pipeline step: the X-Request-Id of every answer (Fastify's own id, a random UUID: a client cannot
 * choose the id its request is logged under), for a user to quote and an operator to find in the log;
 * and, while the server shuts down, `Connection: close` on each answer, so keep-alive clients leave
 * after the answer they are waiting for, in-flight requests finish, and the server can then stop
 * without cutting anyone off.
 */
import fp from 'fastify-plugin';

export const requestId = fp(
  async (app) => {
    app.addHook('onSend', (request, reply, payload, done) => {
      reply.header('x-request-id', request.id);
      done(null, payload);
    });
  },
  { name: 'request-id', fastify: '5.x' },
);
