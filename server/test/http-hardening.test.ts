import { expectError, rawExchange } from '@ironclad/testkit/raw-http';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authed, GOOD_PASSWORD, listenOnLoopback, signup, startTestApp, type TestApp, uniqueEmail } from './helpers.js';

const NOT_FOUND = { error: 'The requested resource was not found.' };
const BAD_HOST = { error: 'Invalid Host header.' };
const TOO_MANY = 'Too many attempts; try again later.';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

type Headers = Record<string, string | string[] | number | undefined>;

/** The headers every answer must carry, and the ones it must not. */
function expectSecurityHeaders(headers: Headers, label = ''): void {
  expect(headers['x-content-type-options'], `${label} x-content-type-options`).toBe('nosniff');
  expect(headers['x-frame-options'], `${label} x-frame-options`).toBe('DENY');
  expect(headers['referrer-policy'], `${label} referrer-policy`).toBe('no-referrer');
  expect(String(headers['content-security-policy']), `${label} content-security-policy`).toContain(
    "default-src 'none'",
  );
  const hsts = String(headers['strict-transport-security']);
  expect(hsts, `${label} strict-transport-security`).toMatch(/(^|;)\s*max-age=63072000\s*(;|$)/);
  expect(hsts, `${label} strict-transport-security`).toMatch(/(^|;)\s*includeSubDomains\s*(;|$)/i);
  expect(headers['cache-control'], `${label} cache-control`).toBe('no-store');
  expect(String(headers.vary), `${label} vary`).toMatch(/(^|,)\s*Origin\s*(,|$)/i);
  expect(String(headers['x-request-id']), `${label} x-request-id`).toMatch(UUID);
  expect(headers, `${label} x-powered-by`).not.toHaveProperty('x-powered-by');
  expect(headers, `${label} server`).not.toHaveProperty('server');
}

function corsHeaderNames(headers: Headers): string[] {
  return Object.keys(headers).filter((name) => name.startsWith('access-control-'));
}

// ---------------------------------------------------------------------------
// Raw sockets, for what app.inject cannot send.

async function waitFor<T>(probe: () => T | undefined, timeoutMs = 2_000): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function expectHealthy(app: TestApp): Promise<void> {
  const response = await app.app.inject({ method: 'GET', url: '/healthz' });
  expect(response.statusCode).toBe(200);
  expect(response.json()).toEqual({ status: 'ok' });
}

// ---------------------------------------------------------------------------

let t: TestApp;
let port: number;
let token: string;

const inject = (options: InjectOptions): Promise<LightMyRequestResponse> => t.app.inject(options);

beforeAll(async () => {
  t = await startTestApp('embedded');
  port = await listenOnLoopback(t.app);
  token = (await signup(t.app)).token;
});

afterAll(async () => {
  await t?.close();
});

