/**
 * The built web client served by the API process (single-process mode): `/` and the hashed files under
 * `/assets/` are pages with their own strict headers; every other path is still the API's JSON.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PAGE_CSP } from '@ironclad/config/page-csp';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { type Database, openDatabase } from '../src/db/connect.js';
import { resolveSecretKey } from '../src/lifecycle/secret-key.js';
import { configFor, rootPlugins } from './helpers.js';

const INDEX =
  '<!doctype html><title>Ironclad Tasks</title><script type="module" src="/assets/index-Ab12Cd34.js"></script>';
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
  ])('%s is the API’s JSON 404', async (_name, url) => {
    const response = await app.inject({ method: 'GET', url });
    expect(response.statusCode).toBe(404);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.json()).toEqual(NOT_FOUND);
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
