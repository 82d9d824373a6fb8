/**
 * Hostile input: malformed and unusual bodies, schema violations, bad query
 * strings, path ids that cannot be ids, forged or broken credentials, and
 * slow or partial bodies on a real socket. Every one must get a precise 4xx
 * in JSON, never a 5xx, and never leak internals.
 */
import { connect } from 'node:net';
import { expectError, rawExchange, type Step } from '@ironclad/testkit/raw-http';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authed, GOOD_PASSWORD, listenOnLoopback, signup, startTestApp, type TestApp, uniqueEmail } from './helpers.js';

const NOT_FOUND = { error: 'The requested resource was not found.' };
const MALFORMED = { error: 'Malformed JSON in request body.' };
const NOT_AN_OBJECT = { error: 'Request body must be a JSON object.' };
const UNSUPPORTED = { error: 'Unsupported media type: send JSON with Content-Type: application/json.' };
const TOO_LARGE = { error: 'Request body is too large.' };
const INVALID_TOKEN = { error: 'Invalid or expired token.', reason: 'invalid' };
const NO_CREDENTIALS = { error: 'Authentication credentials were not provided.' };
const TITLE_MESSAGE =
  'A title needs 1 to 255 characters, not only spaces, and cannot contain invisible control characters.';
const DESCRIPTION_MESSAGE =
  'Details can be at most 10000 characters and cannot contain invisible control characters (new lines and tabs are fine).';
const PASSWORD_MESSAGE = 'A password needs 10 to 256 characters and cannot contain invisible control characters.';
const EMAIL_MESSAGE = 'Enter a valid email address, like name@example.com (at most 254 characters).';

function invalidBody(fields: Record<string, string>) {
  return { error: 'Invalid request body.', fields };
}

// ---------------------------------------------------------------------------
// Raw sockets, for what app.inject cannot send.

let t: TestApp;
let port: number;
let token: string;
let otherToken: string;

const inject = (options: InjectOptions): Promise<LightMyRequestResponse> => t.app.inject(options);
const asUser = (options: InjectOptions) => inject(authed(token, options));

async function expectHealthy(): Promise<void> {
  const response = await inject({ method: 'GET', url: '/healthz' });
  expect(response.statusCode).toBe(200);
  expect(response.json()).toEqual({ status: 'ok' });
}

/** POST /api/v1/tasks/ as the test user with a raw payload. */
function postTaskRaw(payload: string | Buffer, contentType = 'application/json') {
  return asUser({ method: 'POST', url: '/api/v1/tasks/', payload, headers: { 'content-type': contentType } });
}

function signupRaw(payload: string | Buffer, contentType = 'application/json') {
  return inject({ method: 'POST', url: '/api/v1/users/signup/', payload, headers: { 'content-type': contentType } });
}

beforeAll(async () => {
  t = await startTestApp('embedded');
  port = await listenOnLoopback(t.app);
  token = (await signup(t.app)).token;
  otherToken = (await signup(t.app)).token;
});

afterAll(async () => {
  await t?.close();
});

