/**
 * Pipeline step: back-pressure. When the process or its database pool is saturated, refuse at once
 * (http/overload.ts) before the request costs any more. Event-loop lag comes from
 * @fastify/under-pressure; the pool queue check is ours (node-postgres queues waiters without a bound).
 */
import underPressure from '@fastify/under-pressure';
import fp from 'fastify-plugin';
import type pg from 'pg';
import { overloaded, RETRY_AFTER_SECONDS } from '../overload.js';

export interface OverloadOptions {
  /** 0 disables the event-loop check. */
  maxEventLoopDelayMs: number;
  pool?: pg.Pool;
  poolQueueMax: number;
}

/** Liveness must not fail because the process is busy: an orchestrator would restart it and make things worse. */
const EXEMPT = new Set(['/healthz']);

export const overloadGuards = fp<OverloadOptions>(
  async (app, options) => {
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
  },
  { name: 'overload-guards', fastify: '5.x' },
);
