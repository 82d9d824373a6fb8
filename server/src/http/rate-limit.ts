/**
 * Rate limits for signup and login, on @fastify/rate-limit (set up by plugins/rate-limits.ts). Counters
 * live in PostgreSQL when the app runs on PostgreSQL (several server processes then share one limit, so
 * spreading attempts over instances gains nothing) and in memory with the embedded database. The
 * PostgreSQL store is ours: the plugin ships only memory and Redis stores.
 */
import type { RateLimit } from '@ironclad/config/types';
import type { FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import type pg from 'pg';
import { PostgresCounters } from './counters.js';
import { HttpError } from './errors.js';

type IncrCallback = (error: Error | null, result?: { current: number; ttl: number }) => void;

/** @fastify/rate-limit's store interface over the shared counters (http/counters.ts: one table, one statement). */
export class PostgresRateLimitStore {
  private readonly counters: PostgresCounters;
  private calls = 0;

  constructor(private readonly pool: pg.Pool) {
    this.counters = new PostgresCounters(pool);
  }

  incr(key: string, callback: IncrCallback, timeWindow: number): void {
    this.counters
      .add(key, timeWindow, 1)
      .then(({ count, ttlMs }) => callback(null, { current: count, ttl: ttlMs }), callback);
    // Now and then, forget windows that are over.
    if (++this.calls % 500 === 0) {
      this.pool.query('DELETE FROM rate_limits WHERE reset_at < now()').catch(() => {});
    }
  }

  child(): PostgresRateLimitStore {
    return this;
  }
}

/** Makes a route's onRequest hook that answers 429 with Retry-After once `spec` is exceeded for `key`. */
export type Limiter = (spec: RateLimit, key: (request: FastifyRequest) => string) => onRequestAsyncHookHandler;

/** The one 429: the sentence says which limit, `retry_after` and Retry-After say when. */
export const tooManyAttempts = (seconds: number, message = 'Too many attempts; try again later.') =>
  new HttpError(429, message, { retry_after: seconds }, { 'retry-after': String(seconds) });