describe('malformed and unusual JSON bodies', () => {
  it.each([
    ['a trailing comma', '{"title": "a",}'],
    ['unquoted keys', '{title: "a"}'],
    ['a truncated object', '{"title": "a"'],
    ['single quotes', "{'title': 'a'}"],
    ['trailing garbage', '{"title":"a"}garbage'],
    ['a bare word', 'undefined'],
    ['NaN', '{"title": NaN}'],
    ['a lone brace', '}'],
  ])('answers %s with 400 Malformed JSON, on a protected and a public route', async (_name, payload) => {
    expectError(await postTaskRaw(payload), 400, MALFORMED);
    expectError(await signupRaw(payload), 400, MALFORMED);
  });

  it('answers an empty JSON body with 400', async () => {
    expectError(await postTaskRaw(''), 400, { error: 'Request body is empty; send a JSON object.' });
    expectError(await signupRaw(''), 400, { error: 'Request body is empty; send a JSON object.' });
  });

  it.each([
    ['an empty array', '[]'],
    ['an array', '[{"title":"a"}]'],
    ['a string', '"title"'],
    ['a number', '42'],
    ['null', 'null'],
    ['true', 'true'],
  ])('answers a body that is %s with 400 not-an-object', async (_name, payload) => {
    expectError(await postTaskRaw(payload), 400, NOT_AN_OBJECT);
    expectError(await signupRaw(payload), 400, NOT_AN_OBJECT);
  });

  it.each([
    ['text/plain', JSON.stringify({ email: 'a@example.com', password: GOOD_PASSWORD })],
    ['text/plain; charset=utf-8', JSON.stringify({ email: 'a@example.com', password: GOOD_PASSWORD })],
    ['application/x-www-form-urlencoded', `email=a%40example.com&password=${encodeURIComponent(GOOD_PASSWORD)}`],
    [
      'multipart/form-data; boundary=XyZ',
      '--XyZ\r\nContent-Disposition: form-data; name="email"\r\n\r\na@example.com\r\n--XyZ--\r\n',
    ],
    ['application/xml', '<user><email>a@example.com</email></user>'],
  ])('refuses Content-Type %s on signup with 415', async (contentType, payload) => {
    expectError(await signupRaw(payload, contentType), 415, UNSUPPORTED);
  });

  it('refuses a body over 64 KiB with 413, on a protected and a public route', async () => {
    const title = 'a'.repeat(64 * 1024);
    expectError(await postTaskRaw(JSON.stringify({ title })), 413, TOO_LARGE);
    expectError(await signupRaw(JSON.stringify({ email: 'a@example.com', password: title })), 413, TOO_LARGE);
  });

  it('accepts a body just under the limit and refuses one just over it', async () => {
    // Pad with spaces, which JSON ignores, to the exact byte count.
    const base = JSON.stringify({ title: 'limit' });
    const under = await postTaskRaw(base + ' '.repeat(64 * 1024 - base.length));
    expect(under.statusCode, under.body).toBe(201);
    expectError(await postTaskRaw(base + ' '.repeat(64 * 1024 - base.length + 1)), 413, TOO_LARGE);
  });

  it.each([
    ['__proto__ at the top', '{"title":"a","__proto__":{"polluted":true}}'],
    ['__proto__ nested', '{"title":"a","description":"x","x":{"__proto__":{"polluted":true}}}'],
    ['constructor.prototype', '{"title":"a","constructor":{"prototype":{"polluted":true}}}'],
    ['__proto__ as an escaped key', '{"title":"a","\\u005f_proto__":{"polluted":true}}'],
  ])('refuses %s with 400 and pollutes nothing', async (_name, payload) => {
    const response = await postTaskRaw(payload);
    expectError(response, 400);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
    const signupResponse = await signupRaw(
      payload.replace('"title":"a"', `"email":"${uniqueEmail('proto')}","password":"${GOOD_PASSWORD}"`),
    );
    expectError(signupResponse, 400);
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it('answers 10,000 levels of nesting with 400 and keeps serving', async () => {
    const open = '['.repeat(10_000);
    expectError(await postTaskRaw(open), 400, MALFORMED);
    expectError(await postTaskRaw(open + ']'.repeat(10_000)), 400, NOT_AN_OBJECT);
    const objects = `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`;
    expect(Buffer.byteLength(objects)).toBeLessThan(64 * 1024);
    const nested = expectError(await postTaskRaw(objects), 400);
    expect(nested.error).toBe('Invalid request body.');
    expect(nested.fields).toEqual({ a: 'is not an allowed field', title: 'is required' });
    expectError(await signupRaw(open), 400, MALFORMED);
    await expectHealthy();
  });

  it('handles duplicate keys without a 5xx (the last one wins, as in JSON.parse)', async () => {
    const response = await postTaskRaw('{"title":"first","title":"second","completed":false,"completed":true}');
    expect(response.statusCode, response.body).toBe(201);
    expect(response.json()).toMatchObject({ title: 'second', completed: true });
    // A duplicate that smuggles an invalid value is still checked.
    expectError(await postTaskRaw('{"title":"ok","title":123}'), 400, invalidBody({ title: 'must be a string' }));
  });

  it('handles invalid UTF-8 bytes in a JSON string without a 5xx', async () => {
    const bad = Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0xed, 0xa0, 0x80]);
    const payload = Buffer.concat([Buffer.from('{"title":"bad '), bad, Buffer.from(' bytes"}')]);
    const response = await postTaskRaw(payload);
    // Refused outright: never stored with replacement characters.
    expectError(response, 400, { error: 'Request body is not valid UTF-8.' });
    const signupBody = Buffer.concat([Buffer.from(`{"email":"u`), bad, Buffer.from(`@example.com","password":"x"}`)]);
    const signupResponse = await signupRaw(signupBody);
    expect(signupResponse.statusCode, signupResponse.body).toBeLessThan(500);
    expectError(signupResponse, 400);
    const loginResponse = await inject({
      method: 'POST',
      url: '/api/v1/users/login/',
      payload: signupBody,
      headers: { 'content-type': 'application/json' },
    });
    expect(loginResponse.statusCode, loginResponse.body).toBeLessThan(500);
    expectError(loginResponse, loginResponse.statusCode === 401 ? 401 : 400);
    await expectHealthy();
  });

  it.each([
    ['title', '{"title": 1e400}', { title: 'must be a string' }],
    ['title', '{"title": 99999999999999999999}', { title: 'must be a string' }],
    ['completed', '{"title": "a", "completed": 1e400}', { completed: 'must be true or false' }],
    ['completed', '{"title": "a", "completed": 99999999999999999999}', { completed: 'must be true or false' }],
    ['description', '{"title": "a", "description": -1e400}', { description: 'must be a string' }],
  ])('refuses a huge number in %s with 400', async (_field, payload, fields) => {
    expectError(await postTaskRaw(payload), 400, invalidBody(fields));
  });

  it('refuses huge numbers in signup and login fields with 400', async () => {
    expectError(
      await signupRaw(`{"email": 1e400, "password": 99999999999999999999}`),
      400,
      invalidBody({ email: 'must be a string', password: 'must be a string' }),
    );
    const login = await inject({
      method: 'POST',
      url: '/api/v1/users/login/',
      payload: '{"email": 99999999999999999999, "password": 1e400}',
      headers: { 'content-type': 'application/json' },
    });
    expectError(login, 400, invalidBody({ email: 'must be a string', password: 'must be a string' }));
  });

  it.each([
    ['NUL', 'a\u0000b'],
    ['a leading NUL', '\u0000title'],
    ['\\u0001', 'a\u0001b'],
    ['newline', 'two\nlines'],
    ['tab', 'a\tb'],
    ['carriage return', 'a\rb'],
    ['escape', 'a\u001bb'],
    ['DEL', 'a\u007fb'],
  ])('refuses %s in a title with 400 fields.title', async (_name, title) => {
    expectError(await asUser({ method: 'POST', url: '/api/v1/tasks/', payload: { title } }), 400, {
      error: 'Invalid request body.',
      fields: { title: TITLE_MESSAGE },
    });
  });

  it('allows newline and tab in a description', async () => {
    const description = 'line one\nline two\n\tindented';
    const response = await asUser({ method: 'POST', url: '/api/v1/tasks/', payload: { title: 'ctl', description } });
    expect(response.statusCode, response.body).toBe(201);
    expect(response.json().description).toBe(description);
  });

  it.each([
    ['\\u0001', 'a\u0001b'],
    ['carriage return', 'a\r\nb'],
    ['NUL', 'a\u0000b'],
    ['vertical tab', 'a\u000bb'],
    ['DEL', 'a\u007fb'],
  ])('refuses %s in a description with 400 fields.description', async (_name, description) => {
    expectError(
      await asUser({ method: 'POST', url: '/api/v1/tasks/', payload: { title: 'ctl', description } }),
      400,
      invalidBody({ description: DESCRIPTION_MESSAGE }),
    );
  });

  it('refuses NUL in a signup email or password with 400', async () => {
    const email = `nul\u0000${uniqueEmail()}`;
    expectError(
      await inject({ method: 'POST', url: '/api/v1/users/signup/', payload: { email, password: GOOD_PASSWORD } }),
      400,
      invalidBody({ email: EMAIL_MESSAGE }),
    );
    expectError(
      await inject({
        method: 'POST',
        url: '/api/v1/users/signup/',
        payload: { email: uniqueEmail(), password: `${GOOD_PASSWORD}\u0000` },
      }),
      400,
      invalidBody({ password: PASSWORD_MESSAGE }),
    );
  });

  it.each([
    ['NUL at the end of the email', (email: string) => ({ email: `${email}\u0000`, password: GOOD_PASSWORD })],
    ['NUL at the start of the email', (email: string) => ({ email: `\u0000${email}`, password: GOOD_PASSWORD })],
    ['NUL inside an unknown email', () => ({ email: 'x\u0000@example.com', password: GOOD_PASSWORD })],
    ['NUL in the password', (email: string) => ({ email, password: `${GOOD_PASSWORD}\u0000` })],
  ])('refuses login with %s with 400, never a 5xx', async (_name, build) => {
    const { email } = await signup(t.app);
    const payload = build(email);
    const response = await inject({ method: 'POST', url: '/api/v1/users/login/', payload });
    expect(response.statusCode, `${JSON.stringify(payload)} -> ${response.body}`).toBeLessThan(500);
    expectError(response, 400);
    await expectHealthy();
  });

  it('refuses lone UTF-16 surrogates (they cannot be stored as UTF-8) with 400 naming the fields', async () => {
    const task = await postTaskRaw('{"title":"a\\ud800b","description":"\\udfff"}');
    const body = expectError(task, 400);
    expect(Object.keys(body.fields as object).sort()).toEqual(['description', 'title']);
    const login = await inject({
      method: 'POST',
      url: '/api/v1/users/login/',
      payload: '{"email":"a\\ud800@example.com","password":"not the password"}',
      headers: { 'content-type': 'application/json' },
    });
    expectError(login, 400);
  });

  it('still serves after all of the above', async () => {
    await expectHealthy();
    const ok = await asUser({ method: 'POST', url: '/api/v1/tasks/', payload: { title: 'after hostile input' } });
    expect(ok.statusCode).toBe(201);
  });
});

