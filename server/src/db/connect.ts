/**
 * Opens the database the configuration names: the embedded PGlite (embedded.ts) or a PostgreSQL server through a
 * node-postgres pool (postgres.ts). Both give the same Drizzle API to the rest of the code.
 */
import type { DatabaseConfig } from '@ironclad/config/load';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type pg from 'pg';
import type * as schema from './schema.js';

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

export interface MigrateOptions {
  /** Aborted when the process is asked to stop: a wait for another instance's migration ends at once. */
  signal?: AbortSignal;
  /** Progress worth an operator's eye (what a wait is waiting for). */
  log?: (message: string) => void;
}

export interface Database {
  readonly kind: 'embedded' | 'postgres';
  readonly db: Db;
  /** Only for PostgreSQL: the pool, for the shared rate-limit store and pool metrics. */
  readonly pool?: pg.Pool;
  ping(): Promise<void>;
  /** Brings the schema up to date; safe to call from several instances at once. */
  migrate(options?: MigrateOptions): Promise<void>;
  close(): Promise<void>;
}

/**
 * How the PostgreSQL server is reached (DB_POOL_MODE): `session` directly or through a pooler in session mode (a
 * connection is ours for its life); `transaction` through a pooler in transaction mode (each transaction may run on
 * another server connection, so no session state may be relied on or left behind).
 */
export type PoolMode = 'session' | 'transaction';

export interface DatabaseOptions {
  poolMax: number;
  /** DB_POOL_MODE; `session` when not given. */
  poolMode?: PoolMode;
  connectTimeoutMs: number;
  queryTimeoutMs: number;
  /** Called for errors of idle pooled connections (the server went away); they must not crash the process. */
  onIdleError?: (error: Error) => void;
  /** Called once if the pool finds a transaction-mode pooler that DB_POOL_MODE did not announce (postgres.ts). */
  onPoolerWarning?: (message: string) => void;
}

export async function openDatabase(config: DatabaseConfig, options: DatabaseOptions): Promise<Database> {
  if (config.kind === 'embedded') {
    const { openEmbedded } = await import('./embedded.js');
    return openEmbedded(config.dataDir);
  }
  const { openPostgres } = await import('./postgres.js');
  const { discardUnusableSessions } = await import('./session-recovery.js');
  const { migrateOrServeReadOnly } = await import('./read-only-start.js');
  const database = openPostgres(config, options);
  // Installed here, not in postgres.ts, so the pool's owner and this guard stay separate modules.
  if (database.pool) discardUnusableSessions(database.pool);
  return { ...database, migrate: (migrateOptions) => migrateOrServeReadOnly(database, migrateOptions) };
}