describe('unknown paths and wrong methods', () => {
  it.each([
    '/nope',
    '/api/v1/nope',
    '/api/v1/nope/',
    '/api/v2/test/',
    '/.env',
    '/.git/config',
    '/admin/',
    '/wp-login.php',
    '/api/v1/users/',
    '/api/v1/tasks/1/extra/',
    '/../../etc/passwd',
    '/api/v1/..%2f..%2fetc%2fpasswd',
    '/%2e%2e/%2e%2e/etc/passwd',
  ])('GET %s -> 404 with the generic body', async (url) => {
    const response = await inject({ method: 'GET', url });
    expectError(response, 404, NOT_FOUND);
    expectSecurityHeaders(response.headers, url);
  });

  it.each([
    ['DELETE', '/api/v1/test/', ['GET', 'HEAD']],
    ['POST', '/api/v1/test/', ['GET', 'HEAD']],
    ['GET', '/api/v1/users/login/', ['POST']],
    ['PUT', '/api/v1/users/signup/', ['POST']],
    ['PATCH', '/api/v1/tasks/', ['GET', 'HEAD', 'POST']],
    ['DELETE', '/api/v1/tasks/', ['GET', 'HEAD', 'POST']],
    ['POST', '/api/v1/tasks/1/', ['DELETE', 'GET', 'HEAD', 'PATCH', 'PUT']],
    ['POST', '/healthz', ['GET', 'HEAD']],
  ] as const)('%s %s -> 405 with Allow', async (method, url, allowed) => {
    const response = await inject({ method, url });
    const body = expectError(response, 405);
    expect(body.error).toBe(`Method ${method} is not allowed here.`);
    expect(body.allowed).toEqual(allowed);
    const allow = String(response.headers.allow)
      .split(',')
      .map((part) => part.trim())
      .sort();
    expect(allow).toEqual([...allowed].sort());
    expectSecurityHeaders(response.headers, `${method} ${url}`);
  });

  it('answers 405 the same with and without the trailing slash', async () => {
    const a = await inject({ method: 'DELETE', url: '/api/v1/test/' });
    const b = await inject({ method: 'DELETE', url: '/api/v1/test' });
    expect(b.statusCode).toBe(405);
    expect(b.body).toBe(a.body);
    expect(b.headers.allow).toBe(a.headers.allow);
  });

  it('answers OPTIONS without CORS headers on a known path with 204 and Allow', async () => {
    for (const [url, allowed] of [
      ['/api/v1/test/', ['GET', 'HEAD']],
      ['/api/v1/tasks/', ['GET', 'HEAD', 'POST']],
      ['/api/v1/tasks/5/', ['DELETE', 'GET', 'HEAD', 'PATCH', 'PUT']],
      ['/api/v1/users/login/', ['POST']],
    ] as const) {
      const response = await inject({ method: 'OPTIONS', url });
      expect(response.statusCode, url).toBe(204);
      expect(response.body).toBe('');
      const allow = String(response.headers.allow)
        .split(',')
        .map((part) => part.trim())
        .sort();
      expect(allow).toEqual([...allowed]);
      expect(corsHeaderNames(response.headers)).toEqual([]);
      expectSecurityHeaders(response.headers, `OPTIONS ${url}`);
    }
  });

  it('answers OPTIONS on an unknown path with 404', async () => {
    expectError(await inject({ method: 'OPTIONS', url: '/nope' }), 404, NOT_FOUND);
  });

  it('stays healthy', async () => {
    await expectHealthy(t);
  });
});

