/** ALLOWED_HOSTS semantics (Django's, with a strict grammar), unit and over raw sockets. */

import { createHostMatcher, domainOfHost, hostPatternProblem } from '@ironclad/config/hosts';
import { rawExchange } from '@ironclad/testkit/raw-http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASELINE_HEADERS } from '../src/http/plugins/security-headers.js';
import { listenOnLoopback, startTestApp, type TestApp } from './helpers.js';

describe('domainOfHost', () => {
  it.each([
    ['example.com', 'example.com'],
    ['Example.COM:8443', 'example.com'],
    ['example.com.', 'example.com'],
    ['example.com.:80', 'example.com'],
    ['127.0.0.1:8000', '127.0.0.1'],
    ['[::1]', '[::1]'],
    ['[::1]:8000', '[::1]'],
    ['[2001:DB8::1]:443', '[2001:db8::1]'],
    ['example.com:1', 'example.com'],
    ['example.com:65535', 'example.com'],
    ['[::1]:65535', '[::1]'],
  ])('%s -> %s', (header, domain) => {
    expect(domainOfHost(header)).toBe(domain);
  });

  it.each([
    '',
    'exa mple.com',
    'exa_mple.com',
    'a..b',
    '-bad.com',
    'bad-.com',
    'example.com:abc',
    'example.com:123456',
    'example.com:80:80',
    // Ports: 1-65535 in plain decimal only (config/src/hosts.ts, isHostPort).
    'example.com:',
    'example.com:0',
    'example.com:00',
    'example.com:65536',
    'example.com:99999',
    'example.com:00080',
    'example.com:080',
    'example.com:+80',
    'example.com:-1',
    'example.com: 80',
    'example.com:8 0',
    'example.com:80a',
    'example.com:x80',
    'example.com:٨٠', // Arabic-Indic digits
    'example.com:0x50',
    ':80',
    '[::1]:',
    '[::1]:0',
    '[::1]:99999',
    '[::1]:00080',
    '[::1]8000',
    '[::1',
    '[not-ipv6]',
    '[::1]x',
    'user@example.com',
    'example.com/path',
    `${'a'.repeat(64)}.com`,
    `${'a.'.repeat(127)}com`,
    'ex\u0000ample.com',
  ])('%j is not a valid Host', (header) => {
    expect(domainOfHost(header)).toBeUndefined();
  });
});

describe('createHostMatcher', () => {
  const match = createHostMatcher(['tasks.example.com', '.example.org', '127.0.0.1', '[::1]']);
  it.each([
    ['tasks.example.com', true],
    ['TASKS.example.com:443', true],
    ['tasks.example.com.', true],
    ['example.org', true],
    ['a.b.example.org', true],
    ['127.0.0.1:8000', true],
    ['[::1]:8000', true],
    ['example.com', false],
    ['evil.tasks.example.com', false],
    ['evilexample.org', false],
    ['example.org.evil.com', false],
    ['127.0.0.2', false],
    ['[::2]', false],
  ])('%s -> %s', (header, expected) => {
    expect(match(header)).toBe(expected);
  });

  it('refuses a missing Host and, with "*", still refuses malformed ones', () => {
    expect(match(undefined)).toBe(false);
    const any = createHostMatcher(['*']);
    expect(any('anything.example')).toBe(true);
    expect(any('bad host')).toBe(false);
  });

  it('pattern problems', () => {
    expect(hostPatternProblem('.example.com')).toBeUndefined();
    expect(hostPatternProblem('[::1]')).toBeUndefined();
    expect(hostPatternProblem('https://example.com')).toBe(
      '"https://example.com" carries a port or scheme; list host names only',
    );
    expect(hostPatternProblem('[zz]')).toBe('"[zz]" is not a bracketed IPv6 address');
  });
});

describe('answers written before helmet runs', () => {
  it('carry the same security headers as helmet writes', async () => {
    const t = await startTestApp('embedded');
    try {
      const normal = await t.app.inject({ method: 'GET', url: '/api/v1/test/' });
      for (const [name, value] of Object.entries(BASELINE_HEADERS)) expect(normal.headers[name], name).toBe(value);
    } finally {
      await t.close();
    }
  });
});

describe('Host check on a real socket', () => {
  let t: TestApp;
  let port: number;
  beforeAll(async () => {
    t = await startTestApp('embedded', { ALLOWED_HOSTS: 'localhost,[::1]' });
    port = await listenOnLoopback(t.app);
  });
  afterAll(async () => {
    await t?.close();
  });

  it.each([
    ['no Host (HTTP/1.1)', 'GET /api/v1/test/ HTTP/1.1\r\nConnection: close\r\n\r\n', 400],
    ['no Host (HTTP/1.0)', 'GET /api/v1/test/ HTTP/1.0\r\n\r\n', 400],
    ['an empty Host', 'GET /api/v1/test/ HTTP/1.1\r\nHost: \r\nConnection: close\r\n\r\n', 400],
    [
      'two Host headers',
      'GET /api/v1/test/ HTTP/1.1\r\nHost: localhost\r\nHost: evil.com\r\nConnection: close\r\n\r\n',
      400,
    ],
    ['an allowed Host', 'GET /api/v1/test/ HTTP/1.1\r\nHost: localhost:8000\r\nConnection: close\r\n\r\n', 200],
    [
      'an absolute request target naming another host',
      'GET http://evil.com/api/v1/test/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n',
      400,
    ],
    [
      'an absolute request target naming an allowed host',
      'GET http://localhost:8000/api/v1/test/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n',
      200,
    ],
  ])('%s -> %i JSON', async (_name, request, status) => {
    const response = await rawExchange(port, request);
    expect(response.statusCode).toBe(status);
    expect(JSON.parse(response.body)).toEqual(status === 200 ? { connected: true } : { error: 'Invalid Host header.' });
  });

  it.each([
    ['localhost:0', 400],
    ['localhost:65536', 400],
    ['localhost:99999', 400],
    ['localhost:00080', 400],
    ['localhost:', 400],
    ['localhost:80x', 400],
    ['[::1]:99999', 400],
    ['[::1]:', 400],
    ['localhost', 200],
    ['localhost:1', 200],
    ['localhost:65535', 200],
    ['[::1]:8000', 200],
    ['[::1]', 200],
  ])('Host: %s -> %i JSON', async (host, status) => {
    const response = await rawExchange(
      port,
      `GET /api/v1/test/ HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
    );
    expect(response.statusCode).toBe(status);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(response.body)).toEqual(status === 200 ? { connected: true } : { error: 'Invalid Host header.' });
  });

  // (Fastify's URL parser refuses this one first, as a malformed URL; either way a 400 in JSON.)
  it('an absolute request target with an impossible port is refused too', async () => {
    const response = await rawExchange(
      port,
      'GET http://localhost:99999/api/v1/test/ HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n',
    );
    expect(response.statusCode).toBe(400);
    expect(JSON.parse(response.body)).toEqual({ error: expect.any(String) });
  });

  it('OPTIONS * (asterisk-form) is not mistaken for a bad Host', async () => {
    const response = await rawExchange(port, 'OPTIONS * HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    expect(response.statusCode).toBe(404);
    expect(JSON.parse(response.body)).toEqual({ error: 'The requested resource was not found.' });
  });
});