describe('schema violations', () => {
  it.each([
    ['title is a number', { title: 123 }, { title: 'must be a string' }],
    ['title is null', { title: null }, { title: 'must be a string' }],
    ['title is an array', { title: ['a'] }, { title: 'must be a string' }],
    ['title is an object', { title: { $ne: '' } }, { title: 'must be a string' }],
    ['completed is "true"', { title: 'a', completed: 'true' }, { completed: 'must be true or false' }],
    ['completed is 1', { title: 'a', completed: 1 }, { completed: 'must be true or false' }],
    ['description is a number', { title: 'a', description: 5 }, { description: 'must be a string' }],
    ['title is missing', { description: 'no title' }, { title: 'is required' }],
    ['the body is an empty object', {}, { title: 'is required' }],
    ['title is empty', { title: '' }, { title: TITLE_MESSAGE }],
    ['title has 256 characters', { title: 'x'.repeat(256) }, { title: TITLE_MESSAGE }],
    ['title is only spaces', { title: '     ' }, { title: TITLE_MESSAGE }],
    ['title is only a no-break space', { title: '\u00a0' }, { title: TITLE_MESSAGE }],
    [
      'description has 10,001 characters',
      { title: 'a', description: 'd'.repeat(10_001) },
      {
        description: DESCRIPTION_MESSAGE,
      },
    ],
  ])('POST /api/v1/tasks/ refuses a body where %s', async (_name, payload, fields) => {
    expectError(await asUser({ method: 'POST', url: '/api/v1/tasks/', payload }), 400, invalidBody(fields));
  });

  it('accepts the limits themselves: a 255-character title and a 10,000-character description', async () => {
    const response = await asUser({
      method: 'POST',
      url: '/api/v1/tasks/',
      payload: { title: 't'.repeat(255), description: 'd'.repeat(10_000) },
    });
    expect(response.statusCode, response.body).toBe(201);
  });

  it.each(['owner', 'user_id', 'userId', 'id', 'created_at', 'updated_at', 'anything'])(
    'refuses the unknown field %s on create and on update',
    async (field) => {
      expectError(
        await asUser({ method: 'POST', url: '/api/v1/tasks/', payload: { title: 'a', [field]: 1 } }),
        400,
        invalidBody({ [field]: 'is not an allowed field' }),
      );
      const created = await asUser({ method: 'POST', url: '/api/v1/tasks/', payload: { title: 'target' } });
      expect(created.statusCode).toBe(201);
      const id = created.json().id as number;
      for (const method of ['PUT', 'PATCH'] as const) {
        expectError(
          await asUser({ method, url: `/api/v1/tasks/${id}/`, payload: { [field]: 2 } }),
          400,
          invalidBody({ [field]: 'is not an allowed field' }),
        );
      }
      const after = await asUser({ method: 'GET', url: `/api/v1/tasks/${id}/` });
      expect(after.json()).toMatchObject({ id, title: 'target' });
    },
  );

  it('refuses unknown fields on signup and login', async () => {
    expectError(
      await inject({
        method: 'POST',
        url: '/api/v1/users/signup/',
        payload: { email: uniqueEmail(), password: GOOD_PASSWORD, is_admin: true },
      }),
      400,
      invalidBody({ is_admin: 'is not an allowed field' }),
    );
    expectError(
      await inject({
        method: 'POST',
        url: '/api/v1/users/login/',
        payload: { email: uniqueEmail(), password: GOOD_PASSWORD, id: 1 },
      }),
      400,
      invalidBody({ id: 'is not an allowed field' }),
    );
  });

  it('reports every bad field at once', async () => {
    const body = expectError(
      await asUser({ method: 'POST', url: '/api/v1/tasks/', payload: { title: 1, completed: 'yes', owner: 2 } }),
      400,
    );
    expect(body).toEqual(
      invalidBody({ title: 'must be a string', completed: 'must be true or false', owner: 'is not an allowed field' }),
    );
  });

  it('checks updates the same way', async () => {
    const created = await asUser({ method: 'POST', url: '/api/v1/tasks/', payload: { title: 'to update' } });
    const id = created.json().id as number;
    for (const [payload, fields] of [
      [{ title: '   ' }, { title: TITLE_MESSAGE }],
      [{ completed: 'false' }, { completed: 'must be true or false' }],
      [{ description: 'x\u0001' }, { description: DESCRIPTION_MESSAGE }],
    ] as const) {
      expectError(await asUser({ method: 'PATCH', url: `/api/v1/tasks/${id}/`, payload }), 400, invalidBody(fields));
    }
    expectError(
      await asUser({
        method: 'PATCH',
        url: `/api/v1/tasks/${id}/`,
        payload: '[]',
        headers: { 'content-type': 'application/json' },
      }),
      400,
      NOT_AN_OBJECT,
    );
    await expectHealthy();
  });
});