describe('connection-level garbage on a real socket', () => {
  const host = () => `Host: 127.0.0.1:${port}\r\n`;

  it.each([
    ['a request line that is not HTTP', 'HELLO WORLD\r\n\r\n'],
    ['an unknown HTTP version', 'GET /api/v1/test/ HTTP/9.9\r\nHost: localhost\r\n\r\n'],
    ['a header without a colon', 'GET /api/v1/test/ HTTP/1.1\r\nHost: localhost\r\nNoColonHere\r\n\r\n'],
    ['a space in a header name', 'GET /api/v1/test/ HTTP/1.1\r\nHost: localhost\r\nBad Header: x\r\n\r\n'],
    ['a TLS ClientHello', Buffer.from('16030100a5010000a10303', 'hex')],
    ['binary garbage', Buffer.from([0, 1, 2, 3, 0xff, 0xfe, 13, 10, 13, 10])],
  ])('answers %s with 400 JSON', async (_name, data) => {
    const response = await rawExchange(port, data);
    expectError(response, 400, { error: 'Malformed HTTP request.' });
    await expectHealthy(t);
  });

  it('answers an HTTP/0.9 request (no version) with 505 JSON', async () => {
    const response = await rawExchange(port, 'GET /api/v1/test/\r\n\r\n');
    expectError(response, 505, { error: 'HTTP version not supported.' });
    await expectHealthy(t);
  });

  it('answers headers over 16 KiB with 431 JSON', async () => {
    const oneBig = await rawExchange(
      port,
      `GET /api/v1/test/ HTTP/1.1\r\n${host()}X-Big: ${'a'.repeat(17 * 1024)}\r\nConnection: close\r\n\r\n`,
    );
    expectError(oneBig, 431, { error: 'Request headers are too large.' });
    let many = '';
    for (let i = 0; i < 1_000; i++) many += `X-H${i}: ${'b'.repeat(20)}\r\n`;
    const manySmall = await rawExchange(port, `GET /api/v1/test/ HTTP/1.1\r\n${host()}${many}\r\n`);
    expectError(manySmall, 431, { error: 'Request headers are too large.' });
    const hugeUrl = await rawExchange(
      port,
      `GET /api/v1/tasks/?q=${'c'.repeat(20 * 1024)} HTTP/1.1\r\n${host()}Connection: close\r\n\r\n`,
    );
    expect([414, 431]).toContain(hugeUrl.statusCode);
    expectError(hugeUrl, hugeUrl.statusCode);
    await expectHealthy(t);
  });

  it.each(['/api/v1/%zz', '/api/v1/tasks/%zz/', '/api/v1/tasks/%/', '/%E0%A4%A', '/api/v1/test/%ff%fe'])(
    'answers invalid percent-encoding in %s with a JSON 4xx',
    async (path) => {
      const response = await rawExchange(port, `GET ${path} HTTP/1.1\r\n${host()}Connection: close\r\n\r\n`);
      expect([400, 404], response.body).toContain(response.statusCode);
      const body = expectError(response, response.statusCode);
      if (response.statusCode === 400) expect(body).toEqual({ error: 'Malformed URL.' });
      else expect(body).toEqual(NOT_FOUND);
      await expectHealthy(t);
    },
  );

  it('sends the security headers with a malformed-URL answer too', async () => {
    const response = await rawExchange(port, `GET /api/v1/%zz HTTP/1.1\r\n${host()}Connection: close\r\n\r\n`);
    expect(response.statusCode).toBe(400);
    expectSecurityHeaders(response.headers, 'GET /api/v1/%zz');
  });

  it('sends the security headers with connection-level 400 and 431 answers too', async () => {
    const garbage = await rawExchange(port, 'HELLO WORLD\r\n\r\n');
    const big = await rawExchange(port, `GET / HTTP/1.1\r\n${host()}X-Big: ${'a'.repeat(17 * 1024)}\r\n\r\n`);
    for (const [label, response] of [
      ['400', garbage],
      ['431', big],
    ] as const) {
      const h = response.headers;
      // No request exists yet, so no request id or Vary; the rest applies.
      expect(h['x-content-type-options'], label).toBe('nosniff');
      expect(h['x-frame-options'], label).toBe('DENY');
      expect(h['cache-control'], label).toBe('no-store');
      expect(h['referrer-policy'], `${label} referrer-policy`).toBe('no-referrer');
      expect(String(h['content-security-policy']), `${label} content-security-policy`).toContain("default-src 'none'");
      expect(String(h['strict-transport-security']), `${label} strict-transport-security`).toMatch(
        /max-age=63072000.*includeSubDomains/i,
      );
      expect(h, label).not.toHaveProperty('server');
      expect(h, label).not.toHaveProperty('x-powered-by');
    }
  });

  it('answers a missing Host header with 400 JSON', async () => {
    for (const data of [
      'GET /api/v1/test/ HTTP/1.1\r\nConnection: close\r\n\r\n',
      'GET /api/v1/test/ HTTP/1.0\r\n\r\n',
    ]) {
      const response = await rawExchange(port, data);
      expectError(response, 400, BAD_HOST);
      expectSecurityHeaders(response.headers, 'no Host');
    }
  });

  it('answers a real request over the socket without Server or X-Powered-By', async () => {
    const response = await rawExchange(port, `GET /api/v1/test/ HTTP/1.1\r\n${host()}Connection: close\r\n\r\n`);
    expect(response.statusCode).toBe(200);
    expect(JSON.parse(response.body)).toEqual({ connected: true });
    expectSecurityHeaders(response.headers, 'socket 200');
    const missing = await rawExchange(port, `GET /.env HTTP/1.1\r\n${host()}Connection: close\r\n\r\n`);
    expectError(missing, 404, NOT_FOUND);
    expectSecurityHeaders(missing.headers, 'socket 404');
  });

  it('stays healthy', async () => {
    await expectHealthy(t);
    const response = await rawExchange(port, `GET /healthz HTTP/1.1\r\n${host()}Connection: close\r\n\r\n`);
    expect(response.statusCode).toBe(200);
  });
});

