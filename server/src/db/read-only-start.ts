/**
 * What start-up does when the migrations cannot run, decided here so start.ts only retries what is worth retrying:
 *
 * - the database refused the role or does not exist: no retry will help; DatabaseRefusedError carries which, and
 *   main-process.ts turns it into one line naming the user, the address and the settings to check;
 * - the database is read-only (a hot standby before promotion, or default_transaction_read_only): if its schema is
 *   already up to date (migrated on the primary, replicated here) the server starts, serves reads and answers
 *   writes 503 until the database accepts them (promotion needs no restart); if migrations are missing it cannot
 *   run them there, and says so in one line.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { StartupError } from '../lifecycle/startup-error.js';
import type { Database, MigrateOptions } from './connect.js';
import { migrationsFolder } from './migrate.js';
import { errorCode, unavailableReason } from './unavailable.js';

/**
 * The database refused the connection for a reason no retry fixes. It has no `code` and no `cause` on purpose:
 * isDatabaseUnavailable must say no, so start-up fails at once instead of retrying.
 */
export class DatabaseRefusedError extends Error {
  constructor(
    readonly reason: 'credentials' | 'database-missing',
    readonly sqlstate: string | undefined,
  ) {
    super(reason === 'credentials' ? 'the database refused the credentials' : 'the database does not exist');
    this.name = 'DatabaseRefusedError';
  }
}

/** The `when` of the newest migration this build carries (drizzle's journal). */
function newestMigration(): number {
  const journal = JSON.parse(readFileSync(join(migrationsFolder, 'meta', '_journal.json'), 'utf8')) as {
    entries: { when: number }[];
  };
  return Math.max(...journal.entries.map((entry) => entry.when));
}

/** Drizzle's migrator records each applied migration's `when` as created_at; up to date when the newest is there. */
async function schemaUpToDate(database: Database): Promise<boolean> {
  try {
    const result = (await database.db.execute(
      sql`SELECT max(created_at)::text AS newest FROM drizzle.__drizzle_migrations`,
    )) as unknown as { rows: { newest: string | null }[] };
    const newest = Number(result.rows[0]?.newest ?? 0);
    return newest >= newestMigration();
  } catch {
    return false; // no migrations table: never migrated
  }
}

export async function migrateOrServeReadOnly(database: Database, options?: MigrateOptions): Promise<void> {
  try {
    await database.migrate(options);
    return;
  } catch (error) {
    const reason = unavailableReason(error);
    if (reason === 'credentials' || reason === 'database-missing') {
      throw new DatabaseRefusedError(reason, errorCode(error));
    }
    // A migration refused with 25006 is the database telling us it is read-only; nothing else is ours to handle.
    if (reason !== 'read-only') throw error;
    if (!(await schemaUpToDate(database))) {
      throw new StartupError(
        'the database is read-only (a hot standby, or default_transaction_read_only) and its schema needs migrations, which can only run on a writable primary: point the server at the primary, or promote this one',
      );
    }
    options?.log?.(
      'the database is read-only (a hot standby not yet promoted, or default_transaction_read_only); its schema is up to date: starting, serving reads, answering writes 503 until it accepts them',
    );
  }
}