describe('query parameters', () => {
  it.each([
    ['limit=0', 'limit', 'must be at least 1'],
    ['limit=501', 'limit', 'must be at most 500'],
    ['limit=-5', 'limit', 'must be at least 1'],
    ['limit=abc', 'limit', 'must be a whole number'],
    ['limit=1.5', 'limit', 'must be a whole number'],
    ['limit=true', 'limit', 'must be a whole number'],
    ['limit=0x10', 'limit', 'must be a whole number'],
    ['limit=', 'limit', null],
    ['limit=99999999999999999999', 'limit', 'must be at most 500'],
    ['offset=-1', 'offset', 'must be at least 0'],
    ['offset=abc', 'offset', 'must be a whole number'],
    ['offset=99999999999', 'offset', 'must be at most 2147483647'],
  ])('GET /api/v1/tasks/?%s -> 400', async (query, field, message) => {
    const body = expectError(await asUser({ method: 'GET', url: `/api/v1/tasks/?${query}` }), 400);
    expect(body).toEqual({ error: 'Invalid query parameters.', fields: { [field]: message ?? expect.any(String) } });
  });

  it.each(['completed=maybe', 'completed=1', 'completed=TRUE', 'completed='])(
    'GET /api/v1/tasks/?%s -> 400 with fields.completed',
    async (query) => {
      const body = expectError(await asUser({ method: 'GET', url: `/api/v1/tasks/?${query}` }), 400);
      expect(body.error).toBe('Invalid query parameters.');
      expect(Object.keys(body.fields as object)).toEqual(['completed']);
      expect(typeof (body.fields as Record<string, unknown>).completed).toBe('string');
    },
  );

  it('accepts limit=500, limit=1 and offset=0', async () => {
    for (const query of ['limit=500', 'limit=1', 'offset=0', 'limit=500&offset=2147483647', 'completed=false']) {
      const response = await asUser({ method: 'GET', url: `/api/v1/tasks/?${query}` });
      expect(response.statusCode, `${query}: ${response.body}`).toBe(200);
      expect(Array.isArray(response.json())).toBe(true);
    }
  });

  it('ignores unknown query parameters', async () => {
    for (const query of ['foo=bar', 'user_id=1', 'owner=2&order_by=id', '__proto__=x', 'limit=2&evil=%00']) {
      const response = await asUser({ method: 'GET', url: `/api/v1/tasks/?${query}` });
      expect(response.statusCode, `${query}: ${response.body}`).toBe(200);
      expect(Array.isArray(response.json())).toBe(true);
    }
  });

  it('never lets a query reach another user', async () => {
    const mine = await asUser({ method: 'POST', url: '/api/v1/tasks/', payload: { title: 'private' } });
    const id = mine.json().id as number;
    const theirs = await inject(authed(otherToken, { method: 'GET', url: '/api/v1/tasks/?user_id=1&limit=500' }));
    expect(theirs.statusCode).toBe(200);
    expect((theirs.json() as { id: number }[]).map((task) => task.id)).not.toContain(id);
    await expectHealthy();
  });
});

