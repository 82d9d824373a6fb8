/**
 * The built web client served by the API process (single-process mode): `/` and the hashed files under
 * `/assets/` are pages with their own strict headers; every other path is still the API's JSON.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import { PAGE_CSP } from '@ironclad/config/page-csp';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { type Database, openDatabase } from '../src/db/connect.js';
import { resolveSecretKey } from '../src/lifecycle/secret-key.js';
import { configFor, rootPlugins } from './helpers.js';

const INDEX =
  '<!doctype html><title>Ironclad Tasks</title><script type="module" src="/assets/index-Ab12Cd34.js"></script>';
// An asset big enough to compress, with the .br and .gz siblings the build writes (client/build/precompress.ts).
const SCRIPT = Buffer.from(`console.log(${JSON.stringify('Ironclad Tasks '.repeat(500))});`);
const SCRIPT_BR = brotliCompressSync(SCRIPT);
const SCRIPT_GZ = gzipSync(SCRIPT, { level: 9 });
let webRoot: string;
let app: FastifyInstance;
let database: Database;

async function appWith(root: string | undefined): Promise<{ app: FastifyInstance; database: Database }> {
  // Overload detection off, as in every suite on startTestApp: on a busy machine one PGlite start-up stalls the
  // loop for over a second, and the pages would then get the overload 503 this suite is not about.
  const config = configFor({ DATA_DIR: 'memory://', OVERLOAD_EVENT_LOOP_DELAY: '0' });
  const db = await openDatabase(config.database, { poolMax: 1, connectTimeoutMs: 1000, queryTimeoutMs: 1000 });
  const built = await buildApp({
    config,
    database: db,
    secretKey: resolveSecretKey(config).key,
    ...(root ? { webRoot: root } : {}),
  });
  await built.ready();
  return { app: built, database: db };
}

beforeAll(async () => {
  webRoot = mkdtempSync(join(tmpdir(), 'ironclad-web-'));
  mkdirSync(join(webRoot, 'assets'));
  writeFileSync(join(webRoot, 'index.html'), INDEX);
  writeFileSync(join(webRoot, 'assets', 'index-Ab12Cd34.js'), 'console.log("app")');
  writeFileSync(join(webRoot, 'assets', 'index-Ab12Cd34.js.map'), '{"sources":["../src/secret.ts"]}');
  writeFileSync(join(webRoot, 'assets', '.hidden'), 'dotfile');
  writeFileSync(join(webRoot, 'assets', 'big-Ef56Gh78.js'), SCRIPT);
  writeFileSync(join(webRoot, 'assets', 'big-Ef56Gh78.js.br'), SCRIPT_BR);
  writeFileSync(join(webRoot, 'assets', 'big-Ef56Gh78.js.gz'), SCRIPT_GZ);
  // Only a gzip sibling: what the build leaves when brotli would not be smaller.
  writeFileSync(join(webRoot, 'assets', 'only-Gz12Gz34.css'), `${'.a{color:red}'.repeat(50)}`);
  writeFileSync(join(webRoot, 'assets', 'only-Gz12Gz34.css.gz'), gzipSync(`${'.a{color:red}'.repeat(50)}`));
  ({ app, database } = await appWith(webRoot));
});
afterAll(async () => {
  await app?.close();
  await database?.close();
  rmSync(webRoot, { recursive: true, force: true });
});

const NOT_FOUND = { error: 'The requested resource was not found.' };

describe('the app page', () => {
  it('is the last step of the pipeline, after the API’s routes', () => {
    const plugins = rootPlugins(app);
    expect(plugins.at(-1)).toBe('web-client');
    expect(plugins.indexOf('authentication')).toBeLessThan(plugins.indexOf('web-client'));
  });

  it('is served at / with the page CSP, never cached, and the document-only security headers', async () => {
    const response = await app.inject({ method: 'GET', url: '/' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.body).toBe(INDEX);
    expect(response.headers['content-security-policy']).toBe(PAGE_CSP);
    expect(PAGE_CSP).not.toContain('unsafe');
    expect(response.headers['cache-control']).toBe('no-cache');
    expect(response.headers['cross-origin-opener-policy']).toBe('same-origin');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['x-frame-options']).toBe('DENY');
    expect(response.headers['strict-transport-security']).toMatch(/max-age=63072000/);
    expect(response.headers['permissions-policy']).toContain('camera=()');
  });

  it('keeps its view in the query string: /?show=open is the same page', async () => {
    const response = await app.inject({ method: 'GET', url: '/?show=open' });
    expect(response.statusCode).toBe(200);
    expect(response.body).toBe(INDEX);
  });

  it('opens even with a query string that is not percent-encoded UTF-8 (the browser reads it, not the server)', async () => {
    for (const url of ['/?q=100%', '/?q=%FF', '/assets/index-Ab12Cd34.js?v=%ED%A0%80']) {
      const response = await app.inject({ method: 'GET', url });
      expect(response.statusCode, url).toBe(200);
    }
    // The API beside it still refuses such a query string.
    expect((await app.inject({ method: 'GET', url: '/api/v1/test/?q=%FF' })).statusCode).toBe(400);
    expect((await app.inject({ method: 'GET', url: '/no-page?q=%FF' })).statusCode).toBe(400);
  });

  it('answers HEAD, and other methods with a JSON 405', async () => {
    expect((await app.inject({ method: 'HEAD', url: '/' })).statusCode).toBe(200);
    const post = await app.inject({ method: 'POST', url: '/', payload: {} });
    expect(post.statusCode).toBe(405);
    expect(post.headers['content-type']).toMatch(/^application\/json/);
    expect(post.headers.allow).toContain('GET');
  });

  it('is behind the Host allowlist like the API', async () => {
    const response = await app.inject({ method: 'GET', url: '/', headers: { host: 'evil.example' } });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toEqual({ error: 'Invalid Host header.' });
  });
});

describe('hashed assets', () => {
  it('are cached for a year as immutable, with nosniff and the page CSP', async () => {
    const response = await app.inject({ method: 'GET', url: '/assets/index-Ab12Cd34.js' });
    expect(response.statusCode).toBe(200);
    expect(response.body).toBe('console.log("app")');
    expect(response.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(response.headers['content-type']).toMatch(/javascript/);
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['content-security-policy']).toBe(PAGE_CSP);
  });

  it.each([
    ['a missing asset', '/assets/nope-12345678.js'],
    ['a source map', '/assets/index-Ab12Cd34.js.map'],
    ['a dotfile', '/assets/.hidden'],
    ['a path out of the folder', '/assets/../index.html'],
    ['an encoded path out of the folder', '/assets/%2e%2e/%2e%2e/package.json'],
    ['the folder itself', '/assets/'],
    ['a brotli sibling asked for by name', '/assets/big-Ef56Gh78.js.br'],
    ['a gzip sibling asked for by name', '/assets/big-Ef56Gh78.js.gz'],
  ])('%s is the API’s JSON 404', async (_name, url) => {
    const response = await app.inject({ method: 'GET', url });
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.json()).toEqual(NOT_FOUND);
  });
});

describe('precompressed assets', () => {
  const url = '/assets/big-Ef56Gh78.js';
  const get = (headers: Record<string, string>, method: 'GET' | 'HEAD' = 'GET') => app.inject({ method, url, headers });

  it('are sent as brotli when the browser takes it, with the same type, cache and security headers', async () => {
    const response = await get({ 'accept-encoding': 'gzip, deflate, br, zstd' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-encoding']).toBe('br');
    expect(response.headers.vary).toMatch(/accept-encoding/i);
    // The type of the script itself, as its identity answer has it, not of a .br file.
    expect(response.headers['content-type']).toMatch(/^(?:application|text)\/javascript; charset=utf-8$/);
    expect(response.headers['content-type']).toBe((await get({})).headers['content-type']);
    expect(Number(response.headers['content-length'])).toBe(SCRIPT_BR.length);
    expect(brotliDecompressSync(response.rawPayload).equals(SCRIPT)).toBe(true);
    expect(response.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(response.headers['content-security-policy']).toBe(PAGE_CSP);
    expect(response.headers['x-content-type-options']).toBe('nosniff');
  });

  it('are sent as gzip to a client that takes gzip only, or refuses brotli', async () => {
    for (const accept of ['gzip', 'br;q=0, gzip', 'deflate, gzip;q=0.5']) {
      const response = await get({ 'accept-encoding': accept });
      expect(response.headers['content-encoding'], accept).toBe('gzip');
      expect(Number(response.headers['content-length'])).toBe(SCRIPT_GZ.length);
      expect(gunzipSync(response.rawPayload).equals(SCRIPT)).toBe(true);
      expect(response.headers.vary).toMatch(/accept-encoding/i);
    }
  });

  it('are sent as they are to a client that takes neither, still varying on Accept-Encoding', async () => {
    const cases: Record<string, string>[] = [
      {},
      { 'accept-encoding': 'identity' },
      { 'accept-encoding': 'zstd, deflate' },
    ];
    for (const headers of cases) {
      const response = await get(headers);
      expect(response.headers['content-encoding'], JSON.stringify(headers)).toBeUndefined();
      expect(response.rawPayload.equals(SCRIPT)).toBe(true);
      expect(Number(response.headers['content-length'])).toBe(SCRIPT.length);
      // A shared cache must not hand this identity copy to a browser that takes brotli, nor the reverse.
      expect(response.headers.vary).toMatch(/accept-encoding/i);
    }
  });

  it('fall back to the encoding that exists: gzip when there is no .br', async () => {
    const response = await app.inject({
      method: 'GET',
      url: '/assets/only-Gz12Gz34.css',
      headers: { 'accept-encoding': 'br, gzip' },
    });
    expect(response.headers['content-encoding']).toBe('gzip');
    expect(response.headers['content-type']).toBe('text/css; charset=utf-8');
    expect(gunzipSync(response.rawPayload).toString()).toBe('.a{color:red}'.repeat(50));
  });

  it('answer HEAD with the encoded length and no body', async () => {
    const response = await get({ 'accept-encoding': 'br' }, 'HEAD');
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-encoding']).toBe('br');
    expect(Number(response.headers['content-length'])).toBe(SCRIPT_BR.length);
    expect(response.rawPayload.length).toBe(0);
  });

  it('answer a Range over the encoded bytes (the representation sent), with its own ETag', async () => {
    const whole = await get({ 'accept-encoding': 'br' });
    const identity = await get({});
    expect(whole.headers.etag).toBeDefined();
    expect(whole.headers.etag).not.toBe(identity.headers.etag);
    const response = await get({ 'accept-encoding': 'br', range: 'bytes=0-9' });
    expect(response.statusCode).toBe(206);
    expect(response.headers['content-encoding']).toBe('br');
    expect(response.headers['content-range']).toBe(`bytes 0-9/${SCRIPT_BR.length}`);
    expect(response.rawPayload.equals(SCRIPT_BR.subarray(0, 10))).toBe(true);
    const unsatisfiable = await get({ 'accept-encoding': 'br', range: `bytes=${SCRIPT_BR.length + 10}-` });
    expect(unsatisfiable.statusCode).toBe(416);
  });

  it('a file without siblings is sent as it is, whatever the browser takes', async () => {
    const response = await app.inject({
      method: 'GET',
      url: '/assets/index-Ab12Cd34.js',
      headers: { 'accept-encoding': 'br, gzip' },
    });
    expect(response.headers['content-encoding']).toBeUndefined();
    expect(response.body).toBe('console.log("app")');
  });
});

describe('API answers are never compressed (BREACH)', () => {
  it.each([
    ['GET', '/api/v1/test/'],
    ['GET', '/api/v1/openapi.json'],
    ['GET', '/api/v1/tasks/'],
    ['GET', '/api/v1/nope/'],
    ['POST', '/api/v1/users/login/'],
  ] as const)('%s %s', async (method, url) => {
    const response = await app.inject({
      method,
      url,
      headers: { 'accept-encoding': 'br, gzip, deflate, zstd', 'content-type': 'application/json' },
      ...(method === 'POST' ? { payload: { email: 'a@example.com', password: 'x' } } : {}),
    });
    expect(response.headers['content-encoding']).toBeUndefined();
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    // A JSON body that parses as it came: not an encoded stream.
    expect(() => response.json()).not.toThrow();
  });

  it('nor is the page', async () => {
    const response = await app.inject({ method: 'GET', url: '/', headers: { 'accept-encoding': 'br, gzip' } });
    expect(response.headers['content-encoding']).toBeUndefined();
    expect(response.body).toBe(INDEX);
  });
});

describe('everything else stays JSON', () => {
  it.each(['/index.html', '/login', '/tasks', '/.env', '/.git/config', '/server/src/app.ts', '/api/v1/nope/'])(
    '%s is a JSON 404, not the page',
    async (url) => {
      const response = await app.inject({ method: 'GET', url, headers: { accept: 'text/html' } });
      expect(response.statusCode).toBe(404);
      expect(response.json()).toEqual(NOT_FOUND);
      expect(response.headers['cache-control']).toBe('no-store');
    },
  );

  it('API answers keep the API’s own CSP, not the page’s', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/v1/test/' });
    expect(response.headers['content-security-policy']).toMatch(/^default-src 'none'/);
    expect(response.headers['content-security-policy']).not.toBe(PAGE_CSP);
  });

  it('without a built client, / is a JSON 404 too', async () => {
    const bare = await appWith(undefined);
    try {
      const response = await bare.app.inject({ method: 'GET', url: '/' });
      expect(response.statusCode).toBe(404);
      expect(response.json()).toEqual(NOT_FOUND);
    } finally {
      await bare.app.close();
      await bare.database.close();
    }
  });
});
