/**
 * Keeps sessions that became unusable out of the node-postgres pool, so the server recovers by itself when the
 * database does (no restart).
 *
 * pool.query already destroys its client on any error (pg-pool releases it with the error). Drizzle's transactions
 * do not (drizzle-orm 0.45, node-postgres/session.js `transaction()`): they check a client out, and
 *   - release it WITHOUT the error after a failed transaction: a session that connected while the database was
 *     read-only (ALTER DATABASE ... SET default_transaction_read_only) keeps that default for its whole life, so it
 *     would go back to the pool and fail every write it is given long after the database accepts writes again;
 *   - never release it when `begin` itself fails (it runs before their try/finally), for any reason: the pool slot
 *     would be lost for good, and after DB_POOL_MAX such failures every request would wait for a connection that
 *     never comes (database-failures.test.ts shows it with a standby refusing BEGIN READ WRITE).
 * Neither can be fixed from outside drizzle's code except at the client: this watches each pooled client's
 * queries and, on release, ends a client whose checkout saw an error that makes the session untrustworthy
 * (isSessionUnusable). Hand-written because no library offers this hook for drizzle's transactions.
 */
import type pg from 'pg';
import { isSessionUnusable } from './unavailable.js';

/** Clients whose current checkout saw a session-breaking error. */
const tainted = new WeakSet<pg.PoolClient>();

function queryText(args: unknown[]): string {
  const first = args[0];
  if (typeof first === 'string') return first;
  if (first && typeof first === 'object' && typeof (first as { text?: unknown }).text === 'string') {
    return (first as { text: string }).text;
  }
  return '';
}

function watchQueries(client: pg.PoolClient): void {
  const original = client.query;
  const watched = function (this: pg.PoolClient, ...args: unknown[]): unknown {
    const result = (original as (...a: unknown[]) => unknown).apply(this, args);
    // Only the promise form is drizzle's; pool.query uses the callback form and releases with the error itself.
    if (result && typeof (result as Promise<unknown>).then === 'function') {
      const text = queryText(args);
      (result as Promise<unknown>).then(undefined, (error: unknown) => {
        // drizzle's transaction() runs `begin` outside its try/finally: when it fails, whatever the reason, nobody
        // releases the client. Released here with the error, so the pool replaces it.
        if (/^\s*begin\b/i.test(text)) {
          try {
            client.release(error as Error);
          } catch {
            // Already released: nothing was lost.
          }
          return;
        }
        if (isSessionUnusable(error)) tainted.add(client);
      });
    }
    return result;
  };
  client.query = watched as typeof client.query;
}

/** Installs the guard on a pool; call once, before the pool is used. */
export function discardUnusableSessions(pool: pg.Pool): void {
  pool.on('connect', (client) => watchQueries(client));
  pool.on('acquire', (client) => tainted.delete(client));
  // 'release' is emitted before pg-pool decides whether to keep the client, and it discards a client that is
  // ending: ending it here makes the pool drop it and open a fresh session for the next request.
  pool.on('release', (error: Error | undefined, client: pg.PoolClient) => {
    if (error || !tainted.has(client)) return;
    tainted.delete(client);
    void client.end().catch(() => {});
  });
}
