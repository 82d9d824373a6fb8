import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { PG_PORT } from '@ironclad/testkit/database';
import { gateFor } from '@ironclad/testkit/gate';
import { start, stop } from '@ironclad/testkit/process';
import { startTopology } from '@ironclad/testkit/topology';
import { afterAll, describe, expect, it } from 'vitest';
import { CHECKS } from '../src/findings.js';
import { auditLive, type LiveOptions } from '../src/live-checks.js';
import { gradeOf, scoreHeaders } from '../src/observatory.js';
import { removeTempDirs, tempDir } from './fixtures.js';

afterAll(removeTempDirs);

/** Ports that were free a moment ago: a clean result must not depend on what else runs on this machine. */
async function closedPorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  for (let i = 0; i < count; i += 1) {
    const server = createServer();
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    ports.push((server.address() as { port: number }).port);
    await new Promise((done) => server.close(done));
  }
  return ports;
}

async function listen(server: http.Server | https.Server): Promise<number> {
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return (server.address() as { port: number }).port;
}

function selfSigned(name: string): { key: string; cert: string } {
  const dir = tempDir();
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', `/CN=${name}`,
    '-addext', `subjectAltName=DNS:${name}`, '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
  ], { stdio: 'ignore' }); // biome-ignore format: one argument list
  return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
}

const postgres = await gateFor('auditor live test on the local PostgreSQL port', ['postgres']);
const nginxGate = await gateFor('auditor live test on the nginx topology', [
  'nginx',
  'openssl',
  'envsubst',
  'postgres',
]);

const fired = new Set<string>();
const base = async (): Promise<Pick<LiveOptions, 'backendPorts' | 'databasePorts'>> => {
  const [a, b] = await closedPorts(2);
  return { backendPorts: [a as number], databasePorts: [b as number] };
};

