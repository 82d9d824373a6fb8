/**
 * Migrations under a transaction-level advisory lock, directly on PostgreSQL: instances take turns, a held lock is
 * waited for with a log line naming its holder, the wait stops at once when the process is asked to stop and gives
 * up after its bound, and a database migrated by the previous code (drizzle's own migrator) is recognised.
 */
import { drizzle as drizzleNodePg } from 'drizzle-orm/node-postgres';
import { migrate as migrateNodePg } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATION_LOCK_ID, type MigrationWait, migratePostgres, migrationsFolder } from '../src/db/migrate.js';
import { StartupError } from '../src/lifecycle/startup-error.js';
import { createTestDatabase, PG_HOST, PG_PORT, PG_USER, postgres } from './helpers.js';

const FAST: MigrationWait = { retryMs: 100, logEveryMs: 300, giveUpAfterMs: 60_000 };

function connectionTo(database: string): pg.ClientConfig {
  return { host: PG_HOST, port: PG_PORT, user: PG_USER, database };
}

async function query<T extends pg.QueryResultRow>(database: string, text: string, values: unknown[] = []) {
  const client = new pg.Client(connectionTo(database));
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** The migrations drizzle has recorded, oldest first. */
function recorded(database: string) {
  return query<{ hash: string; created_at: string }>(
    database,
    'SELECT hash, created_at FROM drizzle.__drizzle_migrations ORDER BY created_at',
  );
}

/** A session holding the migration lock the way the previous version did (session-level), as a stale one would. */
async function holdSessionLock(database: string): Promise<{ client: pg.Client; pid: number }> {
  const client = new pg.Client({ ...connectionTo(database), application_name: 'stale-holder' });
  await client.connect();
  await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
  const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  return { client, pid: rows[0]?.pid as number };
}

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((done) => setTimeout(done, 20));
  }
}

// Advisory locks in the test's own database only: other suites migrate their databases at the same time.
const THIS_DATABASE_ADVISORY_LOCKS =
  "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())";

