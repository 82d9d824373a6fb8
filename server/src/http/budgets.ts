/**
 * Per-account request budgets (RATE_LIMIT_READS, RATE_LIMIT_WRITES): how many authenticated requests one account may
 * make per window, all its tokens and all server processes together.
 *
 * Written here rather than with @fastify/rate-limit because that plugin asks its store on every request, and a
 * PostgreSQL round trip on every list would cost the hot path a third of its speed. Instead each process counts in
 * memory and adds its counts to PostgreSQL in one statement every FLUSH_MS; each flush returns the totals of every
 * process, which the next decisions use. Windows are fixed and aligned to the clock (every process agrees where a
 * window starts), so a key is (budget, account, window start) and needs no reset logic.
 *
 * What this gives: one process never lets an account past its budget; with n processes, an account that sends its
 * whole budget to each of them within one flush interval at the very start of a window can get at most n times it
 * in that window. The database being unreachable does not stop the counting: each process then enforces the budget
 * alone and adds its counts once the database is back.
 */
import type { RateLimit } from '@ironclad/config/types';
import type pg from 'pg';

export const FLUSH_MS = 200;

const ADD_ALL = `
INSERT INTO rate_limits AS r (key, hits, reset_at)
SELECT key, hits, to_timestamp(ends / 1000.0)
FROM unnest($1::text[], $2::int[], $3::float8[]) AS t(key, hits, ends)
ON CONFLICT (key) DO UPDATE SET hits = r.hits + excluded.hits
RETURNING key, hits`;

interface Window {
  key: string;
  endsAt: number;
  /** The total of every process, as of our last flush (our own flushed counts included). */
  known: number;
  /** Counted here, not yet sent. */
  pending: number;
  /** Sent, not yet confirmed. */
  sending: number;
  /** The first read of the other processes' total for this window, while it runs. */
  loading?: Promise<void> | undefined;
}

export type Spend = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export class Budgets {
  private readonly windows = new Map<string, Window>();
  private timer: NodeJS.Timeout | undefined;
  private flushing = false;
  private flushes = 0;

  constructor(
    private readonly limits: Record<string, RateLimit>,
    private readonly pool?: pg.Pool,
  ) {}

  /**
   * Counts one request of `budget` for `account`, unless the budget for this window is spent. The first request of
   * an account in a window waits for one read of what the other processes have counted already (a promise); every
   * later one is decided in memory, at once.
   */
  spend(budget: string, account: string | number, now = Date.now()): Spend | Promise<Spend> {
    const limit = this.limits[budget];
    if (!limit) throw new Error(`unknown budget ${budget}`);
    const start = now - (now % limit.windowMs);
    const key = `budget:${budget}:${account}:${start}`;
    let window = this.windows.get(key);
    if (!window) {
      const created: Window = { key, endsAt: start + limit.windowMs, known: 0, pending: 0, sending: 0 };
      if (this.pool) created.loading = this.load(created, this.pool);
      window = created;
      this.windows.set(key, window);
    }
    // Only the first request of a window waits; the rest stay synchronous (an await costs more than the decision).
    const current = window;
    return current.loading
      ? current.loading.then(() => this.decide(current, limit, now))
      : this.decide(current, limit, now);
  }

  private decide(window: Window, limit: RateLimit, now: number): Spend {
    if (window.known + window.pending + window.sending >= limit.max) {
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((window.endsAt - now) / 1000)) };
    }
    window.pending++;
    this.schedule();
    return { allowed: true };
  }

  private async load(window: Window, pool: pg.Pool): Promise<void> {
    try {
      const { rows } = await pool.query<{ hits: number }>({
        name: 'budgets_read',
        text: 'SELECT hits FROM rate_limits WHERE key = $1',
        values: [window.key],
      });
      window.known = Math.max(window.known, rows[0]?.hits ?? 0);
    } catch {
      // Database unreachable: this process decides alone until a flush gets through.
    } finally {
      window.loading = undefined;
    }
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, FLUSH_MS);
    // Counting must never keep a process alive that is otherwise done.
    this.timer.unref();
  }

  /** Sends pending counts and forgets windows that are over. Public for tests and for a clean shutdown. */
  async flush(now = Date.now()): Promise<void> {
    if (this.flushing) return this.schedule();
    const batch: Window[] = [];
    for (const [key, window] of this.windows) {
      if (window.endsAt <= now) this.windows.delete(key);
      else if (window.pending > 0) batch.push(window);
    }
    if (!this.pool || batch.length === 0) {
      // In memory only, pending counts simply become known ones.
      for (const window of batch) {
        window.known += window.pending;
        window.pending = 0;
      }
      return;
    }
    this.flushing = true;
    for (const window of batch) {
      window.sending = window.pending;
      window.pending = 0;
    }
    try {
      const { rows } = await this.pool.query<{ key: string; hits: number }>({
        name: 'budgets_add_all',
        text: ADD_ALL,
        values: [batch.map((w) => w.key), batch.map((w) => w.sending), batch.map((w) => w.endsAt)],
      });
      const totals = new Map(rows.map((row) => [row.key, row.hits]));
      for (const window of batch) {
        window.known = Math.max(window.known + window.sending, totals.get(window.key) ?? 0);
        window.sending = 0;
      }
      // Now and then, drop the rows of windows that are over (each flush only ever adds rows).
      if (++this.flushes % 100 === 0) {
        await this.pool.query('DELETE FROM rate_limits WHERE reset_at < now()').catch(() => {});
      }
    } catch {
      // Database unreachable: keep the counts and send them with the next flush.
      for (const window of batch) {
        window.pending += window.sending;
        window.sending = 0;
      }
      this.schedule();
    } finally {
      this.flushing = false;
    }
  }

  /** Stops the timer (the last counts are sent by `flush`, which the app calls on close). */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
