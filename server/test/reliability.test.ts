/**
 * Reliability under faults and load: a database outage in the middle of a
 * steady load of creates (nothing acknowledged is lost, nothing is stored
 * twice), SIGTERM under load (no response cut off), and the back-pressure
 * guards. Loopback only; every loop is bounded in time.
 */
import { Agent, request as httpRequest } from 'node:http';
import { json, type Running, start, stop, ToggleProxy } from '@ironclad/testkit/process';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  authed,
  createTestDatabase,
  GOOD_PASSWORD,
  PG_HOST,
  PG_PORT,
  PG_USER,
  postgres,
  postgresEnv,
  signup,
  startTestApp,
  type TestApp,
  uniqueEmail,
} from './helpers.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Answer {
  status: number;
  body: string;
  ms: number;
  /** The response had begun when the connection broke. */
  cutMidResponse?: boolean;
  error?: string;
}

/** One HTTP request over a keep-alive agent; distinguishes "no answer" from "answer cut off". */
function send(
  agent: Agent,
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string },
) {
  const started = Date.now();
  return new Promise<Answer>((resolve) => {
    const req = httpRequest(url, { agent, method: options.method ?? 'GET', headers: options.headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, ms: Date.now() - started }));
      res.on('aborted', () =>
        resolve({ status: res.statusCode ?? 0, body, ms: Date.now() - started, cutMidResponse: true }),
      );
      res.on('error', () =>
        resolve({ status: res.statusCode ?? 0, body, ms: Date.now() - started, cutMidResponse: true }),
      );
    });
    req.on('error', (error: NodeJS.ErrnoException) =>
      resolve({ status: 0, body: '', ms: Date.now() - started, error: error.code ?? error.message }),
    );
    req.setTimeout(15_000, () => req.destroy(new Error('client timeout')));
    req.end(options.body);
  });
}

async function countRows(database: string, text: string): Promise<Record<string, string>[]> {
  const client = new pg.Client({ host: PG_HOST, port: PG_PORT, user: PG_USER, database });
  await client.connect();
  try {
    return (await client.query(text)).rows;
  } finally {
    await client.end();
  }
}

// These suites load the server from one account as fast as it answers: its budgets (RATE_LIMIT_READS/WRITES, which
// budgets.test.ts tests) are set past that load, so what is measured is the outage or the shutdown, not a 429.
const ONE_ACCOUNT_LOAD = { RATE_LIMIT_READS: '1000000/1m', RATE_LIMIT_WRITES: '1000000/1m', TASK_QUOTA: '10000000' };

