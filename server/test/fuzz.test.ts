/**
 * Property-based hostile input against a live server on a loopback socket:
 * generated methods, paths, query strings, headers, content types and bodies
 * (wrong types, huge numbers, deep nesting, NUL and control characters,
 * invalid UTF-8, duplicate keys, __proto__). Whatever comes in, the answer is
 * never a 5xx, always JSON with a documented status, never another user's
 * data, and the server stays healthy. FUZZ_RUNS sets the count (CI: 10,000;
 * `npm run fuzz` runs 100,000).
 */
import { Agent, request as httpRequest } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { authed, listenOnLoopback, postgres, signup, startTestApp, type TestApp } from './helpers.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);
// CI replays one fixed sequence (a failure there is reproducible); `npm run fuzz` explores new ones.
const SEED = process.env.FUZZ_SEED === 'random' ? Date.now() : Number(process.env.FUZZ_SEED ?? 20_261_124);
const SECRET_TITLE = 'other-user-secret-7f3a';
const DOCUMENTED = new Set([200, 201, 204, 400, 401, 403, 404, 405, 409, 413, 415, 429, 431]);

interface Generated {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
}

let t: TestApp;
let port: number;
let tokenA: string;
let taskB: number;
const agent = new Agent({ keepAlive: true, maxSockets: 4 });

function send(
  request: Generated,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, agent, method: request.method, path: request.path, headers: request.headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.setTimeout(10_000, () => req.destroy(new Error('timeout')));
    req.end(request.body);
  });
}

// --- generators -------------------------------------------------------------------------------

const idSegment = fc.oneof(
  fc.nat({ max: 2_000_000 }).map(String),
  fc.constantFrom(
    '0',
    '-1',
    '1.5',
    '1e3',
    '0x10',
    'true',
    'null',
    '%00',
    '%2e%2e',
    '..',
    '%',
    '%zz',
    '99999999999999999999999',
  ),
  fc.string({ maxLength: 12 }).map(encodeURIComponent),
);
const knownPath = fc.oneof(
  fc.constantFrom(
    '/api/v1/test/',
    '/api/v1/users/signup/',
    '/api/v1/users/login/',
    '/api/v1/users/info/',
    '/api/v1/users/logout/',
    '/api/v1/tasks/',
    '/api/v1/tasks',
    '/healthz',
    '/readyz',
  ),
  idSegment.map((id) => `/api/v1/tasks/${id}/`),
);
const randomPath = fc
  .array(
    fc.oneof(
      fc.webSegment(),
      fc.string({ maxLength: 8 }).map(encodeURIComponent),
      fc.constantFrom('..', '.', '', '%2F'),
    ),
    {
      maxLength: 6,
    },
  )
  .map((segments) => `/${segments.join('/')}`);
const query = fc.oneof(
  fc.constant(''),
  fc.webQueryParameters().map((q) => (q ? `?${q}` : '')),
  fc
    .record({
      limit: fc.oneof(fc.integer().map(String), fc.string({ maxLength: 6 }), fc.constantFrom('1.5', '0x10', '', '1e2')),
      offset: fc.oneof(fc.integer().map(String), fc.string({ maxLength: 6 })),
      completed: fc.oneof(fc.constantFrom('true', 'false', 'TRUE', '1', ''), fc.string({ maxLength: 5 })),
    })
    .map((q) => `?${new URLSearchParams(q).toString()}`),
);

const jsonValue = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.string(),
    fc.string({ unit: 'binary' }),
    fc.integer(),
    fc.double(),
    fc.boolean(),
    fc.constant(null),
    fc.constantFrom(1e308, -1e308, 2 ** 53 + 1, 0.1),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 8 }), tie('value'), { maxKeys: 4 }),
  ),
})).value;

const taskLike = fc.record(
  {
    title: fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 40 }), jsonValue),
    description: fc.oneof(fc.string({ maxLength: 50 }), fc.string({ unit: 'binary', maxLength: 50 }), jsonValue),
    completed: fc.oneof(fc.boolean(), jsonValue),
    email: fc.oneof(fc.emailAddress(), fc.string({ unit: 'binary', maxLength: 30 })),
    password: fc.oneof(fc.string({ minLength: 10, maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 20 })),
    user_id: fc.integer(),
    id: fc.integer(),
  },
  { requiredKeys: [] },
);