postgres.describe('migrations under a transaction-level lock (PostgreSQL)', () => {
  const drops: Array<() => Promise<void>> = [];
  let expected: number;
  beforeAll(async () => {
    const { readMigrationFiles } = await import('drizzle-orm/migrator');
    expected = readMigrationFiles({ migrationsFolder }).length;
  });
  afterAll(async () => {
    for (const drop of drops) await drop();
  });
  async function freshDatabase(): Promise<string> {
    const created = await createTestDatabase();
    drops.push(created.drop);
    return created.name;
  }

  it('gives the planner statistics for what 0004 added, on a database that already holds tasks', async () => {
    // Migrated to 0004 and filled as a deployment would be; then the server's migrator applies the rest. Without
    // statistics on the folded search column the planner misjudged every search (docs/performance.md, growth).
    const name = await freshDatabase();
    const { readMigrationFiles } = await import('drizzle-orm/migrator');
    const upTo0004 = readMigrationFiles({ migrationsFolder }).filter((m) => m.folderMillis <= 1796140975528);
    const client = new pg.Client(connectionTo(name));
    await client.connect();
    try {
      await client.query('CREATE SCHEMA drizzle');
      await client.query(
        'CREATE TABLE drizzle.__drizzle_migrations (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at bigint)',
      );
      for (const migration of upTo0004) {
        for (const statement of migration.sql) if (statement.trim()) await client.query(statement);
        await client.query('INSERT INTO drizzle.__drizzle_migrations (hash, created_at) VALUES ($1, $2)', [
          migration.hash,
          migration.folderMillis,
        ]);
      }
      await client.query("INSERT INTO users (email, password_hash) VALUES ('stats@example.com', 'x')");
      await client.query(
        "INSERT INTO tasks (user_id, title) SELECT (SELECT id FROM users), 'task ' || i FROM generate_series(1, 2000) AS i",
      );
    } finally {
      await client.end();
    }
    await migratePostgres(connectionTo(name), 3000, {}, FAST);
    const stats = await query<{ attname: string }>(
      name,
      "SELECT attname FROM pg_stats WHERE tablename = 'tasks' AND attname = 'search'",
    );
    expect(stats).toHaveLength(1);
  });

  it('applies every migration once when several instances migrate at once', { timeout: 30_000 }, async () => {
    const name = await freshDatabase();
    const logs: string[] = [];
    await Promise.all(
      Array.from({ length: 4 }, () => migratePostgres(connectionTo(name), 3000, { log: (m) => logs.push(m) }, FAST)),
    );
    expect(await recorded(name)).toHaveLength(expected);
    // Exactly one instance applied them; the others found nothing pending once they had the lock.
    expect(logs.filter((line) => line.startsWith('applied'))).toEqual([`applied ${expected} database migration(s)`]);
    const tables = await query<{ table_name: string }>(
      name,
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
    );
    expect(tables.map((t) => t.table_name)).toEqual(
      expect.arrayContaining(['rate_limits', 'sessions', 'tasks', 'users']),
    );
    // Nothing is left holding the lock.
    expect(await query(name, THIS_DATABASE_ADVISORY_LOCKS)).toHaveLength(0);
  });

  it('recognises a database migrated by the previous code (drizzle’s migrator) as up to date', async () => {
    const name = await freshDatabase();
    const client = new pg.Client(connectionTo(name));
    await client.connect();
    try {
      await migrateNodePg(drizzleNodePg(client), { migrationsFolder });
    } finally {
      await client.end();
    }
    const before = await recorded(name);
    expect(before).toHaveLength(expected);
    const logs: string[] = [];
    await migratePostgres(connectionTo(name), 3000, { log: (m) => logs.push(m) }, FAST);
    expect(await recorded(name)).toEqual(before);
    expect(logs).toEqual([]);
  });

  it('records what drizzle’s migrator records, so the previous code sees a new database as up to date', async () => {
    const ours = await freshDatabase();
    const theirs = await freshDatabase();
    await migratePostgres(connectionTo(ours), 3000, {}, FAST);
    const client = new pg.Client(connectionTo(theirs));
    await client.connect();
    try {
      await migrateNodePg(drizzleNodePg(client), { migrationsFolder });
    } finally {
      await client.end();
    }
    expect(await recorded(ours)).toEqual(await recorded(theirs));
  });

  it('waits for a held lock, saying every few seconds who holds it, then goes on', { timeout: 30_000 }, async () => {
    const name = await freshDatabase();
    const holder = await holdSessionLock(name);
    const logs: string[] = [];
    let settled = false;
    const migration = migratePostgres(connectionTo(name), 3000, { log: (m) => logs.push(m) }, FAST).finally(() => {
      settled = true;
    });
    try {
      await until(() => logs.length >= 3, 5000);
      expect(settled).toBe(false);
      const line = logs[0] as string;
      expect(line).toContain(`advisory lock ${MIGRATION_LOCK_ID}`);
      expect(line).toContain(`pid ${holder.pid}`);
      expect(line).toContain('application_name=stale-holder');
      expect(line).toContain('state=idle');
      // A session that is not in a transaction holds a session-level lock, which waiting never ends: say so.
      expect(line).toContain('session-level lock');
      expect(line).toContain(`pg_terminate_backend(${holder.pid})`);
      // The waiting instance holds no transaction open between its tries (nothing pinned on a pooled connection).
      const waiting = await query<{ state: string }>(
        name,
        "SELECT state FROM pg_stat_activity WHERE application_name = 'ironclad-tasks-migrate' AND datname = current_database()",
      );
      expect(waiting.every((row) => row.state === 'idle' || row.state === 'active')).toBe(true);
    } finally {
      await holder.client.end();
    }
    await migration;
    expect(await recorded(name)).toHaveLength(expected);
  });

  it('stops waiting within a second when the process is asked to stop', { timeout: 30_000 }, async () => {
    const name = await freshDatabase();
    const holder = await holdSessionLock(name);
    try {
      const controller = new AbortController();
      const logs: string[] = [];
      const migration = migratePostgres(
        connectionTo(name),
        3000,
        { signal: controller.signal, log: (m) => logs.push(m) },
        // The real pacing: the abort must not wait for the next try.
        { retryMs: 500, logEveryMs: 5000, giveUpAfterMs: 60_000 },
      );
      const outcome = migration.then(
        () => undefined,
        (error: unknown) => error,
      );
      await until(() => logs.length >= 1, 5000);
      const asked = Date.now();
      controller.abort();
      const error = (await outcome) as Error;
      expect(Date.now() - asked).toBeLessThan(1000);
      expect(error?.name).toBe('AbortError');
      // Its connection is gone, and nothing was applied.
      await new Promise((done) => setTimeout(done, 200));
      const left = await query(
        name,
        "SELECT 1 FROM pg_stat_activity WHERE application_name = 'ironclad-tasks-migrate' AND datname = current_database()",
      );
      expect(left).toHaveLength(0);
    } finally {
      await holder.client.end();
    }
    expect(await query(name, "SELECT 1 FROM pg_namespace WHERE nspname = 'drizzle'")).toHaveLength(0);
  });

  it('refuses to start at all when already asked to stop', async () => {
    const name = await freshDatabase();
    const controller = new AbortController();
    controller.abort();
    await expect(migratePostgres(connectionTo(name), 3000, { signal: controller.signal }, FAST)).rejects.toMatchObject({
      name: 'AbortError',
    });
  });

  it('gives up after its bound with a start-up error naming the holder', { timeout: 30_000 }, async () => {
    const name = await freshDatabase();
    const holder = await holdSessionLock(name);
    try {
      const started = Date.now();
      const error = (await migratePostgres(connectionTo(name), 3000, {}, { ...FAST, giveUpAfterMs: 1000 }).catch(
        (e: unknown) => e,
      )) as Error;
      expect(Date.now() - started).toBeLessThan(5000);
      expect(error).toBeInstanceOf(StartupError);
      expect(error.message).toMatch(/^gave up waiting for the database migration lock/);
      expect(error.message).toContain(`pid ${holder.pid}`);
      expect(error.message).not.toContain('\n');
    } finally {
      await holder.client.end();
    }
  });

  it('is not cut short by a role or database statement_timeout (the transaction-pooling advice)', {
    timeout: 30_000,
  }, async () => {
    const name = await freshDatabase();
    await query(name, `ALTER DATABASE ${name} SET statement_timeout = '500ms'`);
    // Make one migration statement slow: drizzle's table exists and another session locks it for 1.5 s.
    await query(name, 'CREATE SCHEMA drizzle');
    await query(
      name,
      'CREATE TABLE drizzle.__drizzle_migrations (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at bigint)',
    );
    const blocker = new pg.Client(connectionTo(name));
    await blocker.connect();
    await blocker.query('BEGIN');
    await blocker.query('LOCK TABLE drizzle.__drizzle_migrations IN ACCESS EXCLUSIVE MODE');
    const release = setTimeout(() => void blocker.query('COMMIT'), 1500);
    try {
      await migratePostgres(connectionTo(name), 3000, {}, FAST);
    } finally {
      clearTimeout(release);
      await blocker.end();
    }
    expect(await recorded(name)).toHaveLength(expected);
  });

  it('rolls back a failed migration and releases the lock', { timeout: 30_000 }, async () => {
    const name = await freshDatabase();
    // A table the first migration creates already exists: its CREATE TABLE fails.
    await query(name, 'CREATE TABLE users (id int)');
    await expect(migratePostgres(connectionTo(name), 3000, {}, FAST)).rejects.toThrow(/already exists/);
    expect(await query(name, "SELECT 1 FROM pg_namespace WHERE nspname = 'drizzle'")).toHaveLength(0);
    expect(await query(name, THIS_DATABASE_ADVISORY_LOCKS)).toHaveLength(0);
  });
});

describe('describeHolders', () => {
  it('says when the holder is not visible', async () => {
    const { describeHolders } = await import('../src/db/migrate.js');
    expect(describeHolders([], 6000)).toContain('not visible');
  });
});