describe('path ids', () => {
  let mineId: number;
  let missingBody: string;
  beforeAll(async () => {
    const mine = await asUser({ method: 'POST', url: '/api/v1/tasks/', payload: { title: 'mine' } });
    mineId = mine.json().id;
    const missing = await asUser({ method: 'GET', url: '/api/v1/tasks/2147483000/' });
    expectError(missing, 404, NOT_FOUND);
    missingBody = missing.body;
  });

  const badIds = [
    'abc',
    '0',
    '-1',
    '1.5',
    '1e3',
    '0x10',
    '99999999999999999999',
    '9007199254740992',
    '%00',
    '%20',
    '1%00',
    'null',
    'true',
    'x'.repeat(200),
    '1'.repeat(200),
  ];

  it.each(badIds)('GET/PUT/PATCH/DELETE /api/v1/tasks/%s/ -> 404 like a missing task', async (id) => {
    for (const method of ['GET', 'PUT', 'PATCH', 'DELETE'] as const) {
      const response = await asUser({
        method,
        url: `/api/v1/tasks/${id}/`,
        ...(method === 'PUT' || method === 'PATCH' ? { payload: { title: 'x' } } : {}),
      });
      expectError(response, 404, NOT_FOUND);
      expect(response.body).toBe(missingBody);
    }
  });

  it('does not read a non-canonical spelling of an existing id as that id', async () => {
    // Number("0x10") is 16 and parseInt("16.5") is 16: neither may reach task 16.
    const spellings = [
      `${mineId}.5`,
      `0x${mineId.toString(16)}`,
      `0b${mineId.toString(2)}`,
      `0o${mineId.toString(8)}`,
      `${mineId}e0`,
      `%20${mineId}`,
      `${mineId}%20`,
    ];
    const aliased: string[] = [];
    for (const spelling of spellings) {
      const response = await asUser({ method: 'GET', url: `/api/v1/tasks/${spelling}/` });
      if (response.statusCode !== 404 || response.body !== missingBody) {
        aliased.push(`${spelling} -> ${response.statusCode}`);
      }
    }
    expect(aliased).toEqual([]);
    const real = await asUser({ method: 'GET', url: `/api/v1/tasks/${mineId}/` });
    expect(real.statusCode).toBe(200);
  });

  it("answers another user's task exactly like a missing one", async () => {
    for (const method of ['GET', 'PUT', 'PATCH', 'DELETE'] as const) {
      const response = await inject(
        authed(otherToken, {
          method,
          url: `/api/v1/tasks/${mineId}/`,
          ...(method === 'PUT' || method === 'PATCH' ? { payload: { title: 'stolen' } } : {}),
        }),
      );
      expectError(response, 404, NOT_FOUND);
      expect(response.body).toBe(missingBody);
    }
    const still = await asUser({ method: 'GET', url: `/api/v1/tasks/${mineId}/` });
    expect(still.statusCode).toBe(200);
    expect(still.json().title).toBe('mine');
    await expectHealthy();
  });
});