const rawBody = fc.oneof(
  taskLike.map((value) => Buffer.from(JSON.stringify(value))),
  jsonValue.map((value) => Buffer.from(JSON.stringify(value) ?? 'null')),
  fc.string().map((text) => Buffer.from(text)),
  fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)), // invalid UTF-8 and garbage
  fc.nat({ max: 20_000 }).map((depth) => Buffer.from(`${'['.repeat(depth)}${']'.repeat(depth)}`)),
  fc.nat({ max: 3000 }).map((depth) => Buffer.from(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`)),
  fc
    .constantFrom(
      '{"__proto__":{"admin":true},"title":"x"}',
      '{"constructor":{"prototype":{"x":1}},"title":"x"}',
      '{"title":"a","title":"b"}',
      '{"title":"\\u0000"}',
      '{"title":1e400}',
      '{"title":"x",}',
      '',
      '{',
      'null',
    )
    .map((text) => Buffer.from(text)),
);

const contentType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'APPLICATION/JSON',
  'text/plain',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/xml',
  'application/json; charset=utf-16',
  'application/vnd.api+json',
  '',
);

const chaotic: fc.Arbitrary<Generated> = fc
  .record({
    method: fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'TRACE', 'PROPFIND'),
    path: fc.oneof({ weight: 4, arbitrary: knownPath }, { weight: 1, arbitrary: randomPath }),
    query,
    auth: fc.constantFrom('none', 'valid', 'garbage', 'bearer', 'scheme-only', 'fake-token'),
    contentType,
    body: fc.option(rawBody, { nil: undefined, freq: 3 }),
    origin: fc.option(fc.constantFrom('https://evil.example.com', 'null', 'http://localhost:8000'), { nil: undefined }),
    extra: fc.dictionary(
      fc.stringMatching(/^x-[a-z]{1,10}$/),
      fc.string({ maxLength: 30 }).filter((value) => /^[\x20-\x7e]*$/.test(value)),
      { maxKeys: 3 },
    ),
    host: fc.constantFrom('localhost', 'localhost', 'localhost', '127.0.0.1:80', 'evil.example.com', 'LOCALHOST.'),
  })
  .map(({ method, path, query, auth, contentType, body, origin, extra, host }) => {
    const headers: Record<string, string> = { ...extra, host };
    if (auth === 'valid') headers.authorization = `Token ${tokenA}`;
    if (auth === 'bearer') headers.authorization = `Bearer ${tokenA}`;
    if (auth === 'garbage') headers.authorization = 'Token \u00ff\u00fe';
    if (auth === 'scheme-only') headers.authorization = 'Token';
    if (auth === 'fake-token') headers.authorization = `Token ict_${'A'.repeat(43)}`;
    if (origin) headers.origin = origin;
    // GET and HEAD carry no body here; the framing must stay honest or the client breaks its own connection.
    const sent = method === 'GET' || method === 'HEAD' ? undefined : body;
    if (sent !== undefined) {
      if (contentType) headers['content-type'] = contentType;
      headers['content-length'] = String(sent.length);
    }
    return { method, path: `${path}${query}`, headers, body: sent };
  });

/** Nearly valid API calls with generated values, so that the success paths are exercised too. */
const plausible: fc.Arbitrary<Generated> = fc
  .record({
    method: fc.constantFrom('POST', 'PUT', 'PATCH'),
    id: fc.nat({ max: 50 }),
    title: fc.string({ minLength: 1, maxLength: 60 }),
    description: fc.option(fc.string({ maxLength: 200 }), { nil: undefined }),
    completed: fc.option(fc.boolean(), { nil: undefined }),
    key: fc.option(fc.stringMatching(/^[!-~]{1,20}$/), { nil: undefined }),
  })
  .map(({ method, id, title, description, completed, key }) => {
    const body = Buffer.from(JSON.stringify({ title, description, completed }));
    const headers: Record<string, string> = {
      host: 'localhost',
      authorization: `Token ${tokenA}`,
      'content-type': 'application/json',
      'content-length': String(body.length),
    };
    if (key && method === 'POST') headers['idempotency-key'] = key;
    return { method, path: method === 'POST' ? '/api/v1/tasks/' : `/api/v1/tasks/${id}/`, headers, body };
  });

const generated = fc.oneof({ weight: 5, arbitrary: chaotic }, { weight: 1, arbitrary: plausible });

// --- the property --------------------------------------------------------------------------------

postgres.describe('generated hostile requests', () => {
  beforeAll(async () => {
    t = await startTestApp('postgres');
    port = await listenOnLoopback(t.app);
    tokenA = (await signup(t.app)).token;
    await t.app.inject(authed(tokenA, { method: 'POST', url: '/api/v1/tasks/', payload: { title: 'mine' } }));
    const b = await signup(t.app);
    const created = await t.app.inject(
      authed(b.token, { method: 'POST', url: '/api/v1/tasks/', payload: { title: SECRET_TITLE } }),
    );
    taskB = created.json().id;
  });
  afterAll(async () => {
    agent.destroy();
    await t?.close();
  });

  it(`never answer 5xx, always documented JSON, never another user's data (${RUNS} requests, seed ${SEED})`, async () => {
    const seen = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(generated, async (request) => {
        const response = await send(request);
        seen.set(response.status, (seen.get(response.status) ?? 0) + 1);
        const where = `${request.method} ${request.path} -> ${response.status} ${response.body.slice(0, 200)}`;
        expect(DOCUMENTED.has(response.status), where).toBe(true);
        expect(response.body, where).not.toContain(SECRET_TITLE);
        const noBody = request.method === 'HEAD' || response.status === 204;
        if (!noBody) {
          expect(String(response.headers['content-type']), where).toMatch(/^application\/json/);
          const parsed = JSON.parse(response.body);
          if (response.status >= 400) expect(typeof parsed.error, where).toBe('string');
        }
        expect(response.body, where).not.toMatch(
          /node_modules|\/work\/|at .*\.js:\d+|Failed query|FST_|drizzle|pglite/i,
        );
      }),
      { numRuns: RUNS, endOnFailure: true, seed: SEED },
    );
    // The generators reach the interesting answers, not only 400s.
    for (const status of [200, 201, 400, 401, 404, 405, 415])
      expect(seen.get(status) ?? 0, `status ${status}`).toBeGreaterThan(0);
  }, 600_000);

  it('left the server healthy and the other user’s task untouched', async () => {
    expect((await t.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    const rows = await t.database.db.execute(`SELECT title FROM tasks WHERE id = ${Number(taskB)}` as never);
    const list = ((rows as { rows?: unknown[] }).rows ?? (rows as unknown[])) as { title: string }[];
    expect(list[0]?.title).toBe(SECRET_TITLE);
  });
});