describe('live audit', () => {
  it('the API started with insecure-but-startable settings over plain HTTP: no HTTPS, no redirect, HSTS void', async () => {
    // The built API as a real process, as an operator would run it carelessly. With room for a loaded machine:
    // creating the embedded database can take over 20 s (as in server/test/data-dir-lock.test.ts).
    const server = await start(
      { DEBUG: 'true', ALLOWED_HOSTS: '*', TRUST_PROXY: 'false', DATA_DIR: 'memory://' },
      undefined,
      { startupMs: 90_000 },
    );
    try {
      const port = Number(new URL(server.url).port);
      const [closed] = await closedPorts(1);
      const { findings, observatory } = await auditLive({
        url: `http://127.0.0.1:${port}/`,
        httpPort: closed,
        ...(await base()),
      });
      const ids = findings.map((f) => f.id);
      for (const id of ids) fired.add(id);
      expect(ids).toEqual(
        expect.arrayContaining(['live.no-https', 'live.https-redirect', 'live.hsts.missing', 'live.host.accepted']),
      );
      // What the API does right still shows: JSON 404, no CORS grant, no fingerprint, no stack.
      expect(ids).not.toContain('live.404.not-json');
      expect(ids).not.toContain('live.cors.grant');
      expect(ids).not.toContain('live.fingerprint');
      expect(ids).not.toContain('live.error.stack');
      expect(observatory?.tests.find((t) => t.test === 'strict-transport-security')?.result).toBe(
        'hsts-not-implemented-no-https',
      );
    } finally {
      await stop(server);
    }
  }, 120_000);

  it('a careless server: CORS echo with credentials, dotfiles served, versions, stacks, HTML errors', async () => {
    const server = http.createServer((req, res) => {
      res.setHeader('Server', 'nginx/1.18.0');
      res.setHeader('X-Powered-By', 'Express');
      if (req.headers.origin) {
        res.setHeader('Access-Control-Allow-Origin', req.headers.origin);
        res.setHeader('Access-Control-Allow-Credentials', 'true');
      }
      if (req.url === '/.env') return res.end('SECRET_KEY=x\nDEBUG=True\n');
      if (req.url === '/.git/config') return res.end('[core]\n\trepositoryformatversion = 0\n');
      if (req.url === '/') return res.end('<html>home</html>');
      res.statusCode = req.method === 'POST' ? 500 : 404;
      res.setHeader('content-type', 'text/html');
      res.end(`<pre>Cannot GET ${req.url}\nError: boom\n    at handler (/app/server.js:10:5)</pre>`);
    });
    const port = await listen(server);
    try {
      const { findings, observatory } = await auditLive({
        url: `http://127.0.0.1:${port}/`,
        httpPort: port,
        ...(await base()),
      });
      const ids = new Set(findings.map((f) => f.id));
      for (const id of ids) fired.add(id);
      for (const id of [
        'live.cors.grant',
        'live.cors.credentials',
        'live.sensitive-file',
        'live.server-version',
        'live.x-powered-by',
        'live.error.stack',
        'live.fingerprint',
        'live.404.not-json',
        'live.observatory',
      ]) {
        expect(ids, id).toContain(id);
      }
      expect(observatory?.grade).toBe('F');
    } finally {
      server.close();
    }
  });

  it('TLS: a server that allows TLS 1.0/1.1 and sends a short HSTS is reported; --host sets Host and SNI', async () => {
    const { key, cert } = selfSigned('legacy.test');
    const server = https.createServer({ key, cert, minVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' }, (req, res) => {
      res.setHeader('Strict-Transport-Security', 'max-age=86400');
      res.statusCode = req.headers.host?.startsWith('legacy.test') ? 200 : 400;
      res.end('{}');
    });
    const port = await listen(server);
    try {
      const options = {
        url: `https://127.0.0.1:${port}/`,
        host: 'legacy.test',
        ca: Buffer.from(cert),
        ...(await base()),
      };
      const { findings } = await auditLive({ ...options, httpPort: (await closedPorts(1))[0] });
      const ids = findings.map((f) => f.id);
      for (const id of ids) fired.add(id);
      expect(ids).toEqual(expect.arrayContaining(['live.tls.legacy', 'live.hsts.short']));
      // The certificate is verified against --ca: without it (and without --insecure) nothing is fetched.
      const untrusted = await auditLive({ ...options, ca: undefined });
      expect(untrusted.findings.map((f) => f.id)).toContain('live.unreachable');
      for (const f of untrusted.findings) fired.add(f.id);
    } finally {
      server.close();
    }
  });

  it('a TLS 1.2+ server is not reported as legacy (the probe fails closed)', async () => {
    const { key, cert } = selfSigned('modern.test');
    const server = https.createServer({ key, cert, minVersion: 'TLSv1.2' }, (_req, res) => {
      res.setHeader('Strict-Transport-Security', 'max-age=63072000; includeSubDomains');
      res.end('{}');
    });
    const port = await listen(server);
    try {
      const { findings } = await auditLive({
        url: `https://modern.test:${port}/`,
        connect: '127.0.0.1',
        insecure: true,
        httpPort: (await closedPorts(1))[0],
        ...(await base()),
      });
      const ids = findings.map((f) => f.id);
      expect(ids).not.toContain('live.tls.legacy');
      expect(ids).not.toContain('live.hsts.short');
      expect(ids).not.toContain('live.hsts.missing');
    } finally {
      server.close();
    }
  });

  postgres.it(
    'the PostgreSQL port that really listens on this machine is reported as reachable; a backend port too',
    async () => {
      const backend = http.createServer((_req, res) => res.end());
      const backendPort = await listen(backend);
      try {
        const [closed] = await closedPorts(1);
        const { findings } = await auditLive({
          url: `http://127.0.0.1:${closed}/`,
          backendPorts: [backendPort],
          databasePorts: [PG_PORT],
        });
        const ids = findings.map((f) => `${f.id} ${f.location}`);
        for (const f of findings) fired.add(f.id);
        expect(ids).toEqual(
          expect.arrayContaining([
            `live.port.database 127.0.0.1:${PG_PORT}`,
            `live.port.backend 127.0.0.1:${backendPort}`,
            `live.unreachable http://127.0.0.1:${closed}/`,
          ]),
        );
      } finally {
        backend.close();
      }
    },
  );

  nginxGate.it(
    'the native nginx topology (testkit/src/topology.ts) comes out clean',
    async () => {
      const topology = await startTopology();
      try {
        const { findings, observatory } = await auditLive({
          url: `https://${topology.domain}:${topology.httpsPort}/`,
          connect: '127.0.0.1',
          ca: Buffer.from(topology.ca),
          httpPort: topology.httpPort,
          ...(await base()),
        });
        expect(findings.map((f) => `${f.id}: ${f.message}`)).toEqual([]);
        expect(observatory?.score).toBeGreaterThanOrEqual(90);
      } finally {
        await topology.stop();
      }
    },
    120_000,
  );

  // Only meaningful when every server above ran.
  (postgres.skip || nginxGate.skip ? it.skip : it)('every live check ID fired on some server above', () => {
    const liveIds = Object.keys(CHECKS).filter((id) => id.startsWith('live.'));
    // live.hsts.recommended is unit-tested below.
    expect(liveIds.filter((id) => !fired.has(id) && id !== 'live.hsts.recommended')).toEqual([]);
  });
});

