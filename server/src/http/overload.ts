/**
 * Back-pressure: when the process or its database pool is saturated, answer
 * 503 with Retry-After at once rather than let a queue grow until every
 * request times out. Event-loop lag comes from @fastify/under-pressure; the
 * pool queue check is ours (node-postgres queues waiters without a bound).
 */
import underPressure from '@fastify/under-pressure';
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { HttpError } from './errors.js';

export interface OverloadOptions {
  /** 0 disables the event-loop check. */
  maxEventLoopDelayMs: number;
  pool?: pg.Pool;
  poolQueueMax: number;
}

const RETRY_AFTER_SECONDS = '5';
/** Liveness must not fail because the process is busy: an orchestrator would restart it and make things worse. */
const EXEMPT = new Set(['/healthz']);

export const overloaded = () =>
  new HttpError(503, 'Server is overloaded; try again shortly.', {}, { 'retry-after': RETRY_AFTER_SECONDS });

export async function registerOverloadGuards(app: FastifyInstance, options: OverloadOptions): Promise<void> {
  if (options.maxEventLoopDelayMs > 0) {
    await app.register(underPressure, {
      maxEventLoopDelay: options.maxEventLoopDelayMs,
      sampleInterval: 250,
      retryAfter: Number(RETRY_AFTER_SECONDS),
      // A rejected promise goes to the error handler (JSON 503); a resolved one lets the request through.
      pressureHandler: async (request) => {
        if (!EXEMPT.has(request.url)) throw overloaded();
      },
    });
  }
  const pool = options.pool;
  if (pool) {
    app.addHook('onRequest', async (request) => {
      if (pool.waitingCount >= options.poolQueueMax && !EXEMPT.has(request.url)) throw overloaded();
    });
  }
}
