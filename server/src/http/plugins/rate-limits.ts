/**
 * Pipeline step: the rate limiters. It adds no hook of its own: it gives the app
 *  - `rateLimiter`: per-request limits on @fastify/rate-limit (http/rate-limit.ts) that routes put in their own
 *    onRequest hooks (signup and login per IP);
 *  - `counters`: exact counters that can also go down (http/counters.ts), for failed logins;
 *  - `spendBudget`: the per-account read and write budgets (http/budgets.ts), which authentication spends as soon as
 *    it knows the account.
 * All three live in PostgreSQL when `pool` is given (every server process shares them), in memory otherwise.
 */
import rateLimit from '@fastify/rate-limit';
import type { RateLimit } from '@ironclad/config/types';
import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type pg from 'pg';
import { Budgets, type Spend } from '../budgets.js';
import { type Counters, MemoryCounters, PostgresCounters } from '../counters.js';
import { type Limiter, PostgresRateLimitStore, tooManyAttempts } from '../rate-limit.js';

declare module 'fastify' {
  interface FastifyInstance {
    rateLimiter: Limiter;
    counters: Counters;
    /** Counts one request of the authenticated account; throws 429 once its budget for the window is spent. */
    spendBudget: (request: FastifyRequest, account: number) => Promise<void> | undefined;
  }
}

export interface RateLimitsOptions {
  /** The shared pool when counters must be shared between processes; memory otherwise. */
  pool?: pg.Pool;
  budgets: { reads: RateLimit; writes: RateLimit };
}

const READS = new Set(['GET', 'HEAD']);

export const rateLimits = fp<RateLimitsOptions>(
  async (app, { pool, budgets: limits }) => {
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
    // createRateLimit, not rateLimit: the plugin's hook runs once per request, and a route may need two limits.
    const limiter: Limiter = (spec, key) => {
      const check = app.createRateLimit({ max: spec.max, timeWindow: spec.windowMs, keyGenerator: key });
      return async (request) => {
        const result = await check(request);
        if (!result.isAllowed && result.isExceeded) throw tooManyAttempts(Math.max(1, result.ttlInSeconds));
      };
    };
    app.decorate('rateLimiter', limiter);
    const counters: Counters = pool ? new PostgresCounters(pool) : new MemoryCounters();
    app.decorate('counters', counters);

    const budgets = new Budgets({ reads: limits.reads, writes: limits.writes }, pool);
    const refuseIfSpent = (spent: Spend): undefined => {
      if (spent.allowed) return undefined;
      throw tooManyAttempts(spent.retryAfterSeconds, 'Too many requests for this account; try again later.');
    };
    app.decorate('spendBudget', (request: FastifyRequest, account: number) => {
      const spent = budgets.spend(READS.has(request.method) ? 'reads' : 'writes', account);
      return spent instanceof Promise ? spent.then(refuseIfSpent) : refuseIfSpent(spent);
    });
    // The last counts still go to the database (closed after the app) so other processes see them.
    app.addHook('onClose', async () => {
      budgets.stop();
      await budgets.flush();
    });
  },
  { name: 'rate-limits', fastify: '5.x' },
);