postgres.describe('database outage under a steady load of creates and reads', () => {
  const proxy = new ToggleProxy();
  let server: Running | undefined;
  let database: { name: string; drop: () => Promise<void> } | undefined;

  beforeAll(async () => {
    database = await createTestDatabase();
    await proxy.open();
    server = await start({
      ...postgresEnv(database.name),
      DB_PORT: String(proxy.port),
      DB_CONNECT_TIMEOUT: '1s',
      DB_QUERY_TIMEOUT: '2s',
      ...ONE_ACCOUNT_LOAD,
    });
  });
  afterAll(async () => {
    await stop(server);
    await proxy.cut().catch(() => {});
    await database?.drop();
  });

  it('answers 503 fast during the cut, recovers within 2 s, and keeps every acknowledged create exactly once', async () => {
    const base = server?.url as string;
    const { body } = await json(`${base}/api/v1/users/signup/`, {
      method: 'POST',
      body: JSON.stringify({ email: uniqueEmail('outage'), password: GOOD_PASSWORD }),
    });
    const auth = { authorization: `Token ${body.token as string}`, 'content-type': 'application/json' };
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    const acknowledged = new Map<string, number>(); // title -> id
    const statuses = new Map<number, number>();
    let slowest503 = 0;
    let stopLoad = false;

    // Each worker creates tasks one after another; a create that gets 503 is retried with the
    // same Idempotency-Key until it gets its 201, as a careful client would.
    const worker = async (n: number) => {
      for (let i = 0; !stopLoad; i++) {
        const title = `w${n}-t${i}`;
        while (!stopLoad) {
          const answer = await send(agent, `${base}/api/v1/tasks/`, {
            method: 'POST',
            headers: { ...auth, 'idempotency-key': title },
            body: JSON.stringify({ title }),
          });
          statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
          if (answer.status === 201) {
            acknowledged.set(title, JSON.parse(answer.body).id);
            break;
          }
          if (answer.status === 503) slowest503 = Math.max(slowest503, answer.ms);
          await sleep(50);
        }
        const read = await send(agent, `${base}/api/v1/tasks/?limit=5`, { headers: auth });
        statuses.set(read.status, (statuses.get(read.status) ?? 0) + 1);
      }
    };
    const workers = [0, 1, 2, 3].map(worker);

    await sleep(1500);
    const beforeCut = acknowledged.size;
    await proxy.cut();
    await sleep(300);
    const notReady = await json(`${base}/readyz`);
    // Through the one error writer: the documented shape, Retry-After, the security headers and a request id.
    expect(notReady.status).toBe(503);
    expect(notReady.body).toEqual({ error: 'Database unavailable.', status: 'unavailable' });
    expect(notReady.headers.get('retry-after')).toBe('5');
    expect(notReady.headers.get('x-content-type-options')).toBe('nosniff');
    expect(notReady.headers.get('x-request-id')).toBeTruthy();
    await sleep(2500);
    await proxy.open();
    const restored = Date.now();
    let recoveredAfter = -1;
    while (Date.now() - restored < 5000) {
      const ready = await send(agent, `${base}/api/v1/tasks/?limit=1`, { headers: auth });
      if (ready.status === 200) {
        recoveredAfter = Date.now() - restored;
        break;
      }
      await sleep(50);
    }
    await sleep(1000);
    stopLoad = true;
    await Promise.all(workers);
    agent.destroy();

    expect(beforeCut).toBeGreaterThan(0);
    expect(recoveredAfter).toBeGreaterThanOrEqual(0);
    expect(recoveredAfter).toBeLessThan(2000);
    expect(statuses.get(503) ?? 0).toBeGreaterThan(0);
    expect(slowest503).toBeLessThan(4000); // DB_CONNECT_TIMEOUT 1s / DB_QUERY_TIMEOUT 2s, plus slack
    expect([...statuses.keys()].sort()).toEqual(expect.arrayContaining([200, 201, 503]));
    for (const status of statuses.keys()) expect([200, 201, 503]).toContain(status);
    expect((await json(`${base}/readyz`)).status).toBe(200);

    const rows = await countRows(database?.name as string, 'SELECT id, title FROM tasks');
    const stored = new Map(rows.map((row) => [row.title as string, Number(row.id)]));
    expect(rows.length).toBe(stored.size); // no title twice
    for (const [title, id] of acknowledged) expect(stored.get(title), title).toBe(id);
  });
});

postgres.describe('SIGTERM under load', () => {
  let database: { name: string; drop: () => Promise<void> } | undefined;
  let server: Running | undefined;
  beforeAll(async () => {
    database = await createTestDatabase();
    server = await start({
      ...postgresEnv(database.name),
      DB_PORT: String(PG_PORT),
      SHUTDOWN_TIMEOUT: '5s',
      ...ONE_ACCOUNT_LOAD,
    });
  });
  afterAll(async () => {
    await stop(server);
    await database?.drop();
  });

  it('finishes what is in flight, refuses new connections, exits 0, and cuts no response off', async () => {
    const base = server?.url as string;
    const { body } = await json(`${base}/api/v1/users/signup/`, {
      method: 'POST',
      body: JSON.stringify({ email: uniqueEmail('drain'), password: GOOD_PASSWORD }),
    });
    const auth = { authorization: `Token ${body.token as string}`, 'content-type': 'application/json' };
    const agent = new Agent({ keepAlive: true, maxSockets: 16 });
    const answers: Answer[] = [];
    let signalled = 0;
    let stopLoad = false;
    const worker = async (n: number) => {
      for (let i = 0; !stopLoad; i++) {
        const create = i % 3 === 0;
        const answer = await send(agent, `${base}/api/v1/tasks/`, {
          method: create ? 'POST' : 'GET',
          headers: auth,
          body: create ? JSON.stringify({ title: `drain ${n}-${i}` }) : undefined,
        });
        answers.push(answer);
        if (answer.status === 0 && signalled && Date.now() - signalled > 200) return; // server gone
      }
    };
    const workers = Array.from({ length: 12 }, (_, n) => worker(n));
    await sleep(1000);
    signalled = Date.now();
    server?.child.kill('SIGTERM');
    const code = await server?.exited;
    const exitedAfter = Date.now() - signalled;
    await sleep(300);
    stopLoad = true;
    await Promise.all(workers);
    agent.destroy();

    expect(code).toBe(0);
    expect(exitedAfter).toBeLessThan(5000);
    const completed = answers.filter((answer) => answer.status === 200 || answer.status === 201);
    expect(completed.length).toBeGreaterThan(50);
    expect(answers.filter((answer) => answer.cutMidResponse)).toEqual([]);
    // Every answer is a complete success, or a fast 503 while closing, or no connection at all.
    for (const answer of answers) {
      expect([0, 200, 201, 503]).toContain(answer.status);
      if (answer.status === 0) expect(['ECONNREFUSED', 'ECONNRESET', 'EPIPE']).toContain(answer.error);
      if (answer.status !== 0) expect(() => JSON.parse(answer.body)).not.toThrow();
    }
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  });
});

