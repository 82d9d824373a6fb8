/**
 * Every "the database cannot do it now" is a 503 with Retry-After (never another 5xx), the server recovers by itself
 * when the database does, /readyz tells the truth, and start-up failures are one line. Real parts: the built server
 * as a process, against PostgreSQL clusters this suite owns (testkit/src/pg-cluster.ts): a database turned
 * read-only, a hot standby promoted under load, a password changed under load, and start-ups that cannot work.
 * Every scenario prints its counts (requests, 503s, other 5xx).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STRONG_KEY } from '@ironclad/testkit/accounts';
import { clusterGate, createCluster, freePort, type PgCluster } from '@ironclad/testkit/pg-cluster';
import { json, type Running, run, start, stop } from '@ironclad/testkit/process';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { afterAll, beforeAll, expect } from 'vitest';
import { discardUnusableSessions } from '../src/db/session-recovery.js';
import { errorCode } from '../src/db/unavailable.js';
import { GOOD_PASSWORD, uniqueEmail } from './helpers.js';

const gate = await clusterGate('database failures (own PostgreSQL clusters)');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const secret = () => `pw-${randomBytes(18).toString('hex')}`;

/** A role and a database it owns, on `cluster`. */
async function createApp(cluster: PgCluster, name: string, password: string): Promise<void> {
  await cluster.admin(`CREATE ROLE ${name} LOGIN PASSWORD '${password}'`);
  await cluster.admin(`CREATE DATABASE ${name} OWNER ${name}`);
}

function serverEnv(cluster: PgCluster, name: string, password: string): Record<string, string> {
  return {
    POSTGRES_DB: name,
    POSTGRES_USER: name,
    POSTGRES_PASSWORD: password,
    DB_HOST: cluster.host,
    DB_PORT: String(cluster.port),
    SECRET_KEY: STRONG_KEY,
    DB_CONNECT_TIMEOUT: '1s',
    DB_QUERY_TIMEOUT: '2s',
    // The load comes from one account as fast as the server answers: budgets past it (the rate-limit store is the
    // default, the shared counters in PostgreSQL).
    RATE_LIMIT_READS: '1000000/1m',
    RATE_LIMIT_WRITES: '1000000/1m',
    RATE_LIMIT_SIGNUP: '1000/1m',
    TASK_QUOTA: '10000000',
  };
}

