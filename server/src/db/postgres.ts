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
import { StartupError } from '../lifecycle/startup-error.js';
import type { Database, DatabaseOptions, Db, MigrateOptions, PoolMode } from './connect.js';
import { migratePostgres } from './migrate.js';
import * as schema from './schema.js';

export type PostgresConfig = Exclude<DatabaseConfig, { kind: 'embedded' }>;

export const APPLICATION_NAME = 'ironclad-tasks';

/** SQLSTATEs of a named prepared statement a transaction pooler lost or duplicated; nothing was executed. */
const LOST_STATEMENT = new Set(['26000', '42P05']);

// biome-ignore lint/suspicious/noExplicitAny: pg.Client.query has many overloads; this only rewrites the config
type QueryConfig = any;

function isNamed(config: QueryConfig): boolean {
  return (
    config !== null &&
    typeof config === 'object' &&
    typeof config.name === 'string' &&
    typeof config.submit !== 'function'
  );
}

function withoutName(config: QueryConfig): QueryConfig {
  const { name: _name, ...unnamed } = config;
  return unnamed;
}

/**
 * The pool's client class: it sends named prepared statements (drizzle's `.prepare(name)` in sessions and tasks,
 * and the budgets' and counters' `name:`) only while they work.
 *
 * Through a transaction pooler, a statement prepared on one server connection is unknown on the next ("prepared
 * statement ... does not exist", 26000) or already there ("already exists", 42P05): PgBouncer before 1.21 does not
 * track them. With `DB_POOL_MODE=transaction` names are never sent. With the default `session`, the first such error
 * (an operator who put a transaction pooler in front without saying so) turns them off for this pool, with one
 * warning; that query is retried unnamed when nothing else of its transaction could have been lost (outside an
 * explicit transaction its failure executed nothing), otherwise it fails with a 503 whose retry succeeds. The
 * unnamed extended protocol still sends the parameters apart from the text, so nothing is interpolated. Names are
 * worth keeping where they work: they save the parse and plan of the per-request session lookup (measured
 * 0.1-0.4 ms of a 3-5 ms request; docs/deployment.md).
 */
function statementsClient(state: { unnamed: boolean }, onLost: () => void): typeof pg.Client {
  return class StatementsClient extends pg.Client {
    override query(config: QueryConfig, values?: QueryConfig, callback?: QueryConfig): QueryConfig {
      if (!isNamed(config)) return super.query(config, values, callback);
      if (state.unnamed) return super.query(withoutName(config), values, callback);
      // 'I' (idle, after the failed query's ReadyForQuery): it ran on its own, nothing else of it can have been lost.
      const retryable = () =>
        (this as unknown as { getTransactionStatus?: () => string | null }).getTransactionStatus?.() === 'I';
      const lost = (error: unknown) => LOST_STATEMENT.has((error as { code?: string } | null)?.code ?? '');
      let done = callback;
      let params = values;
      if (typeof params === 'function') {
        done = params;
        params = undefined;
      }
      if (typeof done === 'function') {
        return super.query(config, params, (error: unknown, result: unknown) => {
          if (!lost(error)) return done(error, result);
          state.unnamed = true;
          onLost();
          if (!retryable()) return done(error, result);
          super.query(withoutName(config), params, done);
        });
      }
      return super.query(config, params).catch((error: unknown) => {
        if (!lost(error)) throw error;
        state.unnamed = true;
        onLost();
        if (!retryable()) throw error;
        return super.query(withoutName(config), params);
      });
    }
  };
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

/**
 * The task quota is exact only in READ COMMITTED: migration 0006's create function waits for the owner's row lock and
 * then counts with a fresh snapshot, which a REPEATABLE READ or SERIALIZABLE statement does not take (it would keep
 * the snapshot from before the wait and let two creates past the last free place). A database, role or PGOPTIONS
 * that changes the default is refused at start rather than served with a quota that does not hold.
 */
async function checkIsolation(pool: pg.Pool): Promise<void> {
  const { rows } = await pool.query<{ default_transaction_isolation: string }>('SHOW default_transaction_isolation');
  const level = rows[0]?.default_transaction_isolation ?? 'read committed';
  if (level !== 'read committed') {
    throw new StartupError(
      `the database's default_transaction_isolation is "${level}" for this connection; the server needs "read committed" (PostgreSQL's default), which the task quota and the per-account locks rely on: reset it for the database or role (ALTER DATABASE <db> RESET default_transaction_isolation) or remove it from PGOPTIONS`,
    );
  }
}

export function openPostgres(config: PostgresConfig, options: DatabaseOptions): Database {
  const { kind: _kind, ...connection } = config;
  const poolMode: PoolMode = options.poolMode ?? 'session';
  const statements = { unnamed: poolMode === 'transaction' };
  let warned = false;
  const Client = statementsClient(statements, () => {
    if (warned) return;
    warned = true;
    options.onPoolerWarning?.(
      'a named prepared statement was lost between queries: a connection pooler in transaction mode is in front of PostgreSQL; statements are no longer named (set DB_POOL_MODE=transaction to say so, which also stops the per-connection SET statement_timeout a transaction pooler would hand to other clients)',
    );
  });
  const pool = new pg.Pool({
    ...connection,
    Client,
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
      await checkIsolation(pool);
      if (poolMode === 'transaction') await checkServerStatementTimeout(pool, migrateOptions.log ?? (() => {}));
    },
    close: () => pool.end(),
  };
}
