/**
 * Backups tested the way docs/deployment.md ("Backups of the database") and docs/scaling.md tell an operator to take
 * them: `pg_dump --format=custom` of a LIVE database while the built server keeps writing, then `pg_restore` into a
 * new database and, as the documented in-place restore, `pg_restore --clean --if-exists` over the old one with the
 * API stopped. The restored database must be the snapshot exactly: every task acknowledged before the dump began is
 * there, nothing is there that was never acknowledged, no row is torn, the migrations are recognised (the server
 * applies none), sessions and passwords still work with the same SECRET_KEY, identities continue, and the database
 * still refuses what the API refuses (constraints restored).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findPgBin } from '@ironclad/testkit/pg-cluster';
import { type Running, start, stop } from '@ironclad/testkit/process';
import pg from 'pg';
import { afterAll, beforeAll, expect } from 'vitest';
import {
  createTestDatabase,
  GOOD_PASSWORD,
  PG_HOST,
  PG_PORT,
  PG_USER,
  postgres,
  postgresEnv,
  uniqueEmail,
} from './helpers.js';

const exec = promisify(execFile);

/** The server's own settings for these runs: budgets far above what the writer sends. */
function serverEnv(database: string): Record<string, string> {
  return {
    ...postgresEnv(database),
    RATE_LIMIT_READS: '1000000/1m',
    RATE_LIMIT_WRITES: '1000000/1m',
    LOG_LEVEL: 'info',
  };
}

