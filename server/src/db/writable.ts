/**
 * Whether a write would succeed now, asked the way requests ask: through the same drizzle db and pool, so the
 * answer covers their session settings (a default_transaction_read_only read when the session connected) and the
 * server being a hot standby. PGlite answers the same questions (it is PostgreSQL).
 *
 * The row-locking subquery locks nothing (WHERE false) but is refused with 25006 in a read-only transaction, like
 * any write. That refusal is what makes the pool discard a session still carrying a read-only default after the
 * database was made writable again (pool.query destroys a client on error): without it, /readyz could keep
 * answering "read-only" from that one stale session, or "ready" from a fresh one while requests fail on stale ones.
 */
import { sql } from 'drizzle-orm';
import type { Db } from './connect.js';
import { unavailableReason } from './unavailable.js';

export type Writability = 'writable' | 'read-only';

export async function checkWritable(db: Db): Promise<Writability> {
  let result: { rows: { recovery: boolean; read_only: string }[] };
  try {
    result = (await db.execute(
      sql`SELECT pg_is_in_recovery() AS recovery, current_setting('transaction_read_only') AS read_only
          FROM (SELECT 1) AS one LEFT JOIN LATERAL (SELECT 1 FROM tasks WHERE false FOR UPDATE) AS probe ON true`,
    )) as unknown as typeof result;
  } catch (error) {
    if (unavailableReason(error) === 'read-only') return 'read-only';
    throw error;
  }
  const row = result.rows[0];
  return row && !row.recovery && row.read_only === 'off' ? 'writable' : 'read-only';
}
