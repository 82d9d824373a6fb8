/**
 * The request pipeline as app.ts documents it (its ordering rule), and the one error writer
 * (http/error-answer.ts): however an error is answered — by the error handler, by the router before
 * any hook, or straight on a socket — it carries the same headers, the same body shape and one
 * request line of the same shape.
 */
import { expectError, type RawAnswer, rawExchange } from '@ironclad/testkit/raw-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASELINE_HEADERS } from '../src/http/plugins/security-headers.js';
import { listenOnLoopback, rootPlugins, startTestApp, type TestApp } from './helpers.js';

/** The steps in app.ts's order; changing it is changing the security model, so it is spelled out here. */
const PIPELINE = [
  'request-body',
  'error-answers',
  'not-found',
  'openapi',
  'security-headers',
  'cookies',
  'request-id',
  'shutdown-gate',
  'wire-framing',
  'host-allowlist',
  'overload-guards',
  'cors',
  'rate-limits',
  'authentication',
];

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Headers about the connection and the message's length, which differ by who wrote the answer, not by policy. */
const TRANSPORT = new Set(['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding']);

/** What every error answer carries, whoever writes it. */
const ERROR_HEADERS = [...Object.keys(BASELINE_HEADERS), 'x-request-id', 'content-type'].sort();

/** The fields of the request line Fastify's lifecycle writes (RequestLogController). */
const REQUEST_LINE_FIELDS = [
  'level',
  'time',
  'service',
  'pid',
  'request_id',
  'method',
  'route',
  'path',
  'status',
  'ms',
  'msg',
].sort();

let t: TestApp;
let port: number;

beforeAll(async () => {
  t = await startTestApp('embedded', {}, undefined, (app) => {
    app.get('/crash', async () => {
      throw new Error('boom at /work/secret.ts');
    });
  });
  port = await listenOnLoopback(t.app);
});
afterAll(async () => {
  await t?.close();
});

async function requestLinesOf(id: string): Promise<Record<string, unknown>[]> {
  const lines = () =>
    t.logs.lines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.msg === 'request' && line.request_id === id);
  // The lifecycle writes its line when the response finishes, which may be just after the client has it.
  for (let i = 0; i < 40 && lines().length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 50));
  return lines();
}

describe('the pipeline', () => {
  it('registers the steps in the documented order, before any route', () => {
    expect(rootPlugins(t.app).slice(0, PIPELINE.length)).toEqual(PIPELINE);
  });

  it('registers each step once', () => {
    const plugins = rootPlugins(t.app);
    for (const step of PIPELINE)
      expect(
        plugins.filter((name) => name === step),
        step,
      ).toHaveLength(1);
  });

  // Each of these holds only with the steps in that order.
  it('a refused Host still carries the security headers and the request id (headers before the Host check)', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/api/v1/test/', headers: { host: 'evil.example' } });
    expect(response.statusCode).toBe(400);
    for (const [name, value] of Object.entries(BASELINE_HEADERS)) expect(response.headers[name], name).toBe(value);
    expect(response.headers['x-request-id']).toMatch(UUID);
  });

  it('ambiguous framing is refused before the Host is judged', async () => {
    const response = await rawExchange(
      port,
      'GET /api/v1/test/ HTTP/1.1\r\nHost: evil.example\r\nAuthorization: Token a\r\nAuthorization: Token b\r\nConnection: close\r\n\r\n',
    );
    expectError(response, 400, { error: 'The authorization header may be sent only once.' });
  });

  it('the Host is judged before CORS and before authentication', async () => {
    const preflight = await t.app.inject({
      method: 'OPTIONS',
      url: '/api/v1/tasks/',
      headers: { host: 'evil.example', origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.statusCode).toBe(400);
    expect(preflight.json()).toEqual({ error: 'Invalid Host header.' });
    const protectedRoute = await t.app.inject({
      method: 'GET',
      url: '/api/v1/tasks/',
      headers: { host: 'evil.example' },
    });
    expect(protectedRoute.statusCode).toBe(400);
    expect(protectedRoute.headers['www-authenticate']).toBeUndefined();
  });
});

describe('one writer for every error answer', () => {
  it.each([
    [
      'the error handler, for a step’s refusal',
      'GET /api/v1/test/ HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n',
      400,
    ],
    [
      'the error handler, for a path no route has',
      'GET /nope HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n',
      404,
    ],
    [
      'the router, for a bad percent-encoding',
      'GET /api/v1/tasks/%ZZ/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n',
      400,
    ],
    [
      'the router, for an over-long id',
      `GET /api/v1/tasks/${'1'.repeat(101)}/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`,
      404,
    ],
    ['a raw socket, for a malformed request line', 'HELLO WORLD\r\n\r\n', 400],
    ['a raw socket, for CONNECT', 'CONNECT localhost:443 HTTP/1.1\r\nHost: localhost:443\r\n\r\n', 405],
    [
      'a bare Node response, for an unknown Expect',
      'GET /api/v1/test/ HTTP/1.1\r\nHost: localhost\r\nExpect: foo\r\nConnection: close\r\n\r\n',
      417,
    ],
  ])('%s: the same headers, body shape and request line', async (_path, request, status) => {
    const response: RawAnswer = await rawExchange(port, request);
    const body = expectError(response, status);
    expect(Object.keys(body)).toEqual(['error']);

    const policy = Object.keys(response.headers)
      .filter((name) => !TRANSPORT.has(name))
      .sort();
    expect(policy).toEqual(ERROR_HEADERS);
    for (const [name, value] of Object.entries(BASELINE_HEADERS)) expect(response.headers[name], name).toBe(value);
    const id = response.headers['x-request-id'] as string;
    expect(id).toMatch(UUID);

    const lines = await requestLinesOf(id);
    expect(lines).toHaveLength(1);
    const line = lines[0] as Record<string, unknown>;
    // Answers written on a socket also say why (Node's error code, `expectation`, `connect`); nothing else differs.
    const { reason, ...common } = line;
    expect(Object.keys(common).sort()).toEqual(REQUEST_LINE_FIELDS);
    if (reason !== undefined) expect(reason).toBeTypeOf('string');
    expect(line.status).toBe(status);
    expect(line.ms).toBeTypeOf('number');
    for (const field of ['method', 'route', 'path'] as const) {
      expect(line[field] === null || typeof line[field] === 'string', field).toBe(true);
    }
  });

  it('a 500 gets the same headers, and its request id in the body', async () => {
    const response = await rawExchange(port, 'GET /crash HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    const body = expectError(response, 500);
    expect(body).toEqual({ error: 'Internal server error', request_id: response.headers['x-request-id'] });
    const policy = Object.keys(response.headers)
      .filter((name) => !TRANSPORT.has(name))
      .sort();
    expect(policy).toEqual(ERROR_HEADERS);
    expect(await requestLinesOf(body.request_id as string)).toHaveLength(1);
  });
});