describe('HTTP Observatory scoring', () => {
  const input = {
    https: true,
    body: '{}',
    status: 200,
    hostname: 'tasks.example.com',
    httpRoute: ['http://tasks.example.com/', 'https://tasks.example.com/'],
  };

  it("scores the API's own headers A+ (CSP default-src 'none' +10, frame-ancestors +5, no-referrer +5)", () => {
    const result = scoreHeaders({
      ...input,
      headers: {
        'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
        'strict-transport-security': 'max-age=63072000; includeSubDomains',
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'DENY',
        'referrer-policy': 'no-referrer',
        'content-type': 'application/json',
      },
    });
    expect(result).toMatchObject({ score: 120, grade: 'A+' });
  });

  it('bare headers over HTTP score 0 (F); bonuses do not lift a site below 90', () => {
    const bare = scoreHeaders({ ...input, https: false, httpRoute: ['http://tasks.example.com/'], headers: {} });
    // -25 CSP, -20 redirect, -20 HSTS, -5 XCTO, -20 XFO = 10
    expect(bare).toMatchObject({ score: 10, grade: 'F' });
    const partial = scoreHeaders({
      ...input,
      headers: { 'referrer-policy': 'no-referrer', 'strict-transport-security': 'max-age=63072000' },
    });
    expect(partial.score).toBe(100 - 25 - 5 - 20);
  });

  it('session cookies without Secure/HttpOnly cost the most; a clean one earns the SameSite bonus', () => {
    const headers = {
      'content-security-policy': "default-src 'self'",
      'strict-transport-security': 'max-age=63072000',
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
    };
    const bad = scoreHeaders({ ...input, headers: { ...headers, 'set-cookie': ['sessionid=1; Path=/'] } });
    // Neither flag: the worse of the two penalties counts (HttpOnly -30; Secure is softened by HSTS to -10).
    expect(bad.tests.find((t) => t.test === 'cookies')?.result).toBe('cookies-session-without-httponly-flag');
    const good = scoreHeaders({
      ...input,
      headers: { ...headers, 'set-cookie': ['ironclad_session=1; Secure; HttpOnly; SameSite=Strict'] },
    });
    expect(good.tests.find((t) => t.test === 'cookies')).toMatchObject({ modifier: 5 });
    expect(gradeOf(good.score)).toBe('A+');
  });

  it('a live site is scored on the answer its URL redirects to, with the cookies of every hop, its plain-HTTP route and a CORS preflight', async () => {
    const { key, cert } = selfSigned('obs.test');
    const token = () => Math.random().toString(36).slice(2);
    const site = https.createServer({ key, cert }, (req, res) => {
      if (req.headers.origin) {
        // Reflects any origin with credentials: the Observatory's universal access (-50).
        res.setHeader('Access-Control-Allow-Origin', req.headers.origin);
        res.setHeader('Access-Control-Allow-Credentials', 'true');
      }
      if (req.method === 'OPTIONS') return res.writeHead(204).end();
      if (req.url === '/') {
        // The hop's anti-CSRF cookie has no SameSite (-20): it counts although the hop is not the scored answer.
        res.setHeader('Set-Cookie', `csrftoken=${token()}; Secure; Path=/`);
        return res.writeHead(302, { location: '/login/' }).end();
      }
      res.setHeader('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'");
      res.setHeader('Strict-Transport-Security', 'max-age=63072000; includeSubDomains');
      res.setHeader('X-Content-Type-Options', 'nosniff');
      res.setHeader('Referrer-Policy', 'no-referrer');
      res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
      res.setHeader('Set-Cookie', `sessionid=${token()}; Secure; HttpOnly; SameSite=Lax; Path=/`);
      res.setHeader('Content-Type', 'text/html');
      res.end('<html><body><script src="/static/app.js"></script></body></html>');
    });
    const httpsPort = await listen(site);
    const plain = http.createServer((_req, res) => {
      res.writeHead(301, { location: `https://obs.test:${httpsPort}/` }).end();
    });
    const httpPort = await listen(plain);
    try {
      const { findings, observatory } = await auditLive({
        url: `https://obs.test:${httpsPort}/`,
        connect: '127.0.0.1',
        ca: Buffer.from(cert),
        httpPort,
        ...(await base()),
      });
      expect(findings.map((f) => f.id)).not.toContain('live.https-redirect');
      const results = Object.fromEntries(observatory?.tests.map((t) => [t.test, t.result]) ?? []);
      expect(results).toMatchObject({
        'content-security-policy': 'csp-implemented-with-no-unsafe-default-src-none',
        cookies: 'cookies-anticsrf-without-samesite-flag',
        'cross-origin-resource-sharing': 'cross-origin-resource-sharing-implemented-with-universal-access',
        redirection: 'redirection-to-https',
        'subresource-integrity': 'sri-not-implemented-but-all-scripts-loaded-from-secure-origin',
        'x-frame-options': 'x-frame-options-implemented-via-csp',
        'cross-origin-resource-policy': 'corp-implemented-with-same-origin',
      });
      // 100 - 50 - 20 = 30: below 90, so the bonuses (+10 CSP, +5 frame-ancestors, +5 referrer, +10 CORP) do not count.
      expect(observatory).toMatchObject({ score: 30, grade: 'D' });
    } finally {
      site.close();
      plain.close();
    }
  });

  it('HSTS of a year but without includeSubDomains is an info finding (live.hsts.recommended)', async () => {
    const { key, cert } = selfSigned('year.test');
    const server = https.createServer({ key, cert }, (_req, res) => {
      res.setHeader('Strict-Transport-Security', 'max-age=31536000');
      res.end('{}');
    });
    const port = await listen(server);
    try {
      const { findings } = await auditLive({
        url: `https://year.test:${port}/`,
        connect: '127.0.0.1',
        insecure: true,
        ...(await base()),
      });
      expect(findings.map((f) => f.id)).toContain('live.hsts.recommended');
    } finally {
      server.close();
    }
  });
});