describe('back-pressure', () => {
  postgres.describe('a full PostgreSQL pool queue', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp('postgres', { DB_POOL_MAX: '1', DB_POOL_QUEUE_MAX: '2' });
    });
    afterAll(async () => {
      await t?.close();
    });

    it('answers 503 at once past DB_POOL_QUEUE_MAX waiting requests, and serves the queued ones', async () => {
      const { token } = await signup(t.app);
      const pool = t.database.pool as pg.Pool;
      const held = await pool.connect(); // the only connection: everything else must queue
      const pending: Promise<{ statusCode: number; headers: Record<string, unknown>; body: string }>[] = [];
      for (let i = 0; i < 5; i++) {
        pending.push(t.app.inject(authed(token, { method: 'GET', url: '/api/v1/tasks/' })));
        // Let each request reach the pool before the next one arrives.
        for (let spin = 0; spin < 50 && pool.waitingCount < Math.min(i + 1, 2); spin++) await sleep(5);
      }
      await sleep(50);
      held.release();
      const answers = await Promise.all(pending);
      const statuses = answers.map((answer) => answer.statusCode);
      expect(statuses.filter((status) => status === 200)).toHaveLength(2);
      expect(statuses.filter((status) => status === 503)).toHaveLength(3);
      const refused = answers.find((answer) => answer.statusCode === 503);
      expect(JSON.parse(refused?.body ?? '{}')).toEqual({ error: 'Server is overloaded; try again shortly.' });
      expect(refused?.headers['retry-after']).toBe('5');
      expect((await t.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    });
  });

  describe('a login storm', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp('embedded', { PASSWORD_HASH_CONCURRENCY: '1', PASSWORD_HASH_QUEUE_MAX: '2' });
    });
    afterAll(async () => {
      await t?.close();
    });

    it('hashes one password at a time, lets two wait, and answers the rest 503 at once', async () => {
      const { email } = await signup(t.app);
      const answers = await Promise.all(
        Array.from({ length: 8 }, () =>
          t.app.inject({ method: 'POST', url: '/api/v1/users/login/', payload: { email, password: GOOD_PASSWORD } }),
        ),
      );
      const statuses = answers.map((answer) => answer.statusCode).sort();
      expect(statuses.filter((status) => status === 200)).toHaveLength(3); // one running + two waiting
      expect(statuses.filter((status) => status === 503)).toHaveLength(5);
      const refused = answers.find((answer) => answer.statusCode === 503);
      expect(refused?.json()).toEqual({ error: 'Server is overloaded; try again shortly.' });
      // Other requests are not held up by the queue.
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/test/' })).statusCode).toBe(200);
    });
  });

  describe('a stalled event loop', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp('embedded', { OVERLOAD_EVENT_LOOP_DELAY: '100ms' });
    });
    afterAll(async () => {
      await t?.close();
    });

    it('gets fast 503s with Retry-After while lagging, liveness stays 200, and service resumes', async () => {
      const until = Date.now() + 1500;
      while (Date.now() < until) {
        // busy: the event loop cannot turn
      }
      await sleep(20);
      const lagging = await t.app.inject({ method: 'GET', url: '/api/v1/test/' });
      const alive = await t.app.inject({ method: 'GET', url: '/healthz' });
      expect(lagging.statusCode).toBe(503);
      expect(lagging.json()).toEqual({ error: 'Server is overloaded; try again shortly.' });
      expect(lagging.headers['retry-after']).toBe('5');
      expect(alive.statusCode).toBe(200);
      let status = 0;
      for (let i = 0; i < 40 && status !== 200; i++) {
        await sleep(100);
        status = (await t.app.inject({ method: 'GET', url: '/api/v1/test/' })).statusCode;
      }
      expect(status).toBe(200);
    });
  });
});
