/**
 * Opens the database the configuration names: the embedded PGlite (a real
 * PostgreSQL compiled to WebAssembly, data in DATA_DIR) or a PostgreSQL
 * server through a node-postgres pool with connect and query timeouts.
 * Both give the same Drizzle API to the rest of the code.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type DatabaseConfig, MEMORY_DATA_DIR } from '@ironclad/config/load';
import { drizzle as drizzleNodePg } from 'drizzle-orm/node-postgres';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import pg from 'pg';
import { migrateEmbedded, migratePostgres } from './migrate.js';
import * as schema from './schema.js';

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

export interface Database {
  readonly kind: 'embedded' | 'postgres';
  readonly db: Db;
  /** Only for PostgreSQL: the pool, for the shared rate-limit store and pool metrics. */
  readonly pool?: pg.Pool;
  ping(): Promise<void>;
  /** Brings the schema up to date; safe to call from several instances at once. */
  migrate(): Promise<void>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  poolMax: number;
  connectTimeoutMs: number;
  queryTimeoutMs: number;
  /** Called for errors of idle pooled connections (the server went away); they must not crash the process. */
  onIdleError?: (error: Error) => void;
}

export async function openDatabase(config: DatabaseConfig, options: DatabaseOptions): Promise<Database> {
  if (config.kind === 'embedded') {
    let dataDir = MEMORY_DATA_DIR;
    if (config.dataDir !== MEMORY_DATA_DIR) {
      mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
      dataDir = join(config.dataDir, 'pglite');
    }
    // Loaded only when used: a PostgreSQL-backed process saves the ~15 MB the WebAssembly build costs.
    const { PGlite } = await import('@electric-sql/pglite');
    const { drizzle: drizzlePglite } = await import('drizzle-orm/pglite');
    const client = await PGlite.create(dataDir);
    const db = drizzlePglite(client, { schema }) as unknown as Db;
    return {
      kind: 'embedded',
      db,
      ping: async () => {
        await client.query('SELECT 1');
      },
      migrate: () => migrateEmbedded(client),
      close: () => client.close(),
    };
  }

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