describe('authentication', () => {
  const protectedRoutes: InjectOptions[] = [
    { method: 'GET', url: '/api/v1/tasks/' },
    { method: 'POST', url: '/api/v1/tasks/', payload: { title: 'x' } },
    { method: 'GET', url: '/api/v1/tasks/1/' },
    { method: 'DELETE', url: '/api/v1/tasks/1/' },
    { method: 'GET', url: '/api/v1/users/info/' },
    { method: 'POST', url: '/api/v1/users/logout/' },
  ];

  it.each(protectedRoutes)('$method $url without Authorization -> 401 with a challenge', async (route) => {
    const response = await inject(route);
    expectError(response, 401, NO_CREDENTIALS);
    expect(response.headers['www-authenticate']).toMatch(/^Token realm="api"$/);
  });

  const garbage = [
    ['garbage', 'garbage'],
    ['a bare scheme', 'Token'],
    ['an empty Token', 'Token '],
    ['an empty Bearer', 'Bearer '],
    ['Basic credentials', `Basic ${Buffer.from('admin:admin').toString('base64')}`],
    ['a random token', 'Token abcdef'],
    ['a JWT', 'Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.'],
    ['SQL', "Token ' OR '1'='1"],
    ['a well-formed unknown token', `Token ict_${'A'.repeat(43)}`],
    ['a well-formed unknown bearer token', `Bearer ict_${'b'.repeat(42)}-`],
    ['an overlong token', `Token ict_${'a'.repeat(5000)}`],
    ['a token with a NUL', `Token ict_${'a'.repeat(42)}\u0000`],
  ];

  it.each(garbage)('refuses %s with 401 Invalid or expired token', async (_name, authorization) => {
    for (const route of protectedRoutes) {
      const response = await inject({ ...route, headers: { authorization } });
      expectError(response, 401, INVALID_TOKEN);
      expect(response.headers['www-authenticate']).toBe('Token realm="api"');
    }
  });

  it('accepts a real token under Token and Bearer, case-insensitively', async () => {
    for (const authorization of [`Token ${token}`, `Bearer ${token}`, `token ${token}`, `BEARER ${token}`]) {
      const response = await inject({ method: 'GET', url: '/api/v1/users/info/', headers: { authorization } });
      expect(response.statusCode, `${authorization.split(' ')[0]}: ${response.body}`).toBe(200);
    }
  });

  it('refuses a real token under another scheme, or with a character changed', async () => {
    const changed = token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A');
    for (const authorization of [
      `Basic ${token}`,
      `Token ${changed}`,
      `Token ${token}x`,
      `Token ${token.toUpperCase()}`,
    ]) {
      expectError(
        await inject({ method: 'GET', url: '/api/v1/users/info/', headers: { authorization } }),
        401,
        INVALID_TOKEN,
      );
    }
  });

  it('answers an unauthenticated request with a bad body 401, not 400', async () => {
    for (const [payload, contentType] of [
      ['{not json', 'application/json'],
      ['[]', 'application/json'],
      ['{"title": 123, "owner": 1}', 'application/json'],
      ['x'.repeat(70_000), 'application/json'],
      ['title=a', 'application/x-www-form-urlencoded'],
    ] as const) {
      const response = await inject({
        method: 'POST',
        url: '/api/v1/tasks/',
        payload,
        headers: { 'content-type': contentType },
      });
      expectError(response, 401, NO_CREDENTIALS);
      const withGarbage = await inject({
        method: 'POST',
        url: '/api/v1/tasks/',
        payload,
        headers: { 'content-type': contentType, authorization: 'Token nope' },
      });
      expectError(withGarbage, 401, INVALID_TOKEN);
    }
  });

  it('stops accepting a token after logout', async () => {
    const session = await signup(t.app);
    const logout = await inject(authed(session.token, { method: 'POST', url: '/api/v1/users/logout/' }));
    expect(logout.statusCode).toBe(200);
    expectError(await inject(authed(session.token, { method: 'GET', url: '/api/v1/tasks/' })), 401, INVALID_TOKEN);
  });

  it('gives a wrong password and an unknown email byte-identical 401s', async () => {
    const { email } = await signup(t.app);
    const wrong = await inject({
      method: 'POST',
      url: '/api/v1/users/login/',
      payload: { email, password: 'definitely not it' },
    });
    const unknown = await inject({
      method: 'POST',
      url: '/api/v1/users/login/',
      payload: { email: uniqueEmail('ghost'), password: 'definitely not it' },
    });
    const caseVariant = await inject({
      method: 'POST',
      url: '/api/v1/users/login/',
      payload: { email: email.toUpperCase(), password: 'definitely not it' },
    });
    expectError(wrong, 401, { error: 'Invalid email or password.' });
    expectError(unknown, 401, { error: 'Invalid email or password.' });
    expectError(caseVariant, 401, { error: 'Invalid email or password.' });
    expect(wrong.body).toBe(unknown.body);
    expect(wrong.body).toBe(caseVariant.body);
    expect(wrong.headers['content-length']).toBe(unknown.headers['content-length']);
    expect(wrong.headers['www-authenticate']).toBe(unknown.headers['www-authenticate']);
    await expectHealthy();
  });
});

