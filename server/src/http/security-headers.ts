/** Headers every answer carries, via @fastify/helmet, tuned for a JSON API. */
import helmet from '@fastify/helmet';
import type { FastifyInstance } from 'fastify';

export const HSTS_MAX_AGE = 63_072_000; // two years

export async function registerSecurityHeaders(app: FastifyInstance): Promise<void> {
  await app.register(helmet, {
    global: true,
    // JSON never needs to load anything or be framed.
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        'default-src': ["'none'"],
        'frame-ancestors': ["'none'"],
        'base-uri': ["'none'"],
        'form-action': ["'none'"],
      },
    },
    strictTransportSecurity: { maxAge: HSTS_MAX_AGE, includeSubDomains: true },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    crossOriginResourcePolicy: { policy: 'same-origin' },
  });
}
