/**
 * Exact fixed-window counters that may go down as well as up: what the login guard needs to count failed passwords
 * (it adds one before verifying, so parallel guesses cannot slip past the limit, and takes it back when the password
 * was right). @fastify/rate-limit counts requests only, and never un-counts one, so these are ours. In PostgreSQL
 * (the `rate_limits` table, shared by every server process) or in memory (one process, the embedded database).
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';

export interface Count {
  /** The count in the current window, this change included. */
  count: number;
  /** Milliseconds until the window ends and the count starts again from zero. */
  ttlMs: number;
}

export interface Counters {
  /** Adds `delta` (may be negative) to `key`'s count; a window that is over starts again from zero. */
  add(key: string, windowMs: number, delta?: number): Promise<Count>;
}

const ADD = `
INSERT INTO rate_limits AS r (key, hits, reset_at)
VALUES ($1, GREATEST($3::int, 0), now() + $2 * interval '1 millisecond')
ON CONFLICT (key) DO UPDATE SET
  hits = GREATEST(0, CASE WHEN r.reset_at <= now() THEN excluded.hits ELSE r.hits + $3::int END),
  reset_at = CASE WHEN r.reset_at <= now() THEN excluded.reset_at ELSE r.reset_at END
RETURNING hits, GREATEST(0, CEIL(EXTRACT(EPOCH FROM (reset_at - now())) * 1000))::int AS ttl`;

export class PostgresCounters implements Counters {
  constructor(private readonly pool: pg.Pool) {}

  async add(key: string, windowMs: number, delta = 1): Promise<Count> {
    // Keys hold email digests and addresses: store a digest of the whole key, fixed length.
    const digest = createHash('sha256').update(key).digest('hex');
    const { rows } = await this.pool.query<{ hits: number; ttl: number }>({
      name: 'counters_add',
      text: ADD,
      values: [digest, windowMs, delta],
    });
    const row = rows[0] as { hits: number; ttl: number };
    return { count: row.hits, ttlMs: row.ttl };
  }
}

/** At most this many keys are kept; past it, windows that are over are dropped, then the oldest. */
const MEMORY_KEYS_MAX = 100_000;

export class MemoryCounters implements Counters {
  private readonly windows = new Map<string, { count: number; resetAt: number }>();

  async add(key: string, windowMs: number, delta = 1): Promise<Count> {
    const now = Date.now();
    let window = this.windows.get(key);
    if (!window || window.resetAt <= now) {
      if (!window && this.windows.size >= MEMORY_KEYS_MAX) this.evict(now);
      window = { count: 0, resetAt: now + windowMs };
      this.windows.set(key, window);
    }
    window.count = Math.max(0, window.count + delta);
    return { count: window.count, ttlMs: window.resetAt - now };
  }

  private evict(now: number): void {
    for (const [key, window] of this.windows) if (window.resetAt <= now) this.windows.delete(key);
    // Still full: the oldest half goes (a Map iterates in insertion order).
    if (this.windows.size >= MEMORY_KEYS_MAX) {
      let drop = this.windows.size / 2;
      for (const key of this.windows.keys()) {
        if (drop-- <= 0) break;
        this.windows.delete(key);
      }
    }
  }
}