describe('slow, partial and lying bodies on a real socket', () => {
  const host = () => `127.0.0.1:${port}`;

  it('accepts a body that arrives slowly in small pieces', async () => {
    const body = JSON.stringify({ title: 'slow but fine', description: 'sent in pieces' });
    const head =
      `POST /api/v1/tasks/ HTTP/1.1\r\nHost: ${host()}\r\nAuthorization: Token ${token}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`;
    const pieces: Step[] = [head];
    for (let i = 0; i < body.length; i += 10) pieces.push({ wait: 40 }, body.slice(i, i + 10));
    const response = await rawExchange(port, pieces, 10_000);
    expect(response.statusCode, response.body).toBe(201);
    expect(JSON.parse(response.body)).toMatchObject({ title: 'slow but fine' });
  });

  it('survives a client that stops halfway through the body and closes', async () => {
    const head =
      `POST /api/v1/tasks/ HTTP/1.1\r\nHost: ${host()}\r\nAuthorization: Token ${token}\r\n` +
      'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n';
    const response = await rawExchange(port, [head, '{"title":"half', { wait: 100 }, 'half-close'], 5_000);
    // Either nothing (the request was abandoned) or a clean 4xx; never a 5xx.
    if (response.answered) expectError(response, 400);
    await expectHealthy();
    const list = await asUser({ method: 'GET', url: '/api/v1/tasks/?limit=500' });
    expect((list.json() as { title: string }[]).some((task) => task.title.startsWith('half'))).toBe(false);
  });

  it('survives a client that disconnects abruptly mid-body', async () => {
    await new Promise<void>((resolve) => {
      const socket = connect({ port, host: '127.0.0.1' }, () => {
        socket.write(
          `POST /api/v1/users/signup/ HTTP/1.1\r\nHost: ${host()}\r\nContent-Type: application/json\r\n` +
            'Content-Length: 5000\r\n\r\n{"email":"',
        );
        setTimeout(() => {
          socket.destroy();
          resolve();
        }, 100);
      });
      socket.on('error', () => resolve());
    });
    await expectHealthy();
  });

  it('answers a Content-Length over the limit with 413 before the body arrives', async () => {
    const response = await rawExchange(
      port,
      [
        `POST /api/v1/users/signup/ HTTP/1.1\r\nHost: ${host()}\r\nContent-Type: application/json\r\n` +
          `Content-Length: ${10 * 1024 * 1024}\r\n\r\n{"email":`,
      ],
      5_000,
    );
    expectError(response, 413, TOO_LARGE);
    await expectHealthy();
  });

  it('answers a chunked body over the limit with 413', async () => {
    const chunk = 'a'.repeat(16 * 1024);
    const steps: Step[] = [
      `POST /api/v1/users/signup/ HTTP/1.1\r\nHost: ${host()}\r\nContent-Type: application/json\r\n` +
        'Transfer-Encoding: chunked\r\n\r\n',
      `${(9).toString(16)}\r\n{"email":\r\n`,
    ];
    for (let i = 0; i < 6; i++) steps.push(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
    steps.push('0\r\n\r\n');
    const response = await rawExchange(port, steps, 5_000);
    expectError(response, 413, TOO_LARGE);
    await expectHealthy();
  });

  it('refuses a request with both Content-Length and Transfer-Encoding (smuggling) with 400 JSON', async () => {
    const response = await rawExchange(port, [
      `POST /api/v1/users/login/ HTTP/1.1\r\nHost: ${host()}\r\nContent-Type: application/json\r\n` +
        'Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /api/v1/users/info/ HTTP/1.1\r\n\r\n',
    ]);
    expectError(response, 400);
    await expectHealthy();
  });

  it('answers a body shorter than its Content-Length with a 4xx, not a hang or a 5xx', async () => {
    const response = await inject({
      method: 'POST',
      url: '/api/v1/users/signup/',
      payload: '{"email":"a@example.com"}',
      headers: { 'content-type': 'application/json', 'content-length': '500' },
    });
    expectError(response, 400, { error: 'Content-Length does not match the body.' });
    await expectHealthy();
  });
});
