/**
 * Pipeline step: the security headers policy (@ironclad/config/headers) on every answer, errors
 * included. First of the steps that can answer, so a refusal by any later step carries it too.
 */
import { SECURITY_HEADERS } from '@ironclad/config/headers';
import fp from 'fastify-plugin';

/**
 * The headers of every answer: helmet's, plus no caching of API data and Vary: Origin so caches keep
 * answers to different origins apart. Error answers write them again (http/error-answer.ts), also
 * where no hook runs (router errors, raw-socket answers).
 */
export const BASELINE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  ...SECURITY_HEADERS,
  'cache-control': 'no-store',
  vary: 'Origin',
});

export const securityHeaders = fp(
  async (app) => {
    app.addHook('onRequest', (_request, reply, done) => {
      reply.headers(BASELINE_HEADERS);
      done();
    });
  },
  { name: 'security-headers', fastify: '5.x' },
);
