/** Several server instances on one PostgreSQL database, and the database's own guard rails. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { openDatabase } from '../src/db/connect.js';
import {
  authed,
  configFor,
  createTestDatabase,
  describeOn,
  GOOD_PASSWORD,
  MODES,
  postgres,
  postgresEnv,
  signup,
  startTestApp,
  type TestApp,
  uniqueEmail,
} from './helpers.js';

postgres.describe('two instances on one PostgreSQL database', () => {
  let a: TestApp;
  let b: TestApp;
  const limits = { RATE_LIMIT_LOGIN_ACCOUNT: '3/1m', RATE_LIMIT_LOGIN: '1000/1m' };
  beforeAll(async () => {
    a = await startTestApp('postgres', limits);
    b = await startTestApp('postgres', limits, a.databaseName);
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('a token made on one works on the other; logout on one kills it on both', async () => {
    const { token } = await signup(a.app);
    const task = await b.app.inject(
      authed(token, { method: 'POST', url: '/api/v1/tasks/', payload: { title: 'from b' } }),
    );
    expect(task.statusCode).toBe(201);
    const list = await a.app.inject(authed(token, { method: 'GET', url: '/api/v1/tasks/' }));
    expect(list.json()).toHaveLength(1);
    expect((await b.app.inject(authed(token, { method: 'POST', url: '/api/v1/users/logout/' }))).statusCode).toBe(200);
    for (const app of [a.app, b.app]) {
      expect((await app.inject(authed(token, { method: 'GET', url: '/api/v1/tasks/' }))).statusCode).toBe(401);
    }
  });

  it('the per-account login limit (unknown clients) is shared, so spreading attempts over instances gains nothing', async () => {
    const { email } = await signup(a.app);
    const attempt = (app: TestApp, ip: string) =>
      app.app.inject({
        method: 'POST',
        url: '/api/v1/users/login/',
        payload: { email, password: 'wrong password here' },
        remoteAddress: ip,
      });
    expect((await attempt(a, '10.0.0.1')).statusCode).toBe(401);
    expect((await attempt(b, '10.0.0.2')).statusCode).toBe(401);
    expect((await attempt(a, '10.0.0.3')).statusCode).toBe(401);
    const blocked = await attempt(b, '10.0.0.4');
    expect(blocked.statusCode).toBe(429);
    expect(Number(blocked.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // A client the account does not know waits even with the right password (a browser that signed in before would
    // not: login-guard.test.ts).
    const right = await a.app.inject({
      method: 'POST',
      url: '/api/v1/users/login/',
      payload: { email, password: GOOD_PASSWORD },
    });
    expect(right.statusCode).toBe(429);
    // Another account is not affected.
    const other = await signup(b.app);
    const ok = await b.app.inject({
      method: 'POST',
      url: '/api/v1/users/login/',
      payload: { email: other.email, password: GOOD_PASSWORD },
    });
    expect(ok.statusCode).toBe(200);
  });

  it('migrations started by several instances at once do not collide', async () => {
    const fresh = await createTestDatabase();
    try {
      const config = configFor(postgresEnv(fresh.name));
      const databases = await Promise.all(
        [1, 2, 3].map(() =>
          openDatabase(config.database, { poolMax: 2, connectTimeoutMs: 3000, queryTimeoutMs: 5000 }),
        ),
      );
      await Promise.all(databases.map((database) => database.migrate()));
      await databases[0]?.ping();
      await Promise.all(databases.map((database) => database.close()));
    } finally {
      await fresh.drop();
    }
  });
});

for (const mode of MODES)
  describeOn(mode)(`database constraints back the API rules (${mode})`, () => {
    let t: TestApp;
    let userId: number;
    beforeAll(async () => {
      t = await startTestApp(mode);
      await signup(t.app, uniqueEmail('constraints'));
      const info = await t.database.db.execute('SELECT id FROM users LIMIT 1' as never);
      const rows = ((info as { rows?: unknown[] }).rows ?? (info as unknown[])) as { id: number | string }[];
      userId = Number(rows[0]?.id);
    });
    afterAll(async () => {
      await t?.close();
    });

    it.each([
      ['an empty title', "''", "''"],
      ['a blank title', "'   '", "''"],
      ['a 256-character title', "repeat('x', 256)", "''"],
      ['a control character in the title', "E'a\\x01b'", "''"],
      ['a carriage return in the description', "'ok'", "E'a\\rb'"],
      ['a 10,001-character description', "'ok'", "repeat('x', 10001)"],
    ])('refuses %s even when inserted directly', async (_name, title, description) => {
      await expect(
        t.database.db.execute(
          `INSERT INTO tasks (user_id, title, description) VALUES (${userId}, ${title}, ${description})` as never,
        ),
      ).rejects.toThrow();
    });

    it('refuses a task without an existing owner, and a non-normalized email', async () => {
      await expect(
        t.database.db.execute("INSERT INTO tasks (user_id, title) VALUES (999999, 'x')" as never),
      ).rejects.toThrow();
      await expect(
        t.database.db.execute("INSERT INTO users (email, password_hash) VALUES ('Upper@Example.com', 'x')" as never),
      ).rejects.toThrow();
    });

    it('deleting a user removes their tasks and sessions', async () => {
      const { token } = await signup(t.app, uniqueEmail('gone'));
      await t.app.inject(authed(token, { method: 'POST', url: '/api/v1/tasks/', payload: { title: 'orphan?' } }));
      const me = (await t.app.inject(authed(token, { method: 'GET', url: '/api/v1/users/info/' }))).json();
      await t.database.db.execute(`DELETE FROM users WHERE id = ${Number(me.id)}` as never);
      const left = await t.database.db.execute(
        `SELECT (SELECT count(*) FROM tasks WHERE user_id = ${Number(me.id)}) AS tasks, (SELECT count(*) FROM sessions WHERE user_id = ${Number(me.id)}) AS sessions` as never,
      );
      const rows = ((left as { rows?: unknown[] }).rows ?? (left as unknown[])) as {
        tasks: number | string;
        sessions: number | string;
      }[];
      expect(Number(rows[0]?.tasks)).toBe(0);
      expect(Number(rows[0]?.sessions)).toBe(0);
      expect((await t.app.inject(authed(token, { method: 'GET', url: '/api/v1/tasks/' }))).statusCode).toBe(401);
    });
  });
