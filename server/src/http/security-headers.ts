/**
 * Sends the security headers policy (@ironclad/config/headers) on every answer, errors included.
 */
import { SECURITY_HEADERS } from '@ironclad/config/headers';
import type { FastifyInstance } from 'fastify';

/**
 * The headers of every answer: helmet's, plus no caching of API data and Vary: Origin so caches keep
 * answers to different origins apart. Also written by hand on answers made outside Fastify's
 * lifecycle (connection and router errors).
 */
export const BASELINE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  ...SECURITY_HEADERS,
  'cache-control': 'no-store',
  vary: 'Origin',
});

export function registerSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(BASELINE_HEADERS);
    done();
  });
}
