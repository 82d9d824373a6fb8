/**
 * A PostgreSQL server (directly or through a connection pooler such as PgBouncer) via a node-postgres pool with
 * connect and query timeouts.
 *
 * Nothing here may depend on a pooler's good will: the connections send no start-up parameter but the ones every
 * pooler passes on (PgBouncer refuses `statement_timeout` and `options` unless told to ignore them), and in
 * `transaction` pool mode no session state is set or relied on (see DatabaseOptions.poolMode).
 */
import type { DatabaseConfig } from '@ironclad/config/load';
import { drizzle as drizzleNodePg } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import type { Database, DatabaseOptions, Db, MigrateOptions, PoolMode } from './connect.js';
import { migratePostgres } from './migrate.js';
import * as schema from './schema.js';

export type PostgresConfig = Exclude<DatabaseConfig, { kind: 'embedded' }>;

export const APPLICATION_NAME = 'ironclad-tasks';

/**
 * A client whose queries are never named prepared statements: through a transaction pooler, a statement prepared on
 * one server connection is unknown on the next one (PgBouncer before 1.21 does not track them), which gives
 * "prepared statement ... does not exist" errors. The unnamed extended protocol still sends the parameters apart from
 * the text, so nothing is interpolated. Done here, in one place, because the names also come from drizzle's
 * `.prepare(name)` (sessions, tasks) and any future query gets the same treatment. Session mode keeps the names: they
 * save the parse and plan of the per-request session lookup (measured 0.1-0.4 ms of a 3-5 ms request, above the 3%
 * worth keeping; docs/deployment.md).
 */
export class UnnamedStatementsClient extends pg.Client {
  // biome-ignore lint/suspicious/noExplicitAny: pg.Client.query has many overloads; this only rewrites the config
  override query(config: any, values?: any, callback?: any): any {
    if (
      config &&
      typeof config === 'object' &&
      typeof config.name === 'string' &&
      typeof config.submit !== 'function'
    ) {
      const { name: _name, ...unnamed } = config;
      return super.query(unnamed, values, callback);
    }
    return super.query(config, values, callback);
  }
}

/** `statement_timeout` in milliseconds as SHOW prints it ('0', '5s', '250ms', '1min'). */
export function statementTimeoutMs(shown: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(us|ms|s|min|h|d)?$/.exec(shown.trim());
  if (!match) return Number.NaN;
  const unit = { us: 0.001, ms: 1, s: 1000, min: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] ?? 'ms'] ?? 1;
  return Number(match[1]) * unit;
}

/**
 * Transaction mode sets no session state, so the server-side cancel of slow statements is the role's or database's
 * setting. Read once at start: without one, a statement the client gave up on (query_timeout) runs on in PostgreSQL.
 */
async function checkServerStatementTimeout(pool: pg.Pool, log: (message: string) => void): Promise<void> {
  const { rows } = await pool.query<{ statement_timeout: string }>('SHOW statement_timeout');
  const shown = rows[0]?.statement_timeout ?? '0';
  if (statementTimeoutMs(shown) === 0) {
    log(
      "DB_POOL_MODE=transaction: PostgreSQL has no statement_timeout for this role, so a query the server gave up on keeps running in the database; set one for the role the server connects as, e.g. ALTER ROLE <role> SET statement_timeout = '5s' (as DB_QUERY_TIMEOUT), then restart the pooler's server connections (docs/deployment.md, \"Behind a connection pooler\")",
    );
  }
}

export function openPostgres(config: PostgresConfig, options: DatabaseOptions): Database {
  const { kind: _kind, ...connection } = config;
  const poolMode: PoolMode = options.poolMode ?? 'session';
  const pool = new pg.Pool({
    ...connection,
    ...(poolMode === 'transaction' ? { Client: UnnamedStatementsClient } : {}),
    max: options.poolMax,
    connectionTimeoutMillis: options.connectTimeoutMs,
    // Client-side timer: covers a server that stops answering, in both pool modes. The server-side cancel
    // (statement_timeout) is set below in session mode; never as a start-up parameter, which PgBouncer refuses.
    query_timeout: options.queryTimeoutMs,
    idleTimeoutMillis: 30_000,
    application_name: APPLICATION_NAME,
    // Session mode: the connection is ours for its life, so a session setting holds. pg-pool awaits this hook
    // before handing a new connection out; if it fails, the connection is closed and the checkout fails with that
    // error (a broken connection: 503). Transaction mode sets nothing that would stay on a pooled server connection.
    ...(poolMode === 'session'
      ? {
          onConnect: async (client: pg.ClientBase) => {
            await client.query(`SET statement_timeout = ${Math.trunc(options.queryTimeoutMs)}`);
          },
        }
      : {}),
  });
  pool.on('error', (error) => options.onIdleError?.(error));
  pool.on('connect', (client) => {
    // node-postgres listens for errors only on idle clients. A client checked out for a transaction (task creates
    // hold one across statements) whose connection breaks between two statements would emit 'error' with no
    // listener, and that kills the process. This listener keeps it alive: the transaction's next statement fails,
    // the request gets its 503, and the broken client is destroyed on release.
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
    migrate: async (migrateOptions: MigrateOptions = {}) => {
      await migratePostgres(connection, options.connectTimeoutMs, migrateOptions);
      if (poolMode === 'transaction') await checkServerStatementTimeout(pool, migrateOptions.log ?? (() => {}));
    },
    close: () => pool.end(),
  };
}
