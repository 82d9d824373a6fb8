/**
 * Pipeline step: CORS, an exact-origin allowlist (CORS_ALLOWED_ORIGINS). No wildcard ever; an unlisted
 * origin gets no CORS header at all, and its preflight is refused outright.
 */
import fastifyCors from '@fastify/cors';
import fp from 'fastify-plugin';
import { HttpError } from '../errors.js';

export interface CorsOptions {
  allowedOrigins: ReadonlySet<string>;
}

export const cors = fp<CorsOptions>(
  async (app, { allowedOrigins }) => {
    // @fastify/cors answers an unlisted preflight with a bare 204; refuse it first, with no CORS headers.
    app.addHook('onRequest', async (request) => {
      const origin = request.headers.origin;
      if (
        request.method === 'OPTIONS' &&
        origin &&
        request.headers['access-control-request-method'] &&
        !allowedOrigins.has(origin)
      ) {
        throw new HttpError(403, 'Origin not allowed.');
      }
    });
    await app.register(fastifyCors, {
      // A function, not the list: with a list @fastify/cors still sends Allow-Credentials to unlisted origins (its #297).
      origin: (origin, callback) => callback(null, origin !== undefined && allowedOrigins.has(origin)),
      credentials: true,
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'],
      allowedHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key'],
      exposedHeaders: ['Retry-After', 'X-Request-Id', 'Idempotent-Replayed', 'Link'],
      maxAge: 600,
      strictPreflight: false,
    });
  },
  { name: 'cors', fastify: '5.x' },
);
