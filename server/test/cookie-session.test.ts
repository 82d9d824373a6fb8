/**
 * The browser session: an HttpOnly, SameSite=Strict cookie set at signup and login and cleared at
 * logout, accepted instead of the Authorization header, with a CSRF check (Sec-Fetch-Site / Origin)
 * on every state-changing request it authenticates. Header-authenticated requests are unaffected.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authed, GOOD_PASSWORD, signup, startTestApp, type TestApp, uniqueEmail } from './helpers.js';

const ALLOWED = 'https://app.example.com';
const EVIL = 'https://evil.example.com';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp('embedded', { CORS_ALLOWED_ORIGINS: ALLOWED, TRUST_PROXY: '127.0.0.1' });
});
afterAll(async () => {
  await t?.close();
});

function sessionCookieOf(setCookie: string | string[] | undefined): string {
  const header = Array.isArray(setCookie) ? setCookie.join('\n') : (setCookie ?? '');
  return header;
}

async function browserSignup(headers: Record<string, string> = { 'sec-fetch-site': 'same-origin' }) {
  const response = await t.app.inject({
    method: 'POST',
    url: '/api/v1/users/signup/',
    headers,
    payload: { email: uniqueEmail('cookie'), password: GOOD_PASSWORD },
  });
  expect(response.statusCode, response.body).toBe(201);
  return { response, token: cookieToken(response.headers['set-cookie']) };
}

function cookieToken(setCookie: string | string[] | undefined): string {
  const match = /ironclad_session=([^;]*)/.exec(sessionCookieOf(setCookie));
  if (!match?.[1]) throw new Error(`no session cookie in ${String(setCookie)}`);
  return match[1];
}

describe('the session cookie', () => {
  it('is the only place a browser gets the token: the body leaves it out (page scripts never see it)', async () => {
    const { response, token } = await browserSignup();
    const { email } = response.json();
    expect(response.json()).toEqual({ email });
    expect(token).toMatch(/^ict_/);
    const login = await t.app.inject({
      method: 'POST',
      url: '/api/v1/users/login/',
      headers: { 'sec-fetch-site': 'same-origin' },
      payload: { email, password: GOOD_PASSWORD },
    });
    expect(login.json()).toEqual({ email });
    expect(login.body).not.toContain('ict_');
    expect(cookieToken(login.headers['set-cookie'])).toMatch(/^ict_/);
  });

  it('leaves API clients (no Sec-Fetch-Site) the token in the body, as the seed does', async () => {
    const email = uniqueEmail('api-client');
    const response = await t.app.inject({
      method: 'POST',
      url: '/api/v1/users/signup/',
      payload: { email, password: GOOD_PASSWORD },
    });
    expect(response.json()).toEqual({ email, token: expect.stringMatching(/^ict_/) });
    expect(cookieToken(response.headers['set-cookie'])).toBe(response.json().token);
  });

  it('is set at signup and login: HttpOnly, SameSite=Strict, Path=/api/, for TOKEN_TTL, not Secure over HTTP', async () => {
    const { response, token } = await browserSignup();
    const cookie = sessionCookieOf(response.headers['set-cookie']);
    expect(cookie).toContain(`ironclad_session=${token}`);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    expect(cookie).toContain('Path=/api/');
    expect(cookie).toContain('Max-Age=604800');
    expect(cookie).not.toContain('Secure');
    const login = await t.app.inject({
      method: 'POST',
      url: '/api/v1/users/login/',
      payload: { email: response.json().email, password: GOOD_PASSWORD },
    });
    expect(sessionCookieOf(login.headers['set-cookie'])).toContain(`ironclad_session=${login.json().token}`);
    expect(login.json().token).toMatch(/^ict_/);
  });

  it('is Secure when the request came over HTTPS through a trusted proxy', async () => {
    const { response } = await browserSignup({ 'sec-fetch-site': 'same-origin', 'x-forwarded-proto': 'https' });
    expect(sessionCookieOf(response.headers['set-cookie'])).toContain('Secure');
  });

  it('authenticates reads without an Authorization header', async () => {
    const { token } = await browserSignup();
    const response = await t.app.inject({ method: 'GET', url: '/api/v1/tasks/', cookies: { ironclad_session: token } });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual([]);
  });

  it('logout clears it and kills the session', async () => {
    const { token } = await browserSignup();
    const logout = await t.app.inject({
      method: 'POST',
      url: '/api/v1/users/logout/',
      cookies: { ironclad_session: token },
      headers: { 'sec-fetch-site': 'same-origin' },
    });
    expect(logout.statusCode).toBe(200);
    const cleared = sessionCookieOf(logout.headers['set-cookie']);
    expect(cleared).toMatch(/ironclad_session=;/);
    expect(cleared).toMatch(/Expires=Thu, 01 Jan 1970|Max-Age=0/);
    const after = await t.app.inject({ method: 'GET', url: '/api/v1/tasks/', cookies: { ironclad_session: token } });
    expect(after.statusCode).toBe(401);
  });
});

describe('CSRF: state-changing requests authenticated by the cookie', () => {
  let token: string;
  beforeAll(async () => {
    token = (await browserSignup()).token;
  });
  const create = (headers: Record<string, string>) =>
    t.app.inject({
      method: 'POST',
      url: '/api/v1/tasks/',
      cookies: { ironclad_session: token },
      headers,
      payload: { title: 'from a browser' },
    });

  it.each([
    ['Sec-Fetch-Site: same-origin', { 'sec-fetch-site': 'same-origin' }],
    ['Origin of this server', { origin: 'http://localhost:80' }],
    ['an Origin in CORS_ALLOWED_ORIGINS', { origin: ALLOWED, 'sec-fetch-site': 'cross-site' }],
  ])('are accepted with %s', async (_name, headers) => {
    expect((await create(headers)).statusCode).toBe(201);
  });

  it.each([
    ['another site’s Origin', { origin: EVIL, 'sec-fetch-site': 'cross-site' }],
    ['another site’s Origin without fetch metadata', { origin: EVIL }],
    ['Origin: null', { origin: 'null', 'sec-fetch-site': 'cross-site' }],
    ['a same-site sibling', { origin: 'https://other.example.com', 'sec-fetch-site': 'same-site' }],
    ['neither Origin nor Sec-Fetch-Site', {}],
  ])('are refused with %s', async (_name, headers) => {
    const response = await create(headers);
    expect(response.statusCode).toBe(403);
    expect(response.json()).toEqual({ error: 'Cross-site request refused.' });
  });

  it('do not apply to reads, nor to requests authenticated by the Authorization header', async () => {
    const read = await t.app.inject({
      method: 'GET',
      url: '/api/v1/tasks/',
      cookies: { ironclad_session: token },
      headers: { origin: EVIL, 'sec-fetch-site': 'cross-site' },
    });
    expect(read.statusCode).toBe(200);
    const headerAuth = await t.app.inject(
      authed(token, {
        method: 'POST',
        url: '/api/v1/tasks/',
        headers: { origin: EVIL },
        payload: { title: 'api client' },
      }),
    );
    expect(headerAuth.statusCode).toBe(201);
  });
});

describe('login CSRF', () => {
  it('a page on another site cannot log a browser in; API clients (no browser headers) can', async () => {
    const { email } = await signup(t.app);
    const fromEvil = await t.app.inject({
      method: 'POST',
      url: '/api/v1/users/login/',
      headers: { origin: EVIL, 'sec-fetch-site': 'cross-site' },
      payload: { email, password: GOOD_PASSWORD },
    });
    expect(fromEvil.statusCode).toBe(403);
    expect(fromEvil.headers['set-cookie']).toBeUndefined();
    const signupFromEvil = await t.app.inject({
      method: 'POST',
      url: '/api/v1/users/signup/',
      headers: { origin: EVIL },
      payload: { email: uniqueEmail('evil'), password: GOOD_PASSWORD },
    });
    expect(signupFromEvil.statusCode).toBe(403);
    const apiClient = await t.app.inject({
      method: 'POST',
      url: '/api/v1/users/login/',
      payload: { email, password: GOOD_PASSWORD },
    });
    expect(apiClient.statusCode).toBe(200);
  });
});
