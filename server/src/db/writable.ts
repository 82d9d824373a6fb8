/**
 * Whether a write would succeed now, asked the way requests ask: through the same drizzle db and pool, so the
 * answer covers their settings (a session's default_transaction_read_only) and the server being a standby.
 * PGlite answers the same two questions (it is PostgreSQL).
 */
import { sql } from 'drizzle-orm';
import type { Db } from './connect.js';

export type Writability = 'writable' | 'read-only';

export async function checkWritable(db: Db): Promise<Writability> {
  const result = (await db.execute(
    sql`SELECT pg_is_in_recovery() AS recovery, current_setting('transaction_read_only') AS read_only`,
  )) as unknown as { rows: { recovery: boolean; read_only: string }[] };
  const row = result.rows[0];
  return row && !row.recovery && row.read_only === 'off' ? 'writable' : 'read-only';
}