async function signupToken(url: string): Promise<string> {
  const answer = await json(`${url}/api/v1/users/signup/`, {
    method: 'POST',
    body: JSON.stringify({ email: uniqueEmail('dbfail'), password: GOOD_PASSWORD }),
  });
  if (answer.status !== 201) throw new Error(`signup: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body.token as string;
}

async function request(url: string, token: string, method: 'GET' | 'POST'): Promise<Response | undefined> {
  try {
    const response = await fetch(url, {
      method,
      headers: { authorization: `Token ${token}`, 'content-type': 'application/json' },
      body: method === 'POST' ? JSON.stringify({ title: `t-${randomBytes(6).toString('hex')}` }) : undefined,
      signal: AbortSignal.timeout(15_000),
    });
    await response.arrayBuffer();
    return response;
  } catch {
    return undefined;
  }
}

/** Creates and reads from `workers` loops until stopped; counts every answer. */
class Load {
  readonly statuses = new Map<number, number>();
  requests = 0;
  without503RetryAfter = 0;
  private stopped = false;
  private loops: Promise<void>[] = [];

  constructor(
    private readonly base: string,
    private readonly token: string,
  ) {}

  start(workers = 4): void {
    this.loops = Array.from({ length: workers }, (_, index) => this.loop(index));
  }

  private async loop(index: number): Promise<void> {
    for (let i = 0; !this.stopped; i++) {
      const method = (i + index) % 2 === 0 ? 'POST' : 'GET';
      const url = `${this.base}/api/v1/tasks/${method === 'GET' ? '?limit=5' : ''}`;
      const response = await request(url, this.token, method);
      const status = response?.status ?? 0;
      this.requests++;
      this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
      if (status === 503 && response?.headers.get('retry-after') !== '5') this.without503RetryAfter++;
      if (status >= 500 || status === 0) await sleep(20);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
  }

  get unavailable(): number {
    return this.statuses.get(503) ?? 0;
  }

  /** 5xx other than 503, and requests with no answer at all. */
  get otherFailures(): number {
    return [...this.statuses]
      .filter(([status]) => status === 0 || (status >= 500 && status !== 503))
      .reduce((sum, [, n]) => sum + n, 0);
  }

  report(scenario: string): void {
    const byStatus = [...this.statuses].map(([status, n]) => `${status}: ${n}`).join(', ');
    process.stdout.write(
      `  [${scenario}] requests ${this.requests}, 503s ${this.unavailable}, other 5xx ${this.otherFailures} (${byStatus})\n`,
    );
  }
}

/** Polls until `check` holds; returns the milliseconds it took, or -1 after `boundMs`. */
async function until(check: () => Promise<boolean>, boundMs: number): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < boundMs) {
    if (await check()) return Date.now() - started;
    await sleep(100);
  }
  return -1;
}

const writes = async (base: string, token: string) =>
  (await request(`${base}/api/v1/tasks/`, token, 'POST'))?.status === 201;
const ready = async (base: string) => (await json(`${base}/readyz`).catch(() => ({ status: 0 }))).status === 200;

gate.describe('when the database is not usable', () => {
  let primary: PgCluster | undefined;
  const clusters: PgCluster[] = [];
  let server: Running | undefined;

  beforeAll(async () => {
    primary = await createCluster();
    clusters.push(primary);
  }, 60_000);
  afterAll(async () => {
    await stop(server);
    for (const cluster of clusters) cluster.destroySync();
  }, 60_000);

  gate.it(
    'a database made read-only under load: writes 503 + Retry-After, reads 200, readyz read-only; writable again by itself',
    async () => {
      const cluster = primary as PgCluster;
      const password = secret();
      await createApp(cluster, 'app_ro', password);
      server = await start(serverEnv(cluster, 'app_ro', password));
      const base = server.url;
      const token = await signupToken(base);
      const load = new Load(base, token);
      load.start();
      await sleep(1000);

      await cluster.admin('ALTER DATABASE app_ro SET default_transaction_read_only = on');
      await cluster.terminate('app_ro');
      await sleep(1500);
      const readyz = await json(`${base}/readyz`);
      expect(readyz.status).toBe(503);
      expect(readyz.body).toEqual({ error: 'Database is read-only.', status: 'read-only' });
      expect(readyz.headers.get('retry-after')).toBe('5');
      const write = await request(`${base}/api/v1/tasks/`, token, 'POST');
      expect(write?.status).toBe(503);
      expect(write?.headers.get('retry-after')).toBe('5');
      expect((await request(`${base}/api/v1/tasks/?limit=1`, token, 'GET'))?.status).toBe(200);

      await cluster.admin('ALTER DATABASE app_ro RESET default_transaction_read_only');
      const writableAfter = await until(() => writes(base, token), 10_000);
      const readyAfter = await until(() => ready(base), 10_000);
      await sleep(500);
      await load.stop();
      load.report('read-only');
      process.stdout.write(`  [read-only] writes back after ${writableAfter} ms, /readyz 200 after ${readyAfter} ms\n`);

      expect(load.unavailable).toBeGreaterThan(0);
      expect(load.otherFailures).toBe(0);
      expect(load.without503RetryAfter).toBe(0);
      expect(writableAfter).toBeGreaterThanOrEqual(0);
      expect(readyAfter).toBeGreaterThanOrEqual(0);
      expect(server.output()).toContain('the database is read-only');
      await stop(server);
    },
    90_000,
  );

  gate.it(
    'a hot standby before promotion: starts, reads 200, writes 503 + Retry-After; promoted under load: writes succeed without a restart',
    async () => {
      const cluster = primary as PgCluster;
      const password = secret();
      await createApp(cluster, 'app_sb', password);
      // Migrated and with an account on the primary, then copied: what a standby of a running system holds.
      server = await start(serverEnv(cluster, 'app_sb', password));
      const token = await signupToken(server.url);
      await stop(server);
      const standby = await cluster.standby();
      clusters.push(standby);

      const started = Date.now();
      server = await start(serverEnv(standby, 'app_sb', password));
      process.stdout.write(`  [standby] server started against the standby in ${Date.now() - started} ms\n`);
      const base = server.url;
      const readyz = await json(`${base}/readyz`);
      expect(readyz.status).toBe(503);
      expect(readyz.body).toMatchObject({ status: 'read-only' });
      expect(readyz.headers.get('retry-after')).toBe('5');
      expect((await request(`${base}/api/v1/tasks/?limit=1`, token, 'GET'))?.status).toBe(200);
      const write = await request(`${base}/api/v1/tasks/`, token, 'POST');
      expect(write?.status).toBe(503);
      expect(write?.headers.get('retry-after')).toBe('5');

      // drizzle's transaction() runs BEGIN outside its try/finally: a BEGIN the database refuses (here READ WRITE
      // on a standby) would never give its client back. With one pooled connection, the second transaction would
      // wait for it forever; the session guard releases it, so both fail at once with the database's refusal.
      const pool = new pg.Pool({
        host: standby.host,
        port: standby.port,
        user: 'app_sb',
        password,
        database: 'app_sb',
        max: 1,
        connectionTimeoutMillis: 3000,
      });
      discardUnusableSessions(pool);
      try {
        const db = drizzle(pool);
        for (let attempt = 0; attempt < 2; attempt++) {
          const refused = await Promise.race([
            db
              .transaction(async (tx) => tx.execute(sql`SELECT 1`), { accessMode: 'read write' })
              .catch((error: unknown) => error),
            sleep(8000).then(() => new Error('no answer: the pool slot was lost')),
          ]);
          // "cannot set transaction read-write mode during recovery": feature_not_supported, not a 503 by itself.
          expect(errorCode(refused), String(refused)).toBe('0A000');
        }
        expect(pool.totalCount).toBe(0); // the refused session was not kept
      } finally {
        await pool.end();
      }

      const load = new Load(base, token);
      load.start();
      await sleep(1500);
      await standby.promote();
      const writableAfter = await until(() => writes(base, token), 10_000);
      const readyAfter = await until(() => ready(base), 10_000);
      await sleep(500);
      await load.stop();
      load.report('standby');
      process.stdout.write(
        `  [standby] writes after promotion ${writableAfter} ms, /readyz 200 after ${readyAfter} ms\n`,
      );

      expect(load.unavailable).toBeGreaterThan(0);
      expect(load.statuses.get(201) ?? 0).toBeGreaterThan(0);
      expect(load.otherFailures).toBe(0);
      expect(load.without503RetryAfter).toBe(0);
      expect(writableAfter).toBeGreaterThanOrEqual(0);
      expect(readyAfter).toBeGreaterThanOrEqual(0);
      await stop(server);
      standby.destroySync();
    },
    120_000,
  );

  gate.it(
    'a password changed under load: 503 + Retry-After, one clear log line per interval; changed back: recovers by itself',
    async () => {
      const cluster = primary as PgCluster;
      const password = secret();
      await createApp(cluster, 'app_pw', password);
      server = await start(serverEnv(cluster, 'app_pw', password));
      const base = server.url;
      const token = await signupToken(base);
      const load = new Load(base, token);
      load.start();
      await sleep(1000);

      await cluster.admin(`ALTER ROLE app_pw PASSWORD '${secret()}'`);
      await cluster.terminate('app_pw');
      await sleep(3000);
      const during = await request(`${base}/api/v1/tasks/?limit=1`, token, 'GET');
      expect(during?.status).toBe(503);
      expect(during?.headers.get('retry-after')).toBe('5');
      expect((await json(`${base}/readyz`)).body).toMatchObject({ status: 'unavailable' });

      await cluster.admin(`ALTER ROLE app_pw PASSWORD '${password}'`);
      const recoveredAfter = await until(() => writes(base, token), 10_000);
      await load.stop();
      load.report('password changed');
      const refusals = server
        .output()
        .split('\n')
        .filter((line) => line.includes('refused the credentials'));
      process.stdout.write(
        `  [password changed] recovered ${recoveredAfter} ms after the password was restored; ${refusals.length} log line(s) about the credentials\n`,
      );

      expect(load.unavailable).toBeGreaterThan(10);
      expect(load.otherFailures).toBe(0);
      expect(load.without503RetryAfter).toBe(0);
      expect(recoveredAfter).toBeGreaterThanOrEqual(0);
      // Once per 10 s interval, not once per failed request (there were many).
      expect(refusals.length).toBeGreaterThanOrEqual(1);
      expect(refusals.length).toBeLessThanOrEqual(2);
      expect(refusals[0]).toContain('POSTGRES_PASSWORD');
      expect(server.output()).not.toContain(password);
      await stop(server);
    },
    90_000,
  );

  gate.it(
    'start-up failures are one line: wrong password, unreachable, missing database; never the password',
    async () => {
      const cluster = primary as PgCluster;
      const password = secret();
      await createApp(cluster, 'app_start', password);
      const wrong = secret();
      const base = serverEnv(cluster, 'app_start', password);
      // The quota's create function counts after the owner's lock with a fresh snapshot: READ COMMITTED only.
      await createApp(cluster, 'app_isolation', password);
      await cluster.admin(`ALTER DATABASE app_isolation SET default_transaction_isolation = 'repeatable read'`);
      const unusedPort = await freePort();
      const cases: [string, Record<string, string>, RegExp][] = [
        [
          'wrong password',
          { ...base, POSTGRES_PASSWORD: wrong },
          new RegExp(
            `^Failed to start: the database refused the credentials of app_start@127\\.0\\.0\\.1:${cluster.port} \\(SQLSTATE 28P01\\): check POSTGRES_USER and POSTGRES_PASSWORD$`,
          ),
        ],
        [
          'wrong password in DATABASE_URL',
          {
            ...Object.fromEntries(Object.entries(base).filter(([name]) => !/^(POSTGRES_|DB_HOST|DB_PORT)/.test(name))),
            DATABASE_URL: `postgres://app_start:${wrong}@127.0.0.1:${cluster.port}/app_start`,
          },
          /^Failed to start: the database refused the credentials of app_start@127\.0\.0\.1:\d+ \(SQLSTATE 28P01\): check the user and password in DATABASE_URL$/,
        ],
        [
          'repeatable read by default',
          { ...base, POSTGRES_DB: 'app_isolation', POSTGRES_USER: 'app_isolation' },
          /^Failed to start: the database's default_transaction_isolation is "repeatable read" for this connection; the server needs "read committed"/,
        ],
        [
          'missing database',
          { ...base, POSTGRES_DB: 'no_such_db' },
          new RegExp(
            `^Failed to start: database "no_such_db" does not exist at 127\\.0\\.0\\.1:${cluster.port} \\(SQLSTATE 3D000\\): check POSTGRES_DB, or create it$`,
          ),
        ],
        [
          'unreachable',
          { ...base, DB_PORT: String(unusedPort) },
          new RegExp(
            `^Failed to start: cannot reach the database at 127\\.0\\.0\\.1:${unusedPort} \\(DB_HOST, DB_PORT\\) \\(ECONNREFUSED\\): check that PostgreSQL runs there and DB_HOST and DB_PORT$`,
          ),
        ],
      ];
      const dirs: string[] = [];
      try {
        const results = await Promise.all(
          cases.map(async ([name, env, expected]) => {
            const cwd = mkdtempSync(join(tmpdir(), 'ironclad-dbfail-'));
            dirs.push(cwd);
            const started = Date.now();
            const proc = run(env, cwd);
            const timer = setTimeout(() => proc.child.kill('SIGKILL'), 45_000);
            const code = await proc.exited;
            clearTimeout(timer);
            return { name, expected, code, output: proc.output(), ms: Date.now() - started };
          }),
        );
        for (const { name, expected, code, output, ms } of results) {
          process.stdout.write(`  [start-up: ${name}] exit ${code} after ${ms} ms\n`);
          const failures = output.split('\n').filter((line) => line.startsWith('Failed to start'));
          expect(code, name).toBe(1);
          expect(failures, `${name}:\n${output}`).toHaveLength(1);
          expect(failures[0], name).toMatch(expected);
          expect(output, name).not.toContain(wrong);
          expect(output, name).not.toContain(password);
          expect(output, name).not.toMatch(/\n\s+at /); // no stack
        }
        // A refusal no retry can fix fails at once; an unreachable database is retried first (start.ts).
        for (const result of results.filter(({ name }) => name !== 'unreachable')) {
          expect(result.ms, result.name).toBeLessThan(10_000);
        }
      } finally {
        for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
      }
    },
    90_000,
  );
});
