/**
 * The deployment run for real without containers (testkit/src/topology.ts): PostgreSQL, the built API, and nginx with the
 * repository's template, probed from outside over loopback as a browser, a scanner and an attacker would.
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as netConnect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { gunzipSync } from 'node:zlib';
import { PAGE_CSP } from '@ironclad/config/page-csp';
import { STRONG_KEY } from '@ironclad/testkit/accounts';
import { gateFor } from '@ironclad/testkit/gate';
import { type RawAnswer, rawExchangeWith } from '@ironclad/testkit/raw-http';
import { startSlowClients } from '@ironclad/testkit/slow-clients';
import { ensureClientBuilt, request, startTopology, type Topology } from '@ironclad/testkit/topology';
import { afterAll, beforeAll, expect, it } from 'vitest';

const tools = await gateFor('deploy topology tests', ['nginx', 'openssl', 'envsubst', 'postgres']);

/** Sends raw bytes and returns everything received before the server closed the connection. */
function rawExchange(port: number, payload: string): Promise<string> {
  return new Promise((resolveReply, reject) => {
    const socket = netConnect(port, '127.0.0.1');
    let received = '';
    socket.setTimeout(5_000, () => socket.destroy(new Error('no close within 5 s')));
    socket.on('connect', () => socket.write(payload));
    socket.on('data', (chunk) => {
      received += chunk.toString();
    });
    socket.on('close', () => resolveReply(received));
    socket.on('error', (error: NodeJS.ErrnoException) =>
      error.code === 'ECONNRESET' ? resolveReply(received) : reject(error),
    );
  });
}

interface Handshake {
  ok: boolean;
  protocol?: string | null;
  cipher?: string;
  code?: string;
  /** Bytes of the HTTP answer to `payload`, when one was sent. */
  reply?: string;
}

/** A TLS handshake to nginx, optionally followed by one raw request; reports what happened instead of throwing. */
function handshake(
  topology: Topology,
  options: { servername?: string; minVersion?: string; maxVersion?: string; ciphers?: string; payload?: string },
): Promise<Handshake> {
  return new Promise((done) => {
    const socket = tlsConnect({
      host: '127.0.0.1',
      port: topology.httpsPort,
      ca: topology.ca,
      ...(options.servername ? { servername: options.servername } : {}),
      minVersion: options.minVersion as 'TLSv1.2' | undefined,
      maxVersion: options.maxVersion as 'TLSv1.3' | undefined,
      ...(options.ciphers ? { ciphers: options.ciphers } : {}),
    });
    let reply = '';
    let secured: Handshake | undefined;
    socket.setTimeout(5_000, () => socket.destroy(new Error('timeout')));
    socket.on('secureConnect', () => {
      secured = { ok: true, protocol: socket.getProtocol(), cipher: socket.getCipher().name };
      if (options.payload === undefined) socket.end();
      else socket.write(options.payload);
    });
    socket.on('data', (chunk) => {
      reply += chunk.toString();
    });
    socket.on('close', () => done(secured ? { ...secured, reply } : { ok: false, code: 'closed' }));
    socket.on('error', (error: NodeJS.ErrnoException) => {
      if (secured) return;
      secured = undefined;
      done({ ok: false, code: error.code ?? error.message });
      socket.destroy();
    });
  });
}

const SECRET_MARKERS = ['SECRET_KEY', 'POSTGRES_PASSWORD', STRONG_KEY, '[core]', 'repositoryformatversion', 'import '];