describe('security headers on every answer', () => {
  const cases: [string, InjectOptions, number][] = [
    ['200', { method: 'GET', url: '/api/v1/test/' }, 200],
    ['200 healthz', { method: 'GET', url: '/healthz' }, 200],
    [
      '400 malformed JSON',
      {
        method: 'POST',
        url: '/api/v1/users/signup/',
        payload: '{bad',
        headers: { 'content-type': 'application/json' },
      },
      400,
    ],
    ['400 schema', { method: 'POST', url: '/api/v1/users/signup/', payload: { email: 1 } }, 400],
    ['400 Host', { method: 'GET', url: '/api/v1/test/', headers: { host: 'evil.com' } }, 400],
    ['400 malformed URL', { method: 'GET', url: '/api/v1/%zz' }, 400],
    ['401 no credentials', { method: 'GET', url: '/api/v1/tasks/' }, 401],
    ['401 bad token', { method: 'GET', url: '/api/v1/tasks/', headers: { authorization: 'Token nope' } }, 401],
    ['404', { method: 'GET', url: '/nope' }, 404],
    ['404 long id', { method: 'GET', url: `/api/v1/tasks/${'9'.repeat(200)}/` }, 404],
    ['405', { method: 'DELETE', url: '/api/v1/test/' }, 405],
    [
      '413',
      {
        method: 'POST',
        url: '/api/v1/users/signup/',
        payload: JSON.stringify({ email: 'x'.repeat(70_000) }),
        headers: { 'content-type': 'application/json' },
      },
      413,
    ],
    [
      '415',
      {
        method: 'POST',
        url: '/api/v1/users/signup/',
        payload: 'a=b',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      },
      415,
    ],
  ];

  it.each(cases)('%s', async (label, options, status) => {
    const response = await inject(options);
    expect(response.statusCode, response.body.slice(0, 200)).toBe(status);
    if (status >= 400) expectError(response, status);
    expectSecurityHeaders(response.headers, label);
  });

  it('on authenticated answers, including a created task', async () => {
    const created = await inject(authed(token, { method: 'POST', url: '/api/v1/tasks/', payload: { title: 'h' } }));
    expect(created.statusCode).toBe(201);
    expectSecurityHeaders(created.headers, '201');
    const list = await inject(authed(token, { method: 'GET', url: '/api/v1/tasks/' }));
    expectSecurityHeaders(list.headers, 'list');
  });

  it('gives every answer its own request id, and never takes one from the client', async () => {
    const a = await inject({ method: 'GET', url: '/api/v1/test/', headers: { 'x-request-id': 'attacker-chosen' } });
    const b = await inject({ method: 'GET', url: '/api/v1/test/' });
    expect(a.headers['x-request-id']).toMatch(UUID);
    expect(a.headers['x-request-id']).not.toBe(b.headers['x-request-id']);
  });

  it('stays healthy', async () => {
    await expectHealthy(t);
  });
});

