/**
 * The HTTP wire below the routes, over raw sockets: what Node would answer itself (417, CONNECT,
 * connection errors) comes back as our JSON with our headers and a log line; framing rules
 * (one Host/Authorization/Content-Type, no Content-Encoding, HTTP/1.x, UTF-8 bodies) are enforced.
 */

import { connect } from 'node:net';
import { type RawAnswer, rawExchange } from '@ironclad/testkit/raw-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASELINE_HEADERS } from '../src/http/plugins/security-headers.js';
import { MALFORMED_QUERY_MESSAGE } from '../src/http/plugins/wire-framing.js';
import { authed, listenOnLoopback, signup, startTestApp, type TestApp } from './helpers.js';

let t: TestApp;
let port: number;
let token: string;

beforeAll(async () => {
  t = await startTestApp('embedded');
  port = await listenOnLoopback(t.app);
  token = (await signup(t.app)).token;
});
afterAll(async () => {
  await t?.close();
});

function expectSecured(response: RawAnswer) {
  for (const [name, value] of Object.entries(BASELINE_HEADERS)) expect(response.headers[name], name).toBe(value);
  expect(response.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  expect(response.headers['content-type']).toBe('application/json; charset=utf-8');
}

const requestLines = () => t.logs.lines.map((line) => JSON.parse(line)).filter((line) => line.msg === 'request');

describe('answers Node would write itself', () => {
  it('an unknown Expect gets 417 JSON with the security headers and a log line', async () => {
    const response = await rawExchange(
      port,
      'GET /api/v1/test/ HTTP/1.1\r\nHost: localhost\r\nExpect: foo\r\nConnection: close\r\n\r\n',
    );
    expect(response.statusCode).toBe(417);
    expect(JSON.parse(response.body)).toEqual({ error: 'Unsupported Expect header; only 100-continue is understood.' });
    expectSecured(response);
    expect(
      requestLines().some((line) => line.request_id === response.headers['x-request-id'] && line.status === 417),
    ).toBe(true);
  });

  it('CONNECT gets 405 JSON', async () => {
    const response = await rawExchange(port, 'CONNECT localhost:443 HTTP/1.1\r\nHost: localhost:443\r\n\r\n');
    expect(response.statusCode).toBe(405);
    expect(JSON.parse(response.body)).toEqual({ error: 'Method CONNECT is not allowed.' });
    expectSecured(response);
  });

  it.each([
    ['a request line that is not HTTP', 'HELLO WORLD\r\n\r\n', 400],
    ['a control character in a header', 'GET / HTTP/1.1\r\nHost: localhost\r\nX-A: a\u0001b\r\n\r\n', 400],
    ['headers over 16 KiB', `GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'a'.repeat(17_000)}\r\n\r\n`, 431],
  ])('%s gets JSON, the headers, a request id and a log line', async (_name, request, status) => {
    const response = await rawExchange(port, request);
    expect(response.statusCode).toBe(status);
    expectSecured(response);
    const id = response.headers['x-request-id'];
    expect(requestLines().filter((line) => line.request_id === id)).toHaveLength(1);
  });

  it('a malformed URL is logged once under its request id', async () => {
    const response = await rawExchange(
      port,
      'GET /api/v1/tasks/%ZZ/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n',
    );
    expect(response.statusCode).toBe(400);
    const id = response.headers['x-request-id'];
    expect(requestLines().filter((line) => line.request_id === id)).toHaveLength(1);
  });
});

describe('framing', () => {
  it.each([
    [
      'Authorization',
      `Authorization: Token ${'x'}\r\nAuthorization: Token y\r\n`,
      'The authorization header may be sent only once.',
    ],
    [
      'Content-Type',
      'Content-Type: application/json\r\nContent-Type: text/plain\r\n',
      'The content-type header may be sent only once.',
    ],
  ])('a repeated %s header is refused', async (_name, headers, message) => {
    const body = '{"title":"x"}';
    const response = await rawExchange(
      port,
      `POST /api/v1/tasks/ HTTP/1.1\r\nHost: localhost\r\n${headers}Content-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
    );
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body)).toEqual({ error: message });
  });

  it('a compressed body is refused with 415', async () => {
    const response = await t.app.inject(
      authed(token, {
        method: 'POST',
        url: '/api/v1/tasks/',
        headers: { 'content-encoding': 'gzip', 'content-type': 'application/json' },
        payload: '{"title":"x"}',
      }),
    );
    expect(response.statusCode).toBe(415);
    expect(response.json()).toEqual({ error: 'Unsupported Content-Encoding: send the JSON body uncompressed.' });
  });

  it('an HTTP/2.0 request line over HTTP/1 is refused with 505', async () => {
    const response = await rawExchange(
      port,
      'GET /api/v1/test/ HTTP/2.0\r\nHost: localhost\r\nConnection: close\r\n\r\n',
    );
    expect(response.statusCode).toBe(505);
  });

  it('invalid UTF-8 and overlong encodings in a body are refused', async () => {
    for (const bytes of [
      [0xff, 0xfe],
      [0xc0, 0x80],
      [0xed, 0xa0, 0x80],
    ]) {
      const response = await t.app.inject(
        authed(token, {
          method: 'POST',
          url: '/api/v1/tasks/',
          headers: { 'content-type': 'application/json' },
          payload: Buffer.concat([Buffer.from('{"title":"a'), Buffer.from(bytes), Buffer.from('"}')]),
        }),
      );
      expect(response.statusCode).toBe(400);
      expect(response.json()).toEqual({ error: 'Request body is not valid UTF-8.' });
    }
  });

  it('a query string that is not percent-encoded UTF-8 is refused on every route, before the route runs', async () => {
    const bad = [
      '%FF', // not a UTF-8 byte
      '%ED%A0%80', // an encoded lone surrogate
      '%C0%80', // an overlong NUL
      'caf%C3', // a truncated sequence
      '%ZZ', // not an escape
      '100%', // a lone %
    ];
    const routes = [
      ['GET', '/api/v1/tasks/', 'q'],
      ['GET', '/api/v1/tasks/counts/', 'q'],
      ['GET', '/api/v1/tasks/1/', 'x'],
      ['POST', '/api/v1/tasks/bulk/', 'x'],
      ['GET', '/api/v1/users/info/', 'x'],
      ['GET', '/api/v1/test/', 'x'],
      ['GET', '/no/such/route', 'x'],
    ] as const;
    for (const [method, path, name] of routes) {
      for (const value of bad) {
        for (const query of [`${name}=${value}`, `a=1&${value}=b`]) {
          const response = await t.app.inject(authed(token, { method, url: `${path}?${query}` }));
          expect(response.statusCode, `${method} ${path}?${query}`).toBe(400);
          expect(response.json()).toEqual({ error: MALFORMED_QUERY_MESSAGE });
        }
      }
    }
    // Well-formed escapes of any text pass (and a + is a space, as forms send it).
    for (const query of ['q=caf%C3%A9', 'q=%F0%9F%98%80', 'q=caf%C3%A9+noir', 'q=100%25', 'q=a&completed=false']) {
      const response = await t.app.inject(authed(token, { method: 'GET', url: `/api/v1/tasks/?${query}` }));
      expect(response.statusCode, query).toBe(200);
    }
  });

  it('raw bytes above 0x7F in a query string are refused in JSON rather than read as Latin-1', async () => {
    for (const bytes of [[0xff], [0xc3, 0xa9]]) {
      const response = await rawExchange(port, [
        Buffer.concat([
          Buffer.from('GET /api/v1/test/?q=caf'),
          Buffer.from(bytes),
          Buffer.from(' HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'),
        ]),
      ]);
      // Node's parser refuses them before any step runs, so a query string that reaches wire-framing is ASCII.
      expect(response.statusCode, String(bytes)).toBe(400);
      expect(JSON.parse(response.body)).toEqual({ error: 'Malformed HTTP request.' });
      expectSecured(response);
    }
  });

  it('C1 control characters are refused by the API and by the database', async () => {
    for (const payload of [{ title: 'a\u0085b' }, { title: 'ok', description: 'a\u009bb' }]) {
      const response = await t.app.inject(authed(token, { method: 'POST', url: '/api/v1/tasks/', payload }));
      expect(response.statusCode).toBe(400);
    }
    const signupResponse = await t.app.inject({
      method: 'POST',
      url: '/api/v1/users/signup/',
      payload: { email: 'c1@example.com', password: 'abcdefg\u0085hijk-long' },
    });
    expect(signupResponse.statusCode).toBe(400);
    await expect(
      t.database.db.execute("INSERT INTO tasks (user_id, title) SELECT id, E'a\\u0085b' FROM users LIMIT 1" as never),
    ).rejects.toThrow();
  });

  it('unknown fields are named whatever they are called', async () => {
    const response = await t.app.inject(
      authed(token, {
        method: 'POST',
        url: '/api/v1/tasks/',
        headers: { 'content-type': 'application/json' },
        payload: '{"title":"x","toString":1,"constructor":2,"a/b":3,"c~d":4}',
      }),
    );
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({
      error: 'Invalid request body.',
      fields: {
        toString: 'is not an allowed field',
        constructor: 'is not an allowed field',
        'a/b': 'is not an allowed field',
        'c~d': 'is not an allowed field',
      },
    });
  });
});

describe('probes and aborted clients', () => {
  it.each(['/healthz/', '/healthz?probe=1', '/readyz/'])('%s is exempt from the Host check', async (url) => {
    const response = await t.app.inject({ method: 'GET', url, headers: { host: '10.0.0.5' } });
    expect(response.statusCode).toBe(200);
  });

  it('a client that hangs up mid-body is not logged as a database outage', async () => {
    await new Promise<void>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write(
          'POST /api/v1/users/login/ HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"email":',
        );
        setTimeout(() => {
          socket.destroy();
          resolve();
        }, 100);
      });
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(t.logs.text).not.toContain('database unavailable');
    expect((await t.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
  });
});

describe('slow senders', () => {
  let slow: TestApp;
  let slowPort: number;
  beforeAll(async () => {
    slow = await startTestApp('embedded', { REQUEST_BODY_TIMEOUT: '500ms' });
    slowPort = await listenOnLoopback(slow.app);
  });
  afterAll(async () => {
    await slow?.close();
  });

  it('a body trickled one byte at a time gets 408 at the deadline and the connection is closed', async () => {
    const head =
      'POST /api/v1/users/login/ HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{';
    const trickle = Array.from({ length: 20 }, () => [{ wait: 200 }, ' ']).flat();
    const started = Date.now();
    const response = await rawExchange(slowPort, [head, ...trickle], 8_000);
    const elapsed = Date.now() - started;
    expect(response.statusCode).toBe(408);
    expect(JSON.parse(response.body)).toEqual({ error: 'Request body took too long to arrive.' });
    expect(response.headers.connection).toBe('close');
    expect(elapsed).toBeLessThan(3_000);
    expect((await slow.app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });

  it('a body that arrives in time is not affected', async () => {
    const body = '{"email":"nobody@example.com","password":"wrong password!"}';
    const response = await rawExchange(slowPort, [
      `POST /api/v1/users/login/ HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
      { wait: 200 },
      body,
    ]);
    expect(response.statusCode).toBe(401);
  });
});