tools.describe('the production topology on loopback: nginx in front of the API', () => {
  let topology: Topology;

  beforeAll(async () => {
    // The API's own login limits are raised so that the rate-limit test below sees nginx's limit_req.
    topology = await startTopology({
      serverEnv: {
        RATE_LIMIT_LOGIN: '1000/1h',
        RATE_LIMIT_LOGIN_ACCOUNT: '1000/1h',
        RATE_LIMIT_LOGIN_FAILURES: '1000/1h',
        RATE_LIMIT_SIGNUP: '1000/1h',
      },
    });
  }, 240_000);

  afterAll(async () => {
    await topology?.stop();
  });

  it('serves the built client at / over HTTPS, revalidated on every visit, with the page headers', async () => {
    const answer = await request(topology, { path: '/' });
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toMatch(/^text\/html/);
    expect(answer.body).toBe(readFileSync(join(topology.webRoot, 'index.html'), 'utf8'));
    expect(answer.headers['cache-control']).toBe('no-cache');
    expect(answer.headers['strict-transport-security']).toBe('max-age=63072000; includeSubDomains');
    expect(answer.headers['content-security-policy']).toBe(PAGE_CSP);
    expect(answer.headers['x-content-type-options']).toBe('nosniff');
    expect(answer.headers['x-frame-options']).toBe('DENY');
    expect(answer.headers['referrer-policy']).toBe('no-referrer');
    expect(answer.headers['cross-origin-opener-policy']).toBe('same-origin');
    expect(answer.headers['cross-origin-resource-policy']).toBe('same-origin');
    expect(answer.headers['permissions-policy']).toMatch(/camera=\(\)/);
    // No version anywhere.
    expect(answer.headers.server).toBe('nginx');
  });

  it('caches content-hashed assets for a year, and never caches a missing one', async () => {
    const assets = readdirSync(join(topology.webRoot, 'assets')).filter((name) => /-[\w-]{8,}\.(js|css)$/.test(name));
    expect(assets.length).toBeGreaterThan(0);
    for (const name of assets) {
      const answer = await request(topology, { path: `/assets/${name}` });
      expect(answer.status, name).toBe(200);
      expect(answer.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(answer.headers['content-security-policy']).toBe(PAGE_CSP);
      expect(answer.body).toBe(readFileSync(join(topology.webRoot, 'assets', name), 'utf8'));
    }
    const missing = await request(topology, { path: '/assets/index-00000000.js' });
    expect(missing.status).toBe(404);
    expect(missing.headers['cache-control']).toBe('no-store');
    expect(JSON.parse(missing.body)).toEqual({ error: 'The requested resource was not found.' });
  });

  it('sends each script and stylesheet from its build-time .gz to a browser that takes gzip, with Vary', async () => {
    const dir = join(topology.webRoot, 'assets');
    const assets = readdirSync(dir).filter((name) => /-[\w-]{8,}\.(js|css)$/.test(name));
    expect(assets.length).toBeGreaterThan(0);
    for (const name of assets) {
      const gz = readFileSync(join(dir, `${name}.gz`));
      // What a browser sends (nginx-light has no brotli module: the .br is not used here).
      const answer = await request(topology, {
        path: `/assets/${name}`,
        headers: { 'accept-encoding': 'gzip, deflate, br, zstd' },
      });
      expect(answer.status, name).toBe(200);
      expect(answer.headers['content-encoding'], name).toBe('gzip');
      expect(answer.headers.vary).toMatch(/accept-encoding/i);
      expect(answer.headers['content-type']).toMatch(name.endsWith('.js') ? /javascript/ : /^text\/css/);
      // The .gz file's own bytes and length: gzip_static, not compressed again on each request (that is chunked).
      expect(Number(answer.headers['content-length'])).toBe(gz.length);
      expect(answer.raw.equals(gz)).toBe(true);
      expect(gunzipSync(answer.raw).equals(readFileSync(join(dir, name)))).toBe(true);
      expect(answer.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(answer.headers['content-security-policy']).toBe(PAGE_CSP);
      // A client that takes no gzip gets the file itself, with the same Vary.
      const identity = await request(topology, { path: `/assets/${name}`, headers: { 'accept-encoding': 'identity' } });
      expect(identity.headers['content-encoding']).toBeUndefined();
      expect(identity.headers.vary).toMatch(/accept-encoding/i);
      expect(identity.raw.equals(readFileSync(join(dir, name)))).toBe(true);
      // The encoded copies are not resources of their own.
      expect((await request(topology, { path: `/assets/${name}.gz` })).status).toBe(404);
      expect((await request(topology, { path: `/assets/${name}.br` })).status).toBe(404);
    }
  });

  it('never compresses an API answer, whatever the client accepts (BREACH)', async () => {
    const accept = { 'accept-encoding': 'gzip, deflate, br, zstd' };
    for (const path of ['/api/v1/openapi.json', '/api/v1/test/', '/api/v1/tasks/', '/api/v1/nope/', '/api']) {
      const answer = await request(topology, { path, headers: accept });
      expect(answer.headers['content-encoding'], path).toBeUndefined();
      expect(() => JSON.parse(answer.body), path).not.toThrow();
    }
    const signup = await request(topology, {
      method: 'POST',
      path: '/api/v1/users/signup/',
      headers: { ...accept, 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'breach@example.com', password: 'correct horse battery staple' }),
    });
    expect(signup.status).toBe(201);
    expect(signup.headers['content-encoding']).toBeUndefined();
    expect(JSON.parse(signup.body)).toHaveProperty('token');
  });

  it('answers plain HTTP only with a permanent redirect to the HTTPS domain, and ACME challenges', async () => {
    const redirect = await request(topology, { scheme: 'http', path: '/api/v1/test/?page=2' });
    expect(redirect.status).toBe(301);
    expect(redirect.headers.location).toBe(`https://${topology.domain}/api/v1/test/?page=2`);
    expect(redirect.headers.server).toBe('nginx');

    const token = 'aGVsbG8tYWNtZS1jaGFsbGVuZ2U';
    writeFileSync(join(topology.dir, 'acme/.well-known/acme-challenge', token), 'token.thumbprint');
    const challenge = await request(topology, { scheme: 'http', path: `/.well-known/acme-challenge/${token}` });
    expect(challenge.status).toBe(200);
    expect(challenge.body).toBe('token.thumbprint');
    const noChallenge = await request(topology, { scheme: 'http', path: '/.well-known/acme-challenge/nothing' });
    expect(noChallenge.status).toBe(404);
    expect(JSON.parse(noChallenge.body)).toEqual({ error: 'The requested resource was not found.' });
  });

  it('drops any request whose Host is not the domain, on both ports, without a byte of answer', async () => {
    for (const host of ['evil.test', '127.0.0.1', `www.${topology.domain}`]) {
      const reply = await rawExchange(topology.httpPort, `GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
      expect(reply, host).toBe('');
    }
    expect(await rawExchange(topology.httpPort, 'GET / HTTP/1.0\r\n\r\n')).toBe('');

    // Unknown SNI, and no SNI at all: the handshake is refused, so no certificate is even shown.
    const unknownSni = await handshake(topology, { servername: 'evil.test' });
    expect(unknownSni.ok).toBe(false);
    expect(unknownSni.code).toBe('ERR_SSL_TLSV1_UNRECOGNIZED_NAME');
    const noSni = await handshake(topology, {});
    expect(noSni.ok).toBe(false);

    // The right SNI with another Host: connection closed, no answer.
    const mismatch = await handshake(topology, {
      servername: topology.domain,
      payload: 'GET / HTTP/1.1\r\nHost: evil.test\r\n\r\n',
    });
    expect(mismatch.ok).toBe(true);
    expect(mismatch.reply).toBe('');
    // The control: the same exchange with the right Host is answered.
    const control = await handshake(topology, {
      servername: topology.domain,
      payload: `GET / HTTP/1.1\r\nHost: ${topology.domain}\r\nConnection: close\r\n\r\n`,
    });
    expect(control.reply).toMatch(/^HTTP\/1\.1 200 /);
  });

  it('answers nginx’s own refusals in JSON, never its HTML page naming nginx', async () => {
    const cases: { options: Parameters<typeof request>[1]; status: number; error: string }[] = [
      // Malformed percent-encoding: refused by nginx while it reads the request line, under /api/ and elsewhere.
      { options: { path: '/api/v1/tasks/%E0%A4%A' }, status: 400, error: 'Bad request.' },
      { options: { path: '/%' }, status: 400, error: 'Bad request.' },
      { options: { method: 'POST', path: '/' }, status: 405, error: 'Method not allowed.' },
      { options: { path: `/${'a'.repeat(9000)}` }, status: 414, error: 'URI too long.' },
    ];
    for (const { options, status, error } of cases) {
      const answer = await request(topology, options);
      const label = `${options?.method ?? 'GET'} ${options?.path?.slice(0, 30)}`;
      expect(answer.status, label).toBe(status);
      expect(answer.headers['content-type'], label).toMatch(/^application\/json/);
      expect(JSON.parse(answer.body), label).toEqual({ error });
      expect(answer.body, label).not.toMatch(/nginx|<html/i);
    }
    // No byte ranges (max_ranges 0): a Range is ignored and the whole page sent, so no 416 either.
    for (const range of ['bytes=999999-', 'bytes=0-0,1-1,2-2', 'bytes=5-1']) {
      const ranged = await request(topology, { path: '/', headers: { range } });
      expect(ranged.status, range).toBe(200);
      expect(ranged.headers['accept-ranges'], range).toBeUndefined();
    }
    // 405 keeps the security headers (an add_header of its own must not drop them).
    const post = await request(topology, { method: 'POST', path: '/' });
    expect(post.headers.allow).toBe('GET, HEAD');
    expect(post.headers['strict-transport-security']).toBe('max-age=63072000; includeSubDomains');
    expect(post.headers['x-content-type-options']).toBe('nosniff');
    // A body too large for a page is refused in JSON too, not only under /api/.
    const large = await request(topology, { method: 'POST', path: '/', body: 'x'.repeat(100_000) });
    expect(large.status).toBe(413);
    expect(JSON.parse(large.body)).toEqual({ error: 'Request body is too large.' });
    // /api without its slash, and missing files whatever their extension: the JSON 404, typed as JSON.
    for (const path of ['/api', '/server/dist/main.js', '/favicon.svg', '/assets/logo-00000000.svg']) {
      const answer = await request(topology, { path });
      expect(answer.status, path).toBe(404);
      expect(answer.headers['content-type'], path).toMatch(/^application\/json/);
      expect(JSON.parse(answer.body), path).toEqual({ error: 'The requested resource was not found.' });
    }
    // The error pages are not pages of their own.
    expect((await request(topology, { path: '/.ironclad-errors/400.json' })).status).toBe(404);
    // On plain HTTP, a request line nginx cannot parse meets the catch-all server (the Host is not read yet): silence.
    expect(await rawExchange(topology.httpPort, `GET /% HTTP/1.1\r\nHost: ${topology.domain}\r\n\r\n`)).toBe('');
  });

  it('speaks TLS 1.2 and 1.3 with forward-secret AEAD ciphers, and refuses TLS 1.1', async () => {
    const tls13 = await handshake(topology, { servername: topology.domain, minVersion: 'TLSv1.3' });
    expect(tls13).toMatchObject({ ok: true, protocol: 'TLSv1.3' });
    const tls12 = await handshake(topology, {
      servername: topology.domain,
      minVersion: 'TLSv1.2',
      maxVersion: 'TLSv1.2',
    });
    expect(tls12).toMatchObject({ ok: true, protocol: 'TLSv1.2' });
    expect(tls12.cipher).toMatch(/^ECDHE-(ECDSA|RSA)-(AES\d+-GCM|CHACHA20-POLY1305)/);
    // A CBC suite nginx must not offer, even though this client would accept it.
    const cbc = await handshake(topology, {
      servername: topology.domain,
      maxVersion: 'TLSv1.2',
      ciphers: 'ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES128-SHA',
    });
    expect(cbc.ok).toBe(false);
    // SECLEVEL=0 lets this client actually send a TLS 1.1 hello, so the refusal is nginx's protocol_version alert,
    // not the client declining to try.
    const tls11 = await handshake(topology, {
      servername: topology.domain,
      minVersion: 'TLSv1.1',
      maxVersion: 'TLSv1.1',
      ciphers: 'DEFAULT@SECLEVEL=0',
    });
    expect(tls11.ok).toBe(false);
    expect(tls11.code).toBe('ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION');
  });

  it('proxies /api/ to the API with the domain as Host, whatever forwarding headers the client forges', async () => {
    const answer = await request(topology, {
      path: '/api/v1/test/',
      headers: { 'x-forwarded-host': 'evil.test', forwarded: 'host=evil.test;proto=http', 'x-forwarded-proto': 'http' },
    });
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toEqual({ connected: true });
    // The API's headers, not the pages': its own CSP, no-store, its request id; and HSTS exactly once.
    expect(answer.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(answer.headers['cache-control']).toBe('no-store');
    expect(answer.headers['content-security-policy']).not.toBe(PAGE_CSP);
    expect(answer.headers['content-security-policy']).toMatch(/^default-src 'none'/);
    expect(answer.headers['strict-transport-security']).toBe('max-age=63072000; includeSubDomains');
    expect(answer.headers['x-content-type-options']).toBe('nosniff');
    expect(answer.headers['cross-origin-opener-policy']).toBeUndefined();
  });

  it('leaves unknown /api/ paths (dotfiles and source maps included) to the API and its JSON 404', async () => {
    for (const path of ['/api/v1/nothing-here/', '/api/v1/.env', '/api/v1/app.js.map']) {
      const answer = await request(topology, { path });
      expect(answer.status, path).toBe(404);
      expect(JSON.parse(answer.body), path).toEqual({ error: 'The requested resource was not found.' });
      expect(answer.headers['x-request-id'], `${path} answered by the API`).toBeDefined();
    }
  });

  it('signs up and logs in through nginx; the session cookie is Secure because nginx says the request was HTTPS', async () => {
    const email = `ada.${Date.now()}@example.com`;
    const body = JSON.stringify({ email, password: 'correct horse battery staple' });
    const json = { 'content-type': 'application/json' };
    const signup = await request(topology, { method: 'POST', path: '/api/v1/users/signup/', headers: json, body });
    expect(signup.status, signup.body).toBe(201);
    const cookie = String(signup.headers['set-cookie']);
    expect(cookie).toMatch(/ironclad_session=/);
    expect(cookie).toMatch(/; Secure/i);
    expect(cookie).toMatch(/; HttpOnly/i);

    const login = await request(topology, { method: 'POST', path: '/api/v1/users/login', headers: json, body });
    expect(login.status, login.body).toBe(200);
    expect(String(login.headers['set-cookie'])).toMatch(/; Secure/i);
    const { token } = JSON.parse(login.body) as { token: string };
    const info = await request(topology, {
      path: '/api/v1/users/info/',
      headers: { authorization: `Token ${token}` },
    });
    expect(info.status).toBe(200);
    expect(JSON.parse(info.body)).toMatchObject({ email });
  });

  it('refuses a body over the API limit at nginx, in the API JSON shape', async () => {
    const answer = await request(topology, {
      method: 'POST',
      path: '/api/v1/tasks/',
      headers: { 'content-type': 'application/json', authorization: 'Token nope' },
      body: JSON.stringify({ title: 'x', description: 'y'.repeat(70 * 1024) }),
    });
    expect(answer.status).toBe(413);
    expect(answer.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(answer.body)).toHaveProperty('error');
    expect(answer.headers['strict-transport-security']).toBe('max-age=63072000; includeSubDomains');
  });

  it('gives nothing for /.env, /.git/config, /server/ or a source map', async () => {
    for (const path of ['/.env', '/.git/config', '/server/', '/server/src/app.ts', '/assets/index.js.map', '/x.map']) {
      const answer = await request(topology, { path });
      expect(answer.status, path).toBe(404);
      for (const marker of SECRET_MARKERS) expect(answer.body, path).not.toContain(marker);
    }
  });

  it('answers the container health check on its internal listener only', async () => {
    const health = await fetch(`http://127.0.0.1:${topology.healthPort}/nginx-health`);
    expect(health.status).toBe(200);
    expect(await health.text()).toBe('ok\n');
  });

  // Last: it spends the per-address login allowance that the tests above share.
  it('answers a login flood with 429 from nginx, which a forged X-Forwarded-For does not dodge', async () => {
    const statuses: number[] = [];
    let limited: Awaited<ReturnType<typeof request>> | undefined;
    for (let i = 0; i < 40; i += 1) {
      const answer = await request(topology, {
        method: 'POST',
        // Other spellings of the path count against the same allowance.
        path: ['/api/v1/users/login/', '/api/v1/users/login', '/api/v1/users/LOGIN/'][i % 3],
        headers: { 'content-type': 'application/json', 'x-forwarded-for': `203.0.113.${i}` },
        body: JSON.stringify({ email: 'nobody@example.com', password: 'wrong password here' }),
      });
      statuses.push(answer.status);
      if (answer.status === 429) limited ??= answer;
    }
    // The first ones reached the API (401), then nginx cut the flood off.
    expect(statuses.slice(0, 5).every((status) => status === 401 || status === 404)).toBe(true);
    expect(statuses.filter((status) => status === 429).length, statuses.join(' ')).toBeGreaterThanOrEqual(10);
    expect(limited?.headers['content-type']).toMatch(/^application\/json/);
    expect(JSON.parse(limited?.body ?? '{}')).toHaveProperty('error');
    expect(limited?.headers['retry-after']).toBeDefined();
    // nginx's own answer: no API request id.
    expect(limited?.headers['x-request-id']).toBeUndefined();
  });
});

tools.describe('the topology when secret-looking files are in the web root by mistake', () => {
  let topology: Topology;
  let webRoot: string;

  beforeAll(async () => {
    webRoot = mkdtempSync(join(tmpdir(), 'ironclad-webroot-'));
    cpSync(ensureClientBuilt(), webRoot, { recursive: true });
    const decoys: Record<string, string> = {
      '.env': `SECRET_KEY=${STRONG_KEY}\nPOSTGRES_PASSWORD=${STRONG_KEY}\n`,
      '.git/config': '[core]\n\trepositoryformatversion = 0\n',
      'server/src/app.ts': "import { SECRET_KEY } from './config';\n",
      'assets/index-deadbeef.js.map': `{"sourcesContent":["SECRET_KEY=${STRONG_KEY}"]}`,
      'main.js.map': `{"sourcesContent":["SECRET_KEY=${STRONG_KEY}"]}`,
      'assets/.env': `SECRET_KEY=${STRONG_KEY}\n`,
    };
    for (const [path, content] of Object.entries(decoys)) {
      mkdirSync(join(webRoot, path, '..'), { recursive: true });
      writeFileSync(join(webRoot, path), content);
    }
    topology = await startTopology({ webRoot });
  }, 240_000);

  afterAll(async () => {
    await topology?.stop();
    if (webRoot) rmSync(webRoot, { recursive: true, force: true });
  });

  it('still gives nothing for them', async () => {
    const paths = [
      '/.env',
      '/.git/config',
      '/server/',
      '/server/src/app.ts',
      '/assets/index-deadbeef.js.map',
      '/main.js.map',
      '/assets/.env',
      '/%2eenv',
      '/assets/../.env',
      '/.%65nv',
      '/server%2fsrc/app.ts',
      '/SERVER/src/app.ts',
      '/main.js.MAP',
    ];
    for (const path of paths) {
      const answer = await request(topology, { path });
      expect(answer.status, path).toBeGreaterThanOrEqual(400);
      for (const marker of SECRET_MARKERS) expect(answer.body, path).not.toContain(marker);
    }
    // The control: a decoy-free file from the same directory is served, so the 404s above are the rules at work.
    expect((await request(topology, { path: '/' })).status).toBe(200);
  });
});

/** Headers every answer nginx makes up itself carries (HSTS only over HTTPS). */
function expectNginxJson(answer: RawAnswer, status: number, label: string, scheme: 'http' | 'https' = 'https') {
  expect(answer.statusCode, `${label}: ${answer.body.slice(0, 200)}`).toBe(status);
  expect(answer.headers['content-type'], label).toMatch(/^application\/json/);
  const parsed = JSON.parse(answer.body) as { error?: unknown };
  expect(typeof parsed.error, label).toBe('string');
  expect(answer.body, label).not.toMatch(/nginx|<html/i);
  expect(answer.headers['x-content-type-options'], label).toBe('nosniff');
  expect(answer.headers['content-security-policy'], label).toBe("default-src 'none'; frame-ancestors 'none'");
  expect(answer.headers['x-frame-options'], label).toBe('DENY');
  expect(answer.headers['referrer-policy'], label).toBe('no-referrer');
  expect(answer.headers['cache-control'], label).toBe('no-store');
  if (scheme === 'https') {
    expect(answer.headers['strict-transport-security'], label).toBe('max-age=63072000; includeSubDomains');
  }
  // nginx's own answer, not the API's.
  expect(answer.headers['x-request-id'], label).toBeUndefined();
}

const sleepMs = (ms: number) => new Promise((done) => setTimeout(done, ms));

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

interface VictimRun {
  sent: number;
  ok: number;
  failures: string[];
  p50: number;
  p99: number;
  max: number;
}

/**
 * Another user from 127.0.0.1: `count` requests, one every `intervalMs` (under the per-address request rate), each
 * on a fresh TLS connection (the hardest case: it needs a free connection slot every time), alternating the page
 * and the API.
 */
async function victim(topology: Topology, count: number, intervalMs: number): Promise<VictimRun> {
  const latencies: number[] = [];
  const failures: string[] = [];
  for (let i = 0; i < count; i += 1) {
    const started = performance.now();
    const path = i % 2 === 0 ? '/' : '/api/v1/test/';
    try {
      const answer = await request(topology, { path, localAddress: '127.0.0.1' });
      if (answer.status === 200) latencies.push(performance.now() - started);
      else failures.push(`${path}: ${answer.status} ${answer.body.slice(0, 80)}`);
    } catch (error) {
      failures.push(`${path}: ${(error as Error).message}`);
    }
    await sleepMs(Math.max(0, intervalMs - (performance.now() - started)));
  }
  const round = (value: number) => Math.round(value * 10) / 10;
  return {
    sent: count,
    ok: latencies.length,
    failures,
    p50: round(percentile(latencies, 50)),
    p99: round(percentile(latencies, 99)),
    max: round(Math.max(...latencies)),
  };
}

tools.describe('nginx under slow clients, hostile framing and forged addresses (the production nginx.conf)', () => {
  let topology: Topology;
  const tls = () => ({ port: topology.httpsPort, tls: { servername: topology.domain, ca: topology.ca } });

  beforeAll(async () => {
    // A small signup allowance, to see whose address the API counts.
    topology = await startTopology({ serverEnv: { RATE_LIMIT_SIGNUP: '3/1h' } });
  }, 240_000);

  afterAll(async () => {
    await topology?.stop();
  });

  it('keeps serving another address 100% while one address holds 300 slow connections', async () => {
    const before = await victim(topology, 100, 100);
    const attack = await startSlowClients({
      port: topology.httpsPort,
      servername: topology.domain,
      caPath: topology.certPath,
      localAddress: '127.0.0.2',
      headers: 150,
      bodies: 150,
    });
    try {
      // All 300 connected (the TLS handshakes are done) before the measurement starts.
      const deadline = performance.now() + 15_000;
      while (attack.state().open < 300 && performance.now() < deadline) await sleepMs(100);
      const held = attack.state().open;
      const during = await victim(topology, 120, 100);
      const { open: stillHeld, longestHeaderLife, bodyStatuses } = attack.state();
      process.stdout.write(
        `\n  slow clients: another address before: ${before.ok}/${before.sent} ok, p50 ${before.p50} ms, p99 ${before.p99} ms, max ${before.max} ms` +
          `\n  during (${held} slow connections from 127.0.0.2 at the start, ${stillHeld} at the end): ` +
          `${during.ok}/${during.sent} ok, p50 ${during.p50} ms, p99 ${during.p99} ms, max ${during.max} ms` +
          `\n  slowloris connections lived at most ${longestHeaderLife} ms; slow bodies answered: ${JSON.stringify(bodyStatuses)}\n`,
      );
      expect(held).toBeGreaterThanOrEqual(300);
      expect(before.failures).toEqual([]);
      expect(during.failures).toEqual([]);
      expect(during.ok).toBe(during.sent);
      // Bounded, with a wide margin for a loaded test machine (the numbers seen are in docs/deployment.md).
      expect(during.p99).toBeLessThan(2_000);
      // client_header_timeout (5 s) cut every slowloris connection, however steadily it sent header lines...
      expect(longestHeaderLife).toBeGreaterThan(4_000);
      expect(longestHeaderLife).toBeLessThan(8_000);
      // ...and limit_conn refused the slow bodies beyond 64 from one address (in JSON, checked below).
      expect(bodyStatuses['429'] ?? 0).toBeGreaterThan(0);
    } finally {
      await attack.stop();
    }
  }, 90_000);

  it('lets the API believe X-Forwarded-For from nginx only: a forged one sent straight to the API is ignored', async () => {
    let account = 0;
    const signup = (localAddress: string, via: 'nginx' | 'api', forged?: string) => {
      account += 1;
      const body = JSON.stringify({
        email: `xff.${account}.${Date.now()}@example.com`,
        password: 'correct horse battery staple',
      });
      const head = [
        'POST /api/v1/users/signup/ HTTP/1.1',
        `Host: ${topology.domain}`,
        'Content-Type: application/json',
        `Content-Length: ${Buffer.byteLength(body)}`,
        ...(forged ? [`X-Forwarded-For: ${forged}`, 'X-Forwarded-Proto: https'] : []),
        'Connection: close',
      ];
      const target = via === 'nginx' ? { ...tls(), localAddress } : { port: topology.apiPort, localAddress };
      return rawExchangeWith(target, `${head.join('\r\n')}\r\n\r\n${body}`);
    };
    // Straight to the API from another local address (127.0.0.3), a new forged client address every time: the API
    // counts 127.0.0.3 itself, so its per-address signup allowance (3 here) runs out. Under the old
    // TRUST_PROXY=loopback every forged address was a fresh allowance.
    const direct: number[] = [];
    for (let i = 0; i < 5; i += 1) direct.push((await signup('127.0.0.3', 'api', `198.51.100.${i + 1}`)).statusCode);
    expect(direct).toEqual([201, 201, 201, 429, 429]);
    // Through nginx (which connects from the one trusted address and sets X-Forwarded-For itself), each client
    // address is counted on its own: 127.0.0.5 uses up its allowance, whatever it forges...
    const viaNginx: number[] = [];
    for (let i = 0; i < 4; i += 1)
      viaNginx.push((await signup('127.0.0.5', 'nginx', `198.51.100.${i + 10}`)).statusCode);
    expect(viaNginx).toEqual([201, 201, 201, 429]);
    // ...and 127.0.0.6 still has its own, so the API is not counting nginx's address for everyone.
    expect((await signup('127.0.0.6', 'nginx')).statusCode).toBe(201);
  }, 60_000);

  it('answers every status it can be made to produce from outside in JSON with the security headers', async () => {
    const host = `Host: ${topology.domain}\r\n`;
    const cases: Array<{ label: string; status: number; answer: Promise<RawAnswer>; scheme?: 'http' | 'https' }> = [
      {
        label: 'bad chunked body to /api/',
        status: 400,
        answer: rawExchangeWith(
          tls(),
          `POST /api/v1/users/login HTTP/1.1\r\n${host}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n`,
        ),
      },
      {
        label: 'Host with an impossible port',
        status: 400,
        answer: rawExchangeWith(tls(), `GET /api/v1/test/ HTTP/1.1\r\nHost: ${topology.domain}:99999\r\n\r\n`),
      },
      {
        label: 'Host with a port in leading zeros',
        status: 400,
        answer: rawExchangeWith(tls(), `GET / HTTP/1.1\r\nHost: ${topology.domain}:0443\r\n\r\n`),
      },
      {
        label: 'Host with an empty port, on port 80',
        status: 400,
        scheme: 'http',
        answer: rawExchangeWith({ port: topology.httpPort }, `GET / HTTP/1.1\r\nHost: ${topology.domain}:\r\n\r\n`),
      },
      {
        label: 'malformed request line',
        status: 400,
        answer: rawExchangeWith(tls(), `GET /api/v1/%zz HTTP/1.1\r\n${host}\r\n`),
      },
      {
        label: 'unknown Transfer-Encoding',
        status: 501,
        answer: rawExchangeWith(
          tls(),
          `POST /api/v1/tasks/ HTTP/1.1\r\n${host}Transfer-Encoding: gzip\r\nContent-Type: application/json\r\n\r\n{}`,
        ),
      },
      {
        label: 'plain HTTP on the TLS port (497)',
        status: 400,
        scheme: 'http',
        answer: rawExchangeWith({ port: topology.httpsPort }, `GET /api/v1/test/ HTTP/1.1\r\n${host}\r\n`),
      },
      {
        label: 'URI too long',
        status: 414,
        answer: rawExchangeWith(tls(), `GET /api/v1/${'a'.repeat(9000)} HTTP/1.1\r\n${host}\r\n`),
      },
      {
        label: 'header too large (494)',
        status: 431,
        answer: rawExchangeWith(tls(), `GET /api/v1/test/ HTTP/1.1\r\n${host}X-Big: ${'b'.repeat(9000)}\r\n\r\n`),
      },
      {
        label: 'body too large on /api/',
        status: 413,
        answer: rawExchangeWith(
          tls(),
          `POST /api/v1/tasks/ HTTP/1.1\r\n${host}Content-Type: application/json\r\nContent-Length: 70000\r\n\r\n`,
        ),
      },
      {
        label: 'body too large on a page',
        status: 413,
        answer: rawExchangeWith(tls(), `POST / HTTP/1.1\r\n${host}Content-Length: 70000\r\n\r\n`),
      },
      {
        label: 'TRACE on /api/',
        status: 405,
        answer: rawExchangeWith(tls(), `TRACE /api/v1/test/ HTTP/1.1\r\n${host}\r\n`),
      },
      {
        label: 'invented method on /api/',
        status: 405,
        answer: rawExchangeWith(tls(), `PROPFIND /api/v1/tasks/ HTTP/1.1\r\n${host}\r\n`),
      },
      { label: 'TRACE on a page', status: 405, answer: rawExchangeWith(tls(), `TRACE / HTTP/1.1\r\n${host}\r\n`) },
      {
        label: 'DELETE on a page',
        status: 405,
        answer: rawExchangeWith(tls(), `DELETE /index.html HTTP/1.1\r\n${host}\r\n`),
      },
      {
        label: 'If-Match fails on a page',
        status: 412,
        answer: rawExchangeWith(tls(), `GET / HTTP/1.1\r\n${host}If-Match: "nope"\r\n\r\n`),
      },
      { label: 'HTTP/2.0 request line', status: 505, answer: rawExchangeWith(tls(), `GET / HTTP/2.0\r\n${host}\r\n`) },
      { label: 'missing page', status: 404, answer: rawExchangeWith(tls(), `GET /nothing.js HTTP/1.1\r\n${host}\r\n`) },
      {
        label: 'port 80: missing ACME challenge',
        status: 404,
        scheme: 'http',
        answer: rawExchangeWith(
          { port: topology.httpPort },
          `GET /.well-known/acme-challenge/x HTTP/1.1\r\n${host}\r\n`,
        ),
      },
      {
        label: 'port 80: the redirect',
        status: 301,
        scheme: 'http',
        answer: rawExchangeWith({ port: topology.httpPort }, `GET /api/v1/test/?a=1 HTTP/1.1\r\n${host}\r\n`),
      },
      {
        label: 'health listener: unknown path',
        status: 404,
        scheme: 'http',
        answer: rawExchangeWith({ port: topology.healthPort }, 'GET /x HTTP/1.1\r\nHost: localhost\r\n\r\n'),
      },
    ];
    // Timeouts: a body that stops arriving (408) and a header that never ends are closed without a byte of HTML:
    // nginx sends no answer on a timeout, and resets the connection (reset_timedout_connection).
    const stalledBody = rawExchangeWith(
      tls(),
      [
        `POST /api/v1/tasks/ HTTP/1.1\r\n${host}Content-Type: application/json\r\nContent-Length: 10\r\n\r\n{`,
        { wait: 9_000 },
      ],
      12_000,
    );
    const stalledHeader = rawExchangeWith(tls(), [`GET / HTTP/1.1\r\n${host}`, { wait: 9_000 }], 12_000);
    const triggered: string[] = [];
    for (const { label, status, answer, scheme } of cases) {
      expectNginxJson(await answer, status, label, scheme);
      triggered.push(`${status} ${label}`);
    }
    const redirect = await cases.find((entry) => entry.status === 301)?.answer;
    expect(redirect?.headers.location).toBe(`https://${topology.domain}/api/v1/test/?a=1`);
    expect((await cases.find((entry) => entry.label === 'TRACE on /api/')?.answer)?.headers.allow).toBe(
      'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS',
    );
    expect((await cases.find((entry) => entry.label === 'TRACE on a page')?.answer)?.headers.allow).toBe('GET, HEAD');
    // Plain HTTP on the TLS port with another Host meets the catch-all server: silence, not even JSON.
    const elsewhere = await rawExchangeWith({ port: topology.httpsPort }, 'GET / HTTP/1.1\r\nHost: evil.test\r\n\r\n');
    expect(elsewhere.answered).toBe(false);

    const started = performance.now();
    for (const [label, stalled] of [
      ['stalled body (408)', stalledBody],
      ['stalled header', stalledHeader],
    ] as const) {
      const answer = await stalled;
      expect(answer.answered, label).toBe(false);
      triggered.push(`closed without an answer: ${label}`);
    }
    expect(performance.now() - started).toBeLessThan(8_000);

    // 429: a flood from one address (127.0.0.4) passes its burst of 200 and is refused in JSON; 127.0.0.1 is not.
    // In rounds of 100 at once until refused (how many it takes depends on how fast this machine sends them).
    const flood: RawAnswer[] = [];
    for (let round = 0; round < 20 && !flood.some((answer) => answer.statusCode === 429); round += 1) {
      flood.push(
        ...(await Promise.all(
          Array.from({ length: 100 }, () =>
            rawExchangeWith(
              { ...tls(), localAddress: '127.0.0.4' },
              `GET / HTTP/1.1\r\n${host}Connection: close\r\n\r\n`,
            ),
          ),
        )),
      );
    }
    const limited = flood.filter((answer) => answer.statusCode === 429);
    expect(limited.length).toBeGreaterThan(0);
    expectNginxJson(limited[0] as RawAnswer, 429, 'per-address request limit');
    expect((limited[0] as RawAnswer).headers['retry-after']).toBe('10');
    triggered.push(`429 per-address request limit (after ${flood.length} requests at once from 127.0.0.4)`);
    expect((await request(topology, { path: '/', localAddress: '127.0.0.1' })).status).toBe(200);

    // 502: the API gone (last: it does not come back).
    await topology.stopApi();
    const down = await rawExchangeWith(tls(), `GET /api/v1/test/ HTTP/1.1\r\n${host}\r\n`);
    expectNginxJson(down, 502, 'API down');
    expect(down.headers['retry-after']).toBe('5');
    triggered.push('502 API down');
    process.stdout.write(`\n  nginx statuses triggered from outside, all JSON:\n    ${triggered.join('\n    ')}\n`);
  }, 60_000);
});