describe('Host allowlist (default localhost,127.0.0.1,[::1])', () => {
  it.each([
    'localhost',
    'localhost:8000',
    'LOCALHOST',
    'LocalHost:80',
    'localhost.',
    'localhost.:8000',
    '127.0.0.1',
    '127.0.0.1:1234',
    '[::1]',
    '[::1]:8000',
  ])('accepts Host %s', async (host) => {
    const response = await inject({ method: 'GET', url: '/api/v1/test/', headers: { host } });
    expect(response.statusCode, `${host}: ${response.body}`).toBe(200);
    expect(response.json()).toEqual({ connected: true });
  });

  it.each([
    'evil.com',
    'evil.com:8000',
    'localhost.evil.com',
    'evillocalhost',
    '127.0.0.2',
    '[::2]',
    '0.0.0.0',
    'local host',
    'localhost:abc',
    'localhost:',
    'localhost:80:80',
    'localhost:123456',
    'a..b',
    '[::1',
    '::1',
    '[::1]x',
    '[::1]:abc',
    '-bad.com',
    'bad-.com',
    'exa_mple.com',
    'localhost@evil.com',
    'evil.com#localhost',
    'localhost/evil',
    'localhost\\evil.com',
    '..',
    '.',
  ])('refuses Host %s with 400', async (host) => {
    const response = await inject({ method: 'GET', url: '/api/v1/test/', headers: { host } });
    expectError(response, 400, BAD_HOST);
    expectSecurityHeaders(response.headers, `Host ${host}`);
  });

  it('refuses a bad Host before authentication or body parsing', async () => {
    const response = await inject({
      method: 'POST',
      url: '/api/v1/tasks/',
      payload: '{bad json',
      headers: { host: 'evil.com', 'content-type': 'application/json' },
    });
    expectError(response, 400, BAD_HOST);
    const login = await inject({
      method: 'POST',
      url: '/api/v1/users/login/',
      payload: { email: uniqueEmail(), password: GOOD_PASSWORD },
      headers: { host: 'evil.com' },
    });
    expectError(login, 400, BAD_HOST);
  });

  it('does not let X-Forwarded-Host from an untrusted client stand in for Host', async () => {
    const forged = await inject({
      method: 'GET',
      url: '/api/v1/test/',
      headers: { host: 'evil.com', 'x-forwarded-host': 'localhost' },
    });
    expectError(forged, 400, BAD_HOST);
    const ignored = await inject({
      method: 'GET',
      url: '/api/v1/test/',
      headers: { host: 'localhost', 'x-forwarded-host': 'evil.com' },
    });
    expect(ignored.statusCode).toBe(200);
  });

  it('exempts /healthz and /readyz from the Host check, but not the API', async () => {
    for (const url of ['/healthz', '/readyz']) {
      const response = await inject({ method: 'GET', url, headers: { host: 'evil.com' } });
      expect(response.statusCode, url).toBe(200);
    }
    expectError(await inject({ method: 'GET', url: '/api/v1/test/', headers: { host: 'evil.com' } }), 400, BAD_HOST);
    expectError(
      await inject({ method: 'GET', url: '/api/v1/openapi.json', headers: { host: 'evil.com' } }),
      400,
      BAD_HOST,
    );
  });

  it('stays healthy', async () => {
    await expectHealthy(t);
  });

  describe('with ALLOWED_HOSTS=.example.com', () => {
    let sub: TestApp;
    beforeAll(async () => {
      sub = await startTestApp('embedded', { ALLOWED_HOSTS: '.example.com' });
    });
    afterAll(async () => {
      await sub?.close();
    });

    it.each(['example.com', 'api.example.com', 'A.B.Example.COM', 'example.com:443', 'api.example.com.'])(
      'accepts %s',
      async (host) => {
        const response = await sub.app.inject({ method: 'GET', url: '/api/v1/test/', headers: { host } });
        expect(response.statusCode, `${host}: ${response.body}`).toBe(200);
      },
    );

    it.each([
      'evilexample.com',
      'example.com.evil.org',
      'example.co',
      'localhost',
      'example.com@evil.org',
      'xexample.com',
    ])('refuses %s', async (host) => {
      expectError(await sub.app.inject({ method: 'GET', url: '/api/v1/test/', headers: { host } }), 400, BAD_HOST);
    });

    it('stays healthy', async () => {
      await expectHealthy(sub);
    });
  });

  describe('with TRUST_PROXY=127.0.0.1', () => {
    let proxied: TestApp;
    beforeAll(async () => {
      proxied = await startTestApp('embedded', { TRUST_PROXY: '127.0.0.1' });
    });
    afterAll(async () => {
      await proxied?.close();
    });

    it('lets X-Forwarded-Host from the trusted proxy decide', async () => {
      const allowed = await proxied.app.inject({
        method: 'GET',
        url: '/api/v1/test/',
        headers: { host: 'evil.com', 'x-forwarded-host': 'localhost' },
      });
      expect(allowed.statusCode, allowed.body).toBe(200);
      const refused = await proxied.app.inject({
        method: 'GET',
        url: '/api/v1/test/',
        headers: { host: 'localhost', 'x-forwarded-host': 'evil.com' },
      });
      expectError(refused, 400, BAD_HOST);
    });

    it('ignores X-Forwarded-Host from any other address', async () => {
      const forged = await proxied.app.inject({
        method: 'GET',
        url: '/api/v1/test/',
        remoteAddress: '203.0.113.7',
        headers: { host: 'evil.com', 'x-forwarded-host': 'localhost' },
      });
      expectError(forged, 400, BAD_HOST);
      const ignored = await proxied.app.inject({
        method: 'GET',
        url: '/api/v1/test/',
        remoteAddress: '203.0.113.7',
        headers: { host: 'localhost', 'x-forwarded-host': 'evil.com' },
      });
      expect(ignored.statusCode).toBe(200);
    });

    it('stays healthy', async () => {
      await expectHealthy(proxied);
    });
  });
});