async function call(
  server: Running,
  path: string,
  init: { method?: string; token?: string; body?: unknown; key?: string } = {},
): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${server.url}${path}`, {
    method: init.method ?? 'GET',
    headers: {
      ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(init.token ? { authorization: `Token ${init.token}` } : {}),
      ...(init.key ? { 'idempotency-key': init.key } : {}),
    },
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : undefined };
}

interface Task {
  id: number;
  title: string;
  description: string;
  completed: boolean;
}

/** Every task of the account, through the API (pages of 100). */
async function allTasks(server: Running, token: string): Promise<Task[]> {
  const tasks: Task[] = [];
  for (let offset = 0; ; offset += 100) {
    const page = await call(server, `/api/v1/tasks/?limit=100&offset=${offset}`, { token });
    expect(page.status).toBe(200);
    const rows = page.body as Task[];
    tasks.push(...rows);
    if (rows.length < 100) return tasks;
  }
}

async function sql<Row extends pg.QueryResultRow>(database: string, text: string, values: unknown[] = []) {
  const client = new pg.Client({ host: PG_HOST, port: PG_PORT, user: PG_USER, database });
  await client.connect();
  try {
    return (await client.query<Row>(text, values)).rows;
  } finally {
    await client.end();
  }
}

const pgBin = findPgBin();

postgres.describe('backup and restore of a live database (pg_dump / pg_restore)', () => {
  const drops: Array<() => Promise<void>> = [];
  const servers: Running[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'ironclad-backup-'));

  beforeAll(() => {
    if (!pgBin) throw new Error('pg_dump/pg_restore not found (PG_BIN or /usr/lib/postgresql/<version>/bin)');
  });
  afterAll(async () => {
    for (const server of servers) await stop(server);
    for (const drop of drops) await drop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function freshDatabase(): Promise<string> {
    const created = await createTestDatabase();
    drops.push(created.drop);
    return created.name;
  }
  async function serve(database: string): Promise<Running> {
    const server = await start(serverEnv(database));
    servers.push(server);
    return server;
  }
  const tool = (name: string, args: string[]) =>
    exec(join(pgBin as string, name), args, {
      timeout: 60_000,
      env: { PATH: process.env.PATH ?? '', PGUSER: PG_USER },
    });
  const connection = (database: string) => ['-h', PG_HOST, '-p', String(PG_PORT), '-d', database];

  postgres.it(
    'restores exactly the snapshot the dump took while the API was writing, and the API runs on it as before',
    { timeout: 120_000 },
    async () => {
      const source = await freshDatabase();
      const live = await serve(source);
      const email = uniqueEmail('backup');
      expect(
        (await call(live, '/api/v1/users/signup/', { method: 'POST', body: { email, password: GOOD_PASSWORD } }))
          .status,
      ).toBe(201);
      const login = await call(live, '/api/v1/users/login/', {
        method: 'POST',
        body: { email, password: GOOD_PASSWORD },
      });
      expect(login.status).toBe(200);
      const token = (login.body as { token: string }).token;

      // A writer that never stops until told: 4 concurrent creates at a time, each acknowledged task remembered with
      // the moment its 201 arrived. A long description so that a torn row would show.
      const acknowledged = new Map<string, { at: number; id: number }>();
      let writing = true;
      let sequence = 0;
      const failures: unknown[] = [];
      const writer = async () => {
        while (writing && failures.length === 0) {
          sequence += 1;
          const title = `task ${sequence}`;
          const answer = await call(live, '/api/v1/tasks/', {
            method: 'POST',
            token,
            key: `backup-${sequence}`,
            body: { title, description: `${title} `.repeat(40).trim() },
          }).catch((error: unknown) => ({ status: 0, body: String(error) }));
          if (answer.status !== 201) failures.push(answer);
          else acknowledged.set(title, { at: performance.now(), id: (answer.body as Task).id });
        }
      };
      const writers = Array.from({ length: 4 }, writer);
      const writtenAtLeast = async (count: number) => {
        while (acknowledged.size < count && failures.length === 0) await new Promise((done) => setTimeout(done, 20));
        expect(failures).toEqual([]);
      };
      await writtenAtLeast(100);

      const dump = join(dir, 'live.dump');
      const dumpStarted = performance.now();
      await tool('pg_dump', [...connection(source), '--format=custom', '--file', dump]);
      const dumpEnded = performance.now();
      // Keep writing a little after the dump, so the live database has rows the snapshot must not have.
      const atDumpEnd = acknowledged.size;
      // Live: the writers kept being answered while pg_dump ran (measured: ~12 creates in a 107 ms dump).
      expect([...acknowledged.values()].filter((ack) => ack.at > dumpStarted).length).toBeGreaterThan(0);
      await writtenAtLeast(atDumpEnd + 50);
      writing = false;
      await Promise.all(writers);
      expect(failures).toEqual([]);
      expect(statSync(dump).size).toBeGreaterThan(0);

      // Into a new database, the way one tests a backup on another machine.
      const copy = await freshDatabase();
      await tool('pg_restore', [...connection(copy), '--no-owner', '--exit-on-error', '--single-transaction', dump]);
      const restored = await serve(copy);
      // The migrations are recognised: the restored server applied none of its own (the first server did).
      expect(live.output()).toMatch(/applied \d+ database migration/);
      expect(restored.output()).not.toMatch(/applied \d+ database migration/);
      const [sourceMigrations] = await sql<{ n: string }>(
        source,
        'SELECT count(*) AS n FROM drizzle.__drizzle_migrations',
      );
      const [copyMigrations] = await sql<{ n: string }>(copy, 'SELECT count(*) AS n FROM drizzle.__drizzle_migrations');
      expect(copyMigrations?.n).toBe(sourceMigrations?.n);

      // The session made before the dump still works on the restored copy (its token hash was restored, and the
      // key that checks it is the same SECRET_KEY), and so does the password.
      const tasks = await allTasks(restored, token);
      const byTitle = new Map(tasks.map((task) => [task.title, task]));
      const before = [...acknowledged].filter(([, ack]) => ack.at < dumpStarted);
      const after = [...acknowledged].filter(([, ack]) => ack.at > dumpEnded);
      expect(before.length).toBeGreaterThanOrEqual(100);
      // Everything acknowledged before the dump began is in it, with the id the client was given, untorn.
      for (const [title, ack] of before) {
        const task = byTitle.get(title);
        expect(task?.id, title).toBe(ack.id);
        expect(task?.description).toBe(`${title} `.repeat(40).trim());
      }
      // Nothing that was never acknowledged, and nothing written after the snapshot's commit point.
      for (const task of tasks) expect(acknowledged.get(task.title)?.id, task.title).toBe(task.id);
      // The 50 written after the dump are not (a few answered just after it may have committed just before).
      expect(after.length).toBeGreaterThanOrEqual(50);
      expect(tasks.length).toBeLessThanOrEqual(acknowledged.size - 40);

      const relogin = await call(restored, '/api/v1/users/login/', {
        method: 'POST',
        body: { email, password: GOOD_PASSWORD },
      });
      expect(relogin.status).toBe(200);
      // Identities continue past the restored rows (the sequence came with the dump).
      const next = await call(restored, '/api/v1/tasks/', { method: 'POST', token, body: { title: 'after restore' } });
      expect(next.status).toBe(201);
      expect((next.body as Task).id).toBeGreaterThan(Math.max(...tasks.map((task) => task.id)));
      // The database still refuses what the API refuses: the CHECK constraints came back too.
      await expect(
        sql(copy, "INSERT INTO tasks (user_id, title) SELECT id, 'bad\u0007' FROM users LIMIT 1"),
      ).rejects.toThrow(/check constraint/);

      // In place, as docs/deployment.md restores: the API stopped, --clean --if-exists over the live database,
      // which has the 50+ tasks written after the dump; afterwards it holds exactly the snapshot again.
      await stop(live);
      await tool('pg_restore', [
        ...connection(source),
        '--clean',
        '--if-exists',
        '--no-owner',
        '--exit-on-error',
        '--single-transaction',
        dump,
      ]);
      const back = await serve(source);
      const inPlace = await allTasks(back, token);
      expect(inPlace.map((task) => task.id).sort((a, b) => a - b)).toEqual(
        tasks.map((task) => task.id).sort((a, b) => a - b),
      );
    },
  );
});
