/**
 * Behind a real PgBouncer (1.18 on Debian 12) with its stock settings, in both pool modes: the pool connects (no
 * start-up parameter PgBouncer refuses), a migration leaves no lock on a pooled server connection, transaction mode
 * uses no named prepared statement, and two built servers started at once through it both become ready, serve the
 * whole API with shared rate limits, and stop cleanly.
 */
import { type Config, loadConfig } from '@ironclad/config/load';
import { gateFor } from '@ironclad/testkit/gate';
import { type PgBouncer, type PgBouncerPoolMode, startPgBouncer } from '@ironclad/testkit/pgbouncer';
import { type Running, start, stop } from '@ironclad/testkit/process';
import pg from 'pg';
import { afterAll, beforeAll, expect } from 'vitest';
import { type Database, openDatabase } from '../src/db/connect.js';
import { MIGRATION_LOCK_ID, migratePostgres } from '../src/db/migrate.js';
import { createTestDatabase, GOOD_PASSWORD, PG_HOST, PG_PORT, PG_USER, postgresEnv, uniqueEmail } from './helpers.js';

const gate = await gateFor('server behind PgBouncer', ['pgbouncer', 'postgres']);

const MODES: PgBouncerPoolMode[] = ['session', 'transaction'];

/** Advisory locks on the migration key, as PostgreSQL itself sees them (not through the pooler). */
async function migrationLocks(database: string): Promise<Array<{ pid: number }>> {
  const client = new pg.Client({ host: PG_HOST, port: PG_PORT, user: PG_USER, database });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>(
      `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND objsubid = 1
          AND ((classid::bigint << 32) | objid::bigint) = $1::bigint
          AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
      [MIGRATION_LOCK_ID],
    );
    return rows;
  } finally {
    await client.end();
  }
}

async function terminate(pids: number[]): Promise<void> {
  const client = new pg.Client({ host: PG_HOST, port: PG_PORT, user: PG_USER, database: 'postgres' });
  await client.connect();
  try {
    for (const pid of pids) await client.query('SELECT pg_terminate_backend($1)', [pid]);
  } finally {
    await client.end();
  }
}

for (const mode of MODES)
  gate.describe(`behind PgBouncer in ${mode} mode (stock settings)`, () => {
    let bouncer: PgBouncer | undefined;
    const drops: Array<() => Promise<void>> = [];
    beforeAll(async () => {
      bouncer = await startPgBouncer(mode);
    });
    afterAll(async () => {
      await bouncer?.stop();
      for (const drop of drops) await drop();
    });

    async function freshDatabase(): Promise<string> {
      const created = await createTestDatabase();
      drops.push(created.drop);
      return created.name;
    }
    function viaBouncer(database: string): Record<string, string> {
      const b = bouncer as PgBouncer;
      return { ...postgresEnv(database), DB_HOST: b.host, DB_PORT: String(b.port) };
    }
    function configVia(database: string, env: Record<string, string> = {}): Config {
      return loadConfig({
        env: { LOG_LEVEL: 'silent', ...viaBouncer(database), DB_POOL_MODE: mode, ...env },
        dotEnv: false,
        cwd: process.cwd(),
      });
    }
    async function open(config: Config, warnings: string[] = []): Promise<Database> {
      const v = config.values;
      return openDatabase(config.database, {
        poolMax: v.DB_POOL_MAX,
        poolMode: v.DB_POOL_MODE,
        connectTimeoutMs: v.DB_CONNECT_TIMEOUT,
        queryTimeoutMs: v.DB_QUERY_TIMEOUT,
        onPoolerWarning: (message) => warnings.push(message),
      });
    }

    gate.it('refuses a statement_timeout start-up parameter (why the pool must not send one)', async () => {
      const b = bouncer as PgBouncer;
      const client = new pg.Client({
        host: b.host,
        port: b.port,
        user: PG_USER,
        database: 'postgres',
        statement_timeout: 5000,
      });
      client.on('error', () => {});
      await expect(client.connect()).rejects.toThrow(/unsupported startup parameter/);
      await client.end().catch(() => {});
    });

    gate.it('connects, migrates and bounds statements on the server the way the mode allows', async () => {
      const name = await freshDatabase();
      const config = configVia(name, { DB_QUERY_TIMEOUT: '4s' });
      const database = await open(config);
      const logs: string[] = [];
      try {
        await database.migrate({ log: (m) => logs.push(m) });
        await database.ping();
        const { rows } = await (database.pool as pg.Pool).query<{ statement_timeout: string }>(
          'SHOW statement_timeout',
        );
        if (mode === 'session') {
          // Set on each new connection with SET, which session pooling keeps for the connection's life.
          expect(rows[0]?.statement_timeout).toBe('4s');
          expect(logs.join('\n')).not.toContain('statement_timeout');
        } else {
          // No session state: the role's setting (none on the test server), and a warning saying how to set one.
          expect(rows[0]?.statement_timeout).toBe('0');
          expect(logs.join('\n')).toContain("ALTER ROLE <role> SET statement_timeout = '5s'");
        }
      } finally {
        await database.close();
      }
    });

    gate.it('leaves no migration lock on a pooled server connection; a second migration is not blocked', async () => {
      const name = await freshDatabase();
      const b = bouncer as PgBouncer;
      const through = { host: b.host, port: b.port, user: PG_USER, database: name };
      await migratePostgres(through, 3000);
      expect(await migrationLocks(name)).toEqual([]);
      // Another session (directly on PostgreSQL, so surely another one) gets the lock at once.
      await migratePostgres(
        { host: PG_HOST, port: PG_PORT, user: PG_USER, database: name },
        3000,
        {},
        {
          retryMs: 100,
          logEveryMs: 1000,
          giveUpAfterMs: 3000,
        },
      );
    });

    if (mode === 'transaction') {
      gate.it('control: the previous session-level lock stays behind on a pooled server connection', async () => {
        const name = await freshDatabase();
        const b = bouncer as PgBouncer;
        const client = new pg.Client({ host: b.host, port: b.port, user: PG_USER, database: name });
        await client.connect();
        await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK_ID]);
        await client.end();
        await new Promise((done) => setTimeout(done, 200));
        const stale = await migrationLocks(name);
        try {
          // What made the next instance wait forever: the lock outlives the client that took it.
          expect(stale).toHaveLength(1);
          // And what the new migration says about it, instead of hanging silently: who holds it and what to do.
          const logs: string[] = [];
          const error = (await migratePostgres(
            { host: PG_HOST, port: PG_PORT, user: PG_USER, database: name },
            3000,
            { log: (m) => logs.push(m) },
            { retryMs: 100, logEveryMs: 1000, giveUpAfterMs: 1500 },
          ).catch((e: unknown) => e)) as Error;
          expect(error.name).toBe('StartupError');
          expect(logs[0]).toContain(`pid ${stale[0]?.pid}`);
          expect(logs[0]).toContain('session-level lock');
        } finally {
          await terminate(stale.map((row) => row.pid));
        }
      });

      gate.it('does not warn when the role or database has a statement_timeout', async () => {
        const name = await freshDatabase();
        const admin = new pg.Client({ host: PG_HOST, port: PG_PORT, user: PG_USER, database: 'postgres' });
        await admin.connect();
        await admin.query(`ALTER DATABASE ${name} SET statement_timeout = '5s'`);
        await admin.end();
        const database = await open(configVia(name));
        const logs: string[] = [];
        try {
          await database.migrate({ log: (m) => logs.push(m) });
          const { rows } = await (database.pool as pg.Pool).query<{ statement_timeout: string }>(
            'SHOW statement_timeout',
          );
          expect(rows[0]?.statement_timeout).toBe('5s');
          expect(logs.join('\n')).not.toContain('statement_timeout');
        } finally {
          await database.close();
        }
      });

      gate.it(
        'with DB_POOL_MODE left at session: drops the names at the first loss, answers every query, warns once',
        async () => {
          const name = await freshDatabase();
          const warnings: string[] = [];
          const database = await open(configVia(name, { DB_POOL_MODE: 'session', DB_POOL_MAX: '10' }), warnings);
          try {
            await database.migrate();
            const pool = database.pool as pg.Pool;
            const outcomes: boolean[] = [];
            for (let round = 0; round < 5; round++)
              outcomes.push(
                ...(await Promise.all(
                  Array.from({ length: 40 }, (_, i) =>
                    pool.query({ name: 'probe', text: 'SELECT $1::int AS n', values: [i] }).then(
                      (result) => result.rows[0]?.n === i,
                      () => false,
                    ),
                  ),
                )),
              );
            expect(outcomes.filter((ok) => !ok)).toHaveLength(0);
            expect(warnings).toHaveLength(1);
            expect(warnings[0]).toMatch(/DB_POOL_MODE=transaction/);
          } finally {
            await database.close();
          }
        },
      );

      gate.it('uses no named prepared statement (each may land on another server connection)', async () => {
        const name = await freshDatabase();
        const config = configVia(name);
        const database = await open(config);
        const b = bouncer as PgBouncer;
        const plain = new pg.Pool({ host: b.host, port: b.port, user: PG_USER, database: name, max: 10 });
        try {
          await database.migrate();
          const named = (pool: pg.Pool, i: number) =>
            pool.query({ name: 'probe', text: 'SELECT $1::int AS n', values: [i] }).then(
              (result) => result.rows[0]?.n === i,
              () => false,
            );
          const rounds = async (pool: pg.Pool) => {
            const outcomes: boolean[] = [];
            for (let round = 0; round < 5; round++)
              outcomes.push(...(await Promise.all(Array.from({ length: 40 }, (_, i) => named(pool, i)))));
            return outcomes;
          };
          // Control: node-postgres as is, with names, fails through transaction pooling.
          expect((await rounds(plain)).some((ok) => !ok)).toBe(true);
          // The server's pool sends the same queries unnamed: every one answers.
          expect((await rounds(database.pool as pg.Pool)).every(Boolean)).toBe(true);
        } finally {
          await plain.end();
          await database.close();
        }
      });
    }

    // In transaction mode also with DB_POOL_MODE left at its default (session), as an operator who never read the
    // pooler section would run it: the named statements that then fail are noticed and dropped (postgres.ts).
    for (const setting of mode === 'transaction' ? [mode, undefined] : [mode])
      gate.it(
        `two servers started at once both become ready, serve the whole API, share rate limits, stop with 0 (DB_POOL_MODE=${setting ?? 'unset'})`,
        { timeout: 120_000 },
        async () => {
          const name = await freshDatabase();
          const env = {
            ...viaBouncer(name),
            ...(setting ? { DB_POOL_MODE: setting } : {}),
            // Session pooling gives each client connection its own server connection: stay under PgBouncer's
            // stock default_pool_size (20) with both servers, their migrations and this test.
            DB_POOL_MAX: '4',
            LOG_LEVEL: 'info',
            RATE_LIMIT_SIGNUP: '4/1h',
            RATE_LIMIT_LOGIN: '1000/1h',
            RATE_LIMIT_LOGIN_ACCOUNT: '1000/1h',
            RATE_LIMIT_READS: '100000/1m',
            RATE_LIMIT_WRITES: '100000/1m',
            OVERLOAD_EVENT_LOOP_DELAY: '0',
          };
          const servers: Running[] = [];
          const statuses: number[] = [];
          const call = async (
            server: Running,
            path: string,
            init: { method?: string; token?: string; body?: unknown } = {},
          ) => {
            const response = await fetch(`${server.url}${path}`, {
              method: init.method ?? 'GET',
              headers: {
                ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
                ...(init.token ? { authorization: `Token ${init.token}` } : {}),
              },
              body: init.body === undefined ? undefined : JSON.stringify(init.body),
              signal: AbortSignal.timeout(10_000),
            });
            const text = await response.text();
            const answer = { status: response.status, body: text ? JSON.parse(text) : {}, headers: response.headers };
            statuses.push(answer.status);
            if (answer.status >= 500) {
              // The only 5xx the server may answer is the documented 503 with Retry-After.
              expect(answer.status).toBe(503);
              expect(answer.headers.get('retry-after')).toBeTruthy();
            }
            return answer;
          };
          try {
            const started = Date.now();
            const results = await Promise.allSettled([start(env), start(env)]);
            for (const result of results) if (result.status === 'fulfilled') servers.push(result.value);
            for (const result of results) if (result.status === 'rejected') throw result.reason;
            // Both ready within start()'s own bound (20 s each, in parallel), far from the reported hang.
            expect(Date.now() - started).toBeLessThan(30_000);
            const [a, b] = servers as [Running, Running];
            for (const server of servers) expect((await call(server, '/readyz')).status).toBe(200);

            // The whole surface, alternating between the two servers.
            const email = uniqueEmail('pooler');
            const signedUp = await call(a, '/api/v1/users/signup/', {
              method: 'POST',
              body: { email, password: GOOD_PASSWORD },
            });
            expect(signedUp.status).toBe(201);
            const login = await call(b, '/api/v1/users/login/', {
              method: 'POST',
              body: { email, password: GOOD_PASSWORD },
            });
            expect(login.status).toBe(200);
            const token = login.body.token as string;
            expect((await call(a, '/api/v1/users/info/', { token })).body.email).toBe(email);
            const created = await call(b, '/api/v1/tasks/', {
              method: 'POST',
              token,
              body: { title: 'through the pooler' },
            });
            expect(created.status).toBe(201);
            const id = created.body.id as number;
            const list = await call(a, '/api/v1/tasks/', { token });
            expect(list.status).toBe(200);
            expect(list.body).toHaveLength(1);
            expect((await call(b, `/api/v1/tasks/${id}/`, { token })).body.title).toBe('through the pooler');
            const patched = await call(a, `/api/v1/tasks/${id}/`, {
              method: 'PATCH',
              token,
              body: { completed: true },
            });
            expect(patched.body.completed).toBe(true);
            expect((await call(b, `/api/v1/tasks/${id}/`, { method: 'DELETE', token })).status).toBe(200);
            expect((await call(a, `/api/v1/tasks/${id}/`, { token })).status).toBe(404);

            // Many requests at once on both: each prepared query may meet another server connection.
            for (let round = 0; round < 3; round++) {
              const answers = await Promise.all(
                Array.from({ length: 30 }, (_, i) => call(i % 2 ? a : b, '/api/v1/tasks/?completed=false', { token })),
              );
              for (const answer of answers) expect(answer.status).toBe(200);
            }

            // The signup limit (4 per address) holds across both servers: the one above and three more, then 429.
            const more: number[] = [];
            for (let i = 0; i < 6; i++) {
              const answer = await call(i % 2 ? a : b, '/api/v1/users/signup/', {
                method: 'POST',
                body: { email: uniqueEmail('limit'), password: GOOD_PASSWORD },
              });
              more.push(answer.status);
            }
            expect(more).toEqual([201, 201, 201, 429, 429, 429]);

            const logout = await call(b, '/api/v1/users/logout/', { method: 'POST', token });
            expect(logout.status).toBe(200);
            expect((await call(a, '/api/v1/users/info/', { token })).status).toBe(401);
            for (const server of servers) expect((await call(server, '/readyz')).status).toBe(200);
            expect(statuses.filter((status) => status >= 500)).toEqual([]);
          } finally {
            // Bounded: a server that ignored SIGTERM is killed (and the test fails on its exit code).
            const codes = await Promise.all(
              servers.map((server) => {
                const killer = setTimeout(() => server.child.kill('SIGKILL'), 15_000);
                return stop(server).finally(() => clearTimeout(killer));
              }),
            );
            if (servers.length === 2) expect(codes, servers.map((s) => s.output()).join('\n')).toEqual([0, 0]);
          }
        },
      );
  });
