/**
 * Rate limits for signup and login, on @fastify/rate-limit (set up by plugins/rate-limits.ts). Counters
 * live in PostgreSQL when the app runs on PostgreSQL (several server processes then share one limit, so
 * spreading attempts over instances gains nothing) and in memory with the embedded database. The
 * PostgreSQL store is ours: the plugin ships only memory and Redis stores.
 */
import { createHash } from 'node:crypto';
import type { RateLimit } from '@ironclad/config/types';
import type { FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import type pg from 'pg';
import { HttpError } from './errors.js';

type IncrCallback = (error: Error | null, result?: { current: number; ttl: number }) => void;

const INCREMENT = `
INSERT INTO rate_limits AS r (key, hits, reset_at)
VALUES ($1, 1, now() + $2 * interval '1 millisecond')
ON CONFLICT (key) DO UPDATE SET
  hits = CASE WHEN r.reset_at <= now() THEN 1 ELSE r.hits + 1 END,
  reset_at = CASE WHEN r.reset_at <= now() THEN excluded.reset_at ELSE r.reset_at END
RETURNING hits, GREATEST(0, CEIL(EXTRACT(EPOCH FROM (reset_at - now())) * 1000))::int AS ttl`;

export class PostgresRateLimitStore {
  private calls = 0;

  constructor(private readonly pool: pg.Pool) {}

  incr(key: string, callback: IncrCallback, timeWindow: number): void {
    // Keys hold emails and addresses: store a digest, fixed length.
    const digest = createHash('sha256').update(key).digest('hex');
    this.pool
      .query<{ hits: number; ttl: number }>({ name: 'rate_limit_incr', text: INCREMENT, values: [digest, timeWindow] })
      .then(({ rows }) => {
        const row = rows[0] as { hits: number; ttl: number };
        callback(null, { current: row.hits, ttl: row.ttl });
      }, callback);
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

export const tooManyAttempts = (seconds: number) =>
  new HttpError(
    429,
    'Too many attempts; try again later.',
    { retry_after: seconds },
    { 'retry-after': String(seconds) },
  );