describe('CORS with CORS_ALLOWED_ORIGINS=https://app.example.com', () => {
  const ALLOWED = 'https://app.example.com';
  let c: TestApp;
  beforeAll(async () => {
    c = await startTestApp('embedded', { CORS_ALLOWED_ORIGINS: ALLOWED });
  });
  afterAll(async () => {
    await c?.close();
  });

  it('grants the listed origin on a simple request, with credentials', async () => {
    const response = await c.app.inject({ method: 'GET', url: '/api/v1/test/', headers: { origin: ALLOWED } });
    expect(response.statusCode).toBe(200);
    expect(response.headers['access-control-allow-origin']).toBe(ALLOWED);
    expect(response.headers['access-control-allow-credentials']).toBe('true');
    expect(String(response.headers.vary)).toMatch(/\bOrigin\b/i);
    expectSecurityHeaders(response.headers, 'cors simple');
  });

  it.each([
    'https://evil.example.com',
    'http://app.example.com',
    'https://app.example.com:8443',
    'https://app.example.com.evil.org',
    'https://APP.EXAMPLE.COM',
    'https://app.example.com/',
    'null',
    'file://',
  ])('grants nothing to %s on a simple request', async (origin) => {
    const response = await c.app.inject({ method: 'GET', url: '/api/v1/test/', headers: { origin } });
    expect(response.statusCode).toBe(200);
    expect(response.headers).not.toHaveProperty('access-control-allow-origin');
    expect(response.headers).not.toHaveProperty('access-control-allow-credentials');
    expect(String(response.headers.vary)).toMatch(/\bOrigin\b/i);
  });

  it('answers a preflight from the listed origin with 204 and the allowed methods', async () => {
    const response = await c.app.inject({
      method: 'OPTIONS',
      url: '/api/v1/tasks/',
      headers: {
        origin: ALLOWED,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    });
    expect(response.statusCode).toBe(204);
    expect(response.headers['access-control-allow-origin']).toBe(ALLOWED);
    expect(response.headers['access-control-allow-credentials']).toBe('true');
    const methods = String(response.headers['access-control-allow-methods'])
      .split(',')
      .map((part) => part.trim());
    expect(methods).toEqual(expect.arrayContaining(['GET', 'POST', 'PATCH', 'DELETE']));
    expect(String(response.headers['access-control-allow-headers']).toLowerCase()).toContain('authorization');
    expect(String(response.headers.vary)).toMatch(/\bOrigin\b/i);
  });

  it.each(['https://evil.example.com', 'null', 'http://app.example.com'])(
    'refuses a preflight from %s with 403 JSON and no access-control headers',
    async (origin) => {
      const response = await c.app.inject({
        method: 'OPTIONS',
        url: '/api/v1/tasks/',
        headers: { origin, 'access-control-request-method': 'POST' },
      });
      expectError(response, 403, { error: 'Origin not allowed.' });
      expect(corsHeaderNames(response.headers)).toEqual([]);
      expectSecurityHeaders(response.headers, `preflight ${origin}`);
    },
  );

  it('puts Vary: Origin on every answer, errors included', async () => {
    for (const options of [
      { method: 'GET', url: '/nope', headers: { origin: ALLOWED } },
      { method: 'GET', url: '/api/v1/tasks/', headers: { origin: ALLOWED } },
      { method: 'GET', url: '/api/v1/tasks/' },
      { method: 'DELETE', url: '/api/v1/test/' },
      { method: 'GET', url: '/api/v1/test/', headers: { host: 'evil.com', origin: ALLOWED } },
    ] as InjectOptions[]) {
      const response = await c.app.inject(options);
      expect(String(response.headers.vary), `${options.method} ${options.url}`).toMatch(/\bOrigin\b/i);
    }
  });

  it('never grants any origin on the default app (no origins configured)', async () => {
    const response = await inject({ method: 'GET', url: '/api/v1/test/', headers: { origin: 'http://localhost' } });
    expect(corsHeaderNames(response.headers)).toEqual([]);
    const preflight = await inject({
      method: 'OPTIONS',
      url: '/api/v1/test/',
      headers: { origin: 'http://localhost', 'access-control-request-method': 'GET' },
    });
    expectError(preflight, 403, { error: 'Origin not allowed.' });
    expect(corsHeaderNames(preflight.headers)).toEqual([]);
  });

  it('stays healthy', async () => {
    await expectHealthy(c);
  });
});

const FROM_UNKNOWN =
  'Too many failed sign-ins for this account from unknown devices; try again later, or from a browser that signed in to it before.';

describe('rate limits', () => {
  function login(app: TestApp, email: string, remoteAddress = '127.0.0.1') {
    return app.app.inject({
      method: 'POST',
      url: '/api/v1/users/login/',
      remoteAddress,
      payload: { email, password: 'not the right password' },
    });
  }

  function expectTooMany(response: LightMyRequestResponse, message = TOO_MANY): void {
    const body = expectError(response, 429);
    expect(body.error).toBe(message);
    expect(Object.keys(body).sort()).toEqual(['error', 'retry_after']);
    expect(typeof body.retry_after).toBe('number');
    expect(Number.isInteger(body.retry_after)).toBe(true);
    expect(body.retry_after as number).toBeGreaterThanOrEqual(1);
    expect(body.retry_after as number).toBeLessThanOrEqual(60);
    const header = String(response.headers['retry-after']);
    expect(header).toMatch(/^[1-9][0-9]*$/);
    expect(Number(header)).toBeLessThanOrEqual(60);
    expectSecurityHeaders(response.headers, '429');
  }

  describe('RATE_LIMIT_LOGIN=3/1m', () => {
    let r: TestApp;
    beforeAll(async () => {
      r = await startTestApp('embedded', { RATE_LIMIT_LOGIN: '3/1m' });
    });
    afterAll(async () => {
      await r?.close();
    });

    it('answers the 4th login attempt from one IP with 429 and Retry-After', async () => {
      for (let i = 0; i < 3; i++) {
        const response = await login(r, uniqueEmail('ip'), '198.51.100.1');
        expectError(response, 401, { error: 'Invalid email or password.' });
      }
      const fourth = await login(r, uniqueEmail('ip'), '198.51.100.1');
      expectTooMany(fourth);
      // Even the right password is refused while limited.
      const { email } = await signup(r.app);
      const right = await r.app.inject({
        method: 'POST',
        url: '/api/v1/users/login/',
        remoteAddress: '198.51.100.1',
        payload: { email, password: GOOD_PASSWORD },
      });
      expectTooMany(right);
      // Another address is not affected.
      const other = await login(r, uniqueEmail('ip'), '198.51.100.2');
      expectError(other, 401, { error: 'Invalid email or password.' });
    });

    it('counts malformed attempts too, and stays healthy', async () => {
      for (let i = 0; i < 3; i++) {
        const response = await r.app.inject({
          method: 'POST',
          url: '/api/v1/users/login/',
          remoteAddress: '198.51.100.9',
          payload: '{bad',
          headers: { 'content-type': 'application/json' },
        });
        expect(response.statusCode).toBe(400);
      }
      expectTooMany(await login(r, uniqueEmail('ip'), '198.51.100.9'));
      await expectHealthy(r);
    });
  });

  describe('RATE_LIMIT_LOGIN_ACCOUNT=2/1m with RATE_LIMIT_LOGIN=100/1m (wrong passwords from unknown clients)', () => {
    let r: TestApp;
    beforeAll(async () => {
      r = await startTestApp('embedded', { RATE_LIMIT_LOGIN: '100/1m', RATE_LIMIT_LOGIN_ACCOUNT: '2/1m' });
    });
    afterAll(async () => {
      await r?.close();
    });

    it('limits wrong passwords on one email across IPs, and not on other emails', async () => {
      const { email } = await signup(r.app);
      expectError(await login(r, email, '203.0.113.1'), 401, { error: 'Invalid email or password.' });
      expectError(await login(r, email, '203.0.113.2'), 401, { error: 'Invalid email or password.' });
      expectTooMany(await login(r, email, '203.0.113.3'), FROM_UNKNOWN);
      // The same account in another spelling is the same account.
      expectTooMany(await login(r, ` ${email.toUpperCase()} `, '203.0.113.4'), FROM_UNKNOWN);
      expectError(await login(r, uniqueEmail('other'), '203.0.113.3'), 401, { error: 'Invalid email or password.' });
      await expectHealthy(r);
    });
  });

  describe('RATE_LIMIT_SIGNUP=2/1m', () => {
    let r: TestApp;
    beforeAll(async () => {
      r = await startTestApp('embedded', { RATE_LIMIT_SIGNUP: '2/1m' });
    });
    afterAll(async () => {
      await r?.close();
    });

    it('answers the 3rd signup from one IP with 429', async () => {
      const attempt = (remoteAddress: string) =>
        r.app.inject({
          method: 'POST',
          url: '/api/v1/users/signup/',
          remoteAddress,
          payload: { email: uniqueEmail('limited'), password: GOOD_PASSWORD },
        });
      expect((await attempt('192.0.2.10')).statusCode).toBe(201);
      expect((await attempt('192.0.2.10')).statusCode).toBe(201);
      expectTooMany(await attempt('192.0.2.10'));
      expect((await attempt('192.0.2.11')).statusCode).toBe(201);
      await expectHealthy(r);
    });
  });
});

describe('logs', () => {
  it('never contain passwords, tokens or Authorization values', async () => {
    const password = `Sekret-${Math.random().toString(36).slice(2)}-pass`;
    const email = uniqueEmail('logs');
    const created = await inject({ method: 'POST', url: '/api/v1/users/signup/', payload: { email, password } });
    expect(created.statusCode, created.body).toBe(201);
    const sessionToken = created.json().token as string;
    const login = await inject({ method: 'POST', url: '/api/v1/users/login/', payload: { email, password } });
    expect(login.statusCode).toBe(200);
    const loginToken = login.json().token as string;
    const wrong = await inject({
      method: 'POST',
      url: '/api/v1/users/login/',
      payload: { email, password: `${password}-wrong` },
    });
    expect(wrong.statusCode).toBe(401);
    const forged = `ict_${'Z'.repeat(43)}`;
    const responses = [
      await inject({ method: 'GET', url: '/api/v1/users/info/', headers: { authorization: `Token ${sessionToken}` } }),
      await inject({ method: 'GET', url: '/api/v1/tasks/', headers: { authorization: `Bearer ${loginToken}` } }),
      await inject({ method: 'GET', url: '/api/v1/tasks/', headers: { authorization: `Token ${forged}` } }),
      await inject({
        method: 'GET',
        url: `/api/v1/tasks/?limit=5&password=${encodeURIComponent(password)}`,
        headers: { authorization: `Token ${sessionToken}` },
      }),
      await inject({
        method: 'POST',
        url: '/api/v1/tasks/',
        payload: `{"title": "${password}", broken`,
        headers: { authorization: `Token ${sessionToken}`, 'content-type': 'application/json' },
      }),
      await inject({
        method: 'GET',
        url: '/api/v1/test/',
        headers: { authorization: `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`, cookie: 's=1' },
      }),
    ];
    for (const response of responses) expect(response.statusCode).toBeLessThan(500);
    const last = responses.at(-1)?.headers['x-request-id'];
    await waitFor(() => t.logs.lines.find((line) => line.includes(String(last))));
    const text = t.logs.text;
    for (const secret of [
      password,
      encodeURIComponent(password),
      sessionToken,
      loginToken,
      forged,
      Buffer.from(`admin:${password}`).toString('base64'),
    ]) {
      expect(text.includes(secret), `a log line carries ${secret.slice(0, 8)}…`).toBe(false);
    }
    expect(text).not.toMatch(/authorization/i);
    expect(text).not.toMatch(/"cookie"/i);
    expect(text).not.toMatch(/\bict_[A-Za-z0-9_-]{43}\b/);
  });

  it('writes exactly one "request" line per request, with id, method, route, status and time', async () => {
    const requests: InjectOptions[] = [
      { method: 'GET', url: '/api/v1/test/' },
      { method: 'GET', url: '/api/v1/test/?secret=query-value' },
      { method: 'GET', url: '/nope' },
      { method: 'DELETE', url: '/api/v1/test/' },
      { method: 'GET', url: '/api/v1/test/', headers: { host: 'evil.com' } },
      { method: 'GET', url: '/api/v1/tasks/' },
      authed(token, { method: 'GET', url: '/api/v1/tasks/1/' }),
      { method: 'POST', url: '/api/v1/users/login/', payload: { email: uniqueEmail(), password: 'wrong one here' } },
      {
        method: 'POST',
        url: '/api/v1/users/signup/',
        payload: 'x=1',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      },
    ];
    const seen: { id: string; status: number; method: string }[] = [];
    for (const options of requests) {
      const response = await inject(options);
      seen.push({
        id: String(response.headers['x-request-id']),
        status: response.statusCode,
        method: options.method as string,
      });
    }
    const parsed = () =>
      t.logs.lines
        .map((line) => JSON.parse(line) as Record<string, unknown>)
        .filter((entry) => entry.msg === 'request');
    const lastId = seen.at(-1)?.id;
    await waitFor(() => parsed().find((entry) => entry.request_id === lastId));
    const entries = parsed();
    for (const { id, status, method } of seen) {
      const mine = entries.filter((entry) => entry.request_id === id);
      expect(mine, `request lines for ${method} ${id}`).toHaveLength(1);
      const entry = mine[0] as Record<string, unknown>;
      expect(entry).toHaveProperty('route');
      expect(entry.method).toBe(method);
      expect(entry.status).toBe(status);
      expect(typeof entry.ms).toBe('number');
      expect(entry.ms as number).toBeGreaterThanOrEqual(0);
      expect(entry.request_id).toMatch(UUID);
    }
    // No other line per request at info level (Fastify's default "incoming request" is gone).
    for (const { id } of seen) {
      const all = t.logs.lines.filter((line) => line.includes(id));
      expect(all, `log lines for ${id}`).toHaveLength(1);
    }
    const routeOf = (index: number) => entries.find((entry) => entry.request_id === seen[index]?.id)?.route;
    expect(routeOf(0)).toBe('/api/v1/test/');
    expect(routeOf(6)).toBe('/api/v1/tasks/:id/');
    expect(t.logs.text).not.toContain('query-value');
  });

  it('stays healthy', async () => {
    await expectHealthy(t);
  });
});
