/**
 * Per-account budgets (http/budgets.ts) and the task quota (tasks/repository.ts): one account flooding the API gets
 * 429 with Retry-After once its documented budget is spent, reads and writes separately, all its tokens together;
 * other accounts do not notice; two instances on one database share the budgets and hold the quota exactly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FLUSH_MS } from '../src/http/budgets.js';
import { authed, describeOn, GOOD_PASSWORD, MODES, postgres, signup, startTestApp, type TestApp } from './helpers.js';

const create = (t: TestApp, token: string, title = 'task', headers: Record<string, string> = {}) =>
  t.app.inject(authed(token, { method: 'POST', url: '/api/v1/tasks/', payload: { title }, headers }));
const list = (t: TestApp, token: string) => t.app.inject(authed(token, { method: 'GET', url: '/api/v1/tasks/' }));

function expectBudgetSpent(response: { statusCode: number; headers: Record<string, unknown>; json: () => unknown }) {
  expect(response.statusCode).toBe(429);
  const seconds = Number(response.headers['retry-after']);
  expect(seconds).toBeGreaterThanOrEqual(1);
  expect(seconds).toBeLessThanOrEqual(60);
  expect(response.json()).toEqual({
    error: 'Too many requests for this account; try again later.',
    retry_after: seconds,
  });
}

for (const mode of MODES) {
  describeOn(mode)(`per-account budgets (${mode})`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp(mode, { RATE_LIMIT_WRITES: '5/1m', RATE_LIMIT_READS: '8/1m', TASK_QUOTA: '1000' });
    });
    afterAll(async () => {
      await t?.close();
    });

    it('a token flooding creates gets 429 after RATE_LIMIT_WRITES, and so do its other tokens', async () => {
      const { token, email } = await signup(t.app);
      const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => create(t, token, `flood ${i}`)));
      expect(answers.filter((a) => a.statusCode === 201)).toHaveLength(5);
      for (const refused of answers.filter((a) => a.statusCode !== 201)) expectBudgetSpent(refused);
      // A second session of the same account shares the budget: more tokens buy nothing.
      const again = await t.app.inject({
        method: 'POST',
        url: '/api/v1/users/login/',
        payload: { email, password: GOOD_PASSWORD },
      });
      expectBudgetSpent(await create(t, again.json().token));
      // Reads have their own budget, still there.
      expect((await list(t, token)).json()).toHaveLength(5);
      // Another account does not notice.
      const other = await signup(t.app);
      expect((await create(t, other.token)).statusCode).toBe(201);
    });

    it('reads are limited by RATE_LIMIT_READS, before any task query', async () => {
      const { token } = await signup(t.app);
      const statuses = [];
      for (let i = 0; i < 10; i++) statuses.push((await list(t, token)).statusCode);
      expect(statuses).toEqual([...Array(8).fill(200), 429, 429]);
      expectBudgetSpent(await t.app.inject(authed(token, { method: 'GET', url: '/api/v1/users/info/' })));
    });

    it('a refused request is refused before its body is read', async () => {
      const { token } = await signup(t.app);
      for (let i = 0; i < 5; i++) expect((await create(t, token)).statusCode).toBe(201);
      const invalid = await t.app.inject(
        authed(token, {
          method: 'POST',
          url: '/api/v1/tasks/',
          payload: '{not json',
          headers: { 'content-type': 'application/json' },
        }),
      );
      expectBudgetSpent(invalid);
    });
  });

  describeOn(mode)(`task quota (${mode})`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp(mode, { TASK_QUOTA: '3' });
    });
    afterAll(async () => {
      await t?.close();
    });

    it('a create past TASK_QUOTA gets 409 with the limit; a delete makes room; a replay is still answered', async () => {
      const { token } = await signup(t.app);
      const first = await create(t, token, 'one', { 'idempotency-key': 'key-one' });
      expect(first.statusCode).toBe(201);
      expect((await create(t, token, 'two')).statusCode).toBe(201);
      expect((await create(t, token, 'three')).statusCode).toBe(201);
      const full = await create(t, token, 'four');
      expect(full.statusCode).toBe(409);
      expect(full.json()).toEqual({
        error: 'Task limit reached: an account may hold at most 3 tasks. Delete some to add more.',
        limit: 3,
      });
      // Retrying a create whose answer was lost stores nothing, so it is answered even when full.
      const replay = await create(t, token, 'one', { 'idempotency-key': 'key-one' });
      expect(replay.statusCode).toBe(201);
      expect(replay.headers['idempotent-replayed']).toBe('true');
      expect(replay.json().id).toBe(first.json().id);
      const removed = await t.app.inject(authed(token, { method: 'DELETE', url: `/api/v1/tasks/${first.json().id}/` }));
      expect(removed.statusCode).toBe(200);
      expect((await create(t, token, 'four')).statusCode).toBe(201);
      expect((await list(t, token)).json()).toHaveLength(3);
      // The quota is per account.
      const other = await signup(t.app);
      expect((await create(t, other.token)).statusCode).toBe(201);
    });
  });
}

postgres.describe('budgets and quota across two instances on one database', () => {
  let a: TestApp;
  let b: TestApp;
  const env = { RATE_LIMIT_WRITES: '10/1m', TASK_QUOTA: '7' };
  beforeAll(async () => {
    a = await startTestApp('postgres', env);
    b = await startTestApp('postgres', env, a.databaseName);
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('the quota holds exactly when both instances create at once', async () => {
    const { token } = await signup(a.app);
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => create(i % 2 === 0 ? a : b, token, `race ${i}`)),
    );
    expect(answers.filter((r) => r.statusCode === 201)).toHaveLength(7);
    expect(answers.filter((r) => r.statusCode === 409)).toHaveLength(3);
    expect((await list(b, token)).json()).toHaveLength(7);
  });

  it('what one instance counted, the other knows: spreading a flood over instances gains nothing', async () => {
    const { token } = await signup(a.app);
    for (let i = 0; i < 6; i++)
      expect(
        (await a.app.inject(authed(token, { method: 'DELETE', url: '/api/v1/tasks/999999999/' }))).statusCode,
      ).toBe(404);
    // Let the first instance add its counts to the database.
    await new Promise((resolve) => setTimeout(resolve, FLUSH_MS * 3));
    const statuses = [];
    for (let i = 0; i < 6; i++) {
      statuses.push(
        (await b.app.inject(authed(token, { method: 'DELETE', url: '/api/v1/tasks/999999999/' }))).statusCode,
      );
    }
    expect(statuses).toEqual([404, 404, 404, 404, 429, 429]);
  });
});

describe('budget windows', () => {
  it('a window ends: the budget is whole again', async () => {
    const { Budgets } = await import('../src/http/budgets.js');
    const budgets = new Budgets({ writes: { max: 2, windowMs: 1000 } });
    const start = 10_000;
    expect((await budgets.spend('writes', 1, start)).allowed).toBe(true);
    expect((await budgets.spend('writes', 1, start + 10)).allowed).toBe(true);
    expect(await budgets.spend('writes', 1, start + 500)).toEqual({ allowed: false, retryAfterSeconds: 1 });
    expect((await budgets.spend('writes', 2, start + 500)).allowed).toBe(true);
    expect((await budgets.spend('writes', 1, start + 1000)).allowed).toBe(true);
    await budgets.flush(start + 5000);
    budgets.stop();
  });
});
