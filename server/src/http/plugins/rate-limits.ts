/**
 * Pipeline step: the rate limiter (http/rate-limit.ts). It adds no hook of its own: it gives the app a
 * `rateLimiter` that routes put in their own onRequest hooks (signup per IP; login per IP and per account).
 */
import rateLimit from '@fastify/rate-limit';
import fp from 'fastify-plugin';
import type pg from 'pg';
import { type Limiter, PostgresRateLimitStore, tooManyAttempts } from '../rate-limit.js';

declare module 'fastify' {
  interface FastifyInstance {
    rateLimiter: Limiter;
  }
}

export interface RateLimitsOptions {
  /** The shared pool when counters must be shared between processes; memory otherwise. */
  pool?: pg.Pool;
}

export const rateLimits = fp<RateLimitsOptions>(
  async (app, { pool }) => {
    await app.register(rateLimit, {
      global: false,
      ...(pool
        ? {
            store: class extends PostgresRateLimitStore {
              constructor() {
                super(pool as pg.Pool);
              }
            },
          }
        : {}),
    });
    // createRateLimit, not rateLimit: the plugin's hook runs once per request, and login needs two
    // limits (per IP and per account) on the same request.
    const limiter: Limiter = (spec, key) => {
      const check = app.createRateLimit({ max: spec.max, timeWindow: spec.windowMs, keyGenerator: key });
      return async (request) => {
        const result = await check(request);
        if (!result.isAllowed && result.isExceeded) throw tooManyAttempts(Math.max(1, result.ttlInSeconds));
      };
    };
    app.decorate('rateLimiter', limiter);
  },
  { name: 'rate-limits', fastify: '5.x' },
);
