/**
 * A PostgreSQL server (directly or through a connection pooler) via a node-postgres pool with connect and query
 * timeouts.
 */
import type { DatabaseConfig } from '@ironclad/config/load';
import { drizzle as drizzleNodePg } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import type { Database, DatabaseOptions, Db } from './connect.js';
import { migratePostgres } from './migrate.js';
import * as schema from './schema.js';

export type PostgresConfig = Exclude<DatabaseConfig, { kind: 'embedded' }>;

export function openPostgres(config: PostgresConfig, options: DatabaseOptions): Database {
  const { kind: _kind, ...connection } = config;
  const pool = new pg.Pool({
    ...connection,
    max: options.poolMax,
    connectionTimeoutMillis: options.connectTimeoutMs,
    // Client-side timer (covers a server that stops answering) and server-side cancel.
    query_timeout: options.queryTimeoutMs,
    statement_timeout: options.queryTimeoutMs,
    idleTimeoutMillis: 30_000,
    application_name: 'ironclad-tasks',
  });
  pool.on('error', (error) => options.onIdleError?.(error));
  // node-postgres listens for errors only on idle clients. A client checked out for a transaction (task creates
  // hold one across statements) whose connection breaks between two statements would emit 'error' with no listener,
  // and that kills the process. This listener keeps it alive: the transaction's next statement fails, the request
  // gets its 503, and the broken client is destroyed on release.
  pool.on('connect', (client) => {
    client.on('error', () => {});
  });
  const db = drizzleNodePg(pool, { schema }) as unknown as Db;
  return {
    kind: 'postgres',
    db,
    pool,
    ping: async () => {
      await pool.query('SELECT 1');
    },
    migrate: () => migratePostgres(connection, options.connectTimeoutMs),
    close: () => pool.end(),
  };
}
