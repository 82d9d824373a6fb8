/**
 * Probes a live deployment from outside with node:http/https/tls/net directly: fetch() cannot set the
 * Host header or aim at an address other than the URL's, and the probes need both.
 *
 * Addressing: the URL names the site. `--connect ADDR` sends the connections to ADDR while Host and SNI
 * stay the URL's hostname (`--url https://ironclad.test:8443 --connect 127.0.0.1`); `--host NAME` is
 * the same the other way round, for a URL written with an address (`--url https://127.0.0.1:8443
 * --host ironclad.test`). Trust: the system CAs, or `--ca FILE`, or `--insecure` (no verification).
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { isIP, Socket } from 'node:net';
import tls from 'node:tls';
import { HSTS_MIN_MAX_AGE } from '@ironclad/config/headers';
import { type Finding, finding } from './findings.js';
import { type ObservatoryResult, scoreHeaders } from './observatory.js';

export interface LiveOptions {
  url: string;
  connect?: string;
  host?: string;
  ca?: Buffer;
  insecure?: boolean;
  /** Port of the plain-HTTP listener for the redirect check (default 80). */
  httpPort?: number;
  backendPorts: number[];
  databasePorts: number[];
  timeoutMs?: number;
}

interface Target {
  https: boolean;
  /** Host header and SNI name, without port. */
  name: string;
  address: string;
  port: number;
}

interface Answer {
  path: string;
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

const MAX_BODY = 256 * 1024;

function stripBrackets(host: string): string {
  return host.startsWith('[') ? host.slice(1, -1) : host;
}

function hostHeader(name: string, port: number, secure: boolean): string {
  const shown = isIP(name) === 6 ? `[${name}]` : name;
  return port === (secure ? 443 : 80) ? shown : `${shown}:${port}`;
}

function request(
  target: Target,
  options: LiveOptions,
  init: {
    path: string;
    method?: string;
    headers?: Record<string, string>;
    body?: string;
    hostHeader?: string;
    secure?: boolean;
    port?: number;
  },
): Promise<Answer> {
  const secure = init.secure ?? target.https;
  const port = init.port ?? target.port;
  const headers = { host: init.hostHeader ?? hostHeader(target.name, port, secure), ...init.headers };
  const common = {
    host: target.address,
    port,
    path: init.path,
    method: init.method ?? 'GET',
    headers,
    agent: false as const,
    timeout: options.timeoutMs ?? 5000,
  };
  return new Promise((resolve, reject) => {
    const onResponse = (response: http.IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      response.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size <= MAX_BODY) chunks.push(chunk);
      });
      response.on('end', () =>
        resolve({
          path: init.path,
          status: response.statusCode ?? 0,
          headers: response.headers,
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      response.on('error', reject);
    };
    const req = secure
      ? https.request(
          {
            ...common,
            servername: isIP(target.name) ? undefined : target.name,
            ca: options.ca,
            rejectUnauthorized: !options.insecure,
          },
          onResponse,
        )
      : http.request(common, onResponse);
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(init.body);
  });
}

async function attempt(promise: Promise<Answer>): Promise<Answer | Error> {
  try {
    return await promise;
  } catch (error) {
    return error as Error;
  }
}

const REDIRECT_STATUSES = [301, 302, 303, 307, 308];
// As many hops as the HTTP Observatory's retriever follows.
const MAX_REDIRECTS = 10;

/**
 * Follows the redirects of `answer` (fetched from `start`) while they stay on the audited host: the connection goes to
 * the audited address (--connect), so another host is recorded as the last hop, not fetched. Returns every URL
 * visited, `start` first, and every answer received, last the one that did not redirect (or could not be followed).
 */
async function followRedirects(
  target: Target,
  options: LiveOptions,
  start: URL,
  answer: Answer,
): Promise<{ route: string[]; answers: Answer[] }> {
  const route = [start.href];
  const answers = [answer];
  let current = start;
  let last = answer;
  while (REDIRECT_STATUSES.includes(last.status) && last.headers.location && route.length <= MAX_REDIRECTS) {
    let next: URL;
    try {
      next = new URL(last.headers.location, current);
    } catch {
      break;
    }
    if (next.protocol !== 'http:' && next.protocol !== 'https:') break;
    route.push(next.href);
    if (stripBrackets(next.hostname) !== target.name) break;
    const secure = next.protocol === 'https:';
    const hop = await attempt(
      request(target, options, {
        path: `${next.pathname}${next.search}`,
        secure,
        port: next.port ? Number(next.port) : secure ? 443 : 80,
      }),
    );
    if (hop instanceof Error) break;
    answers.push(hop);
    current = next;
    last = hop;
  }
  return { route, answers };
}

/** Completes a TLS 1.0/1.1 handshake if the server allows one. SECLEVEL=0 so that our side really offers them. */
export function legacyTlsAccepted(target: Target, options: LiveOptions): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = tls.connect({
      host: target.address,
      port: target.port,
      servername: isIP(target.name) ? undefined : target.name,
      minVersion: 'TLSv1',
      maxVersion: 'TLSv1.1',
      ciphers: 'DEFAULT@SECLEVEL=0',
      rejectUnauthorized: false,
    });
    const timer = setTimeout(() => socket.destroy(), options.timeoutMs ?? 5000);
    socket.once('secureConnect', () => {
      const protocol = socket.getProtocol() ?? 'TLSv1.x';
      clearTimeout(timer);
      socket.destroy();
      resolve(protocol);
    });
    socket.once('error', () => {
      clearTimeout(timer);
      resolve(undefined);
    });
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(undefined);
    });
  });
}

export function portOpen(address: string, port: number, timeoutMs = 1500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
    socket.connect(port, address);
  });
}

// The auditor reads answers a hostile server chose, so these stay linear (server/test/regex-everywhere.test.ts).
const FINGERPRINT_WORDS =
  /(<center>nginx|nginx\/\d|Cannot (GET|POST)|Express|Django|Werkzeug|Whitelabel Error|Apache\/\d|X-Powered-By|Fastify|"statusCode"\s*:\s*\d+\s*,\s*"error"|Microsoft-IIS)/i;

/**
 * A body that names its server: one of the words above, or "nginx" followed on the same line by a closing tag. That
 * last one is a scan of each line from its first "nginx": as a regex (`\bnginx\b.*<\/`) it rescans the line from
 * every "nginx" in it, quadratic on a line of them.
 */
export function namesServer(body: string): boolean {
  if (FINGERPRINT_WORDS.test(body)) return true;
  return body.split(/[\n\r\u2028\u2029]/).some((line) => {
    const at = line.search(/\bnginx\b/i);
    return at !== -1 && line.includes('</', at);
  });
}

// An indented `at file:line:col` line: `[^\S\n]+`, not `\s+`, so that a run of newlines is not rescanned from each.
const STACK =
  /(\n[^\S\n]+at [^\n]+:\d+:\d+|node_modules|Traceback \(most recent call last\)|\.(ts|js|py):\d+|"stack"\s*:)/;

export interface LiveAudit {
  findings: Finding[];
  observatory?: ObservatoryResult;
  notes: string[];
}

export async function auditLive(options: LiveOptions): Promise<LiveAudit> {
  const url = new URL(options.url);
  const secure = url.protocol === 'https:';
  const urlHost = stripBrackets(url.hostname);
  const target: Target = {
    https: secure,
    name: options.host ?? urlHost,
    address: options.connect ?? urlHost,
    port: url.port ? Number(url.port) : secure ? 443 : 80,
  };
  const where = options.url;
  const findings: Finding[] = [];
  const notes: string[] = [];
  const random = randomBytes(6).toString('hex');

  // Ports first: they say something even when the site itself is down.
  const portChecks = [
    ...options.databasePorts.map((port) => ({ port, id: 'live.port.database' as const })),
    ...options.backendPorts.map((port) => ({ port, id: 'live.port.backend' as const })),
  ].filter(({ port }) => port !== target.port);
  for (const { port, id } of portChecks) {
    if (await portOpen(target.address, port)) {
      findings.push(
        finding(id, `port ${port} accepts TCP connections on ${target.address}`, `${target.address}:${port}`),
      );
    }
  }

  const main = await attempt(request(target, options, { path: `${url.pathname}${url.search}` }));
  if (main instanceof Error) {
    findings.push(finding('live.unreachable', `${options.url} could not be fetched: ${main.message}`, where));
    return { findings, notes };
  }
  const answers: Answer[] = [main];

  // Plain HTTP must send the browser to HTTPS on the same host.
  // The URLs plain HTTP goes through, for the Observatory's redirection test; null: nothing answers plain HTTP.
  let httpRoute: string[] | null = null;
  let httpChain: Awaited<ReturnType<typeof followRedirects>> | undefined;
  const httpPort = secure ? (options.httpPort ?? 80) : target.port;
  const httpStart = new URL(
    secure ? '/' : `${url.pathname}${url.search}`,
    `http://${hostHeader(target.name, httpPort, false)}`,
  );
  const httpAnswer = secure
    ? await attempt(request(target, options, { path: '/', secure: false, port: options.httpPort ?? 80 }))
    : main;
  if (httpAnswer instanceof Error) {
    notes.push(`nothing answers plain HTTP on port ${options.httpPort ?? 80} (${httpAnswer.message})`);
  } else {
    httpChain = await followRedirects(target, options, httpStart, httpAnswer);
    httpRoute = httpChain.route;
    const location = httpAnswer.headers.location ?? '';
    let to: URL | undefined;
    try {
      to = new URL(location, `http://${target.name}/`);
    } catch {
      to = undefined;
    }
    // The first hop has to be https: HSTS is only taken from an HTTPS answer.
    if (!REDIRECT_STATUSES.includes(httpAnswer.status) || to?.protocol !== 'https:') {
      findings.push(
        finding('live.https-redirect', `plain HTTP answers ${httpAnswer.status} without a redirect to https://`, where),
      );
    }
  }

  if (!secure) {
    findings.push(finding('live.no-https', `${options.url} is plain HTTP`, where));
  } else {
    const legacy = await legacyTlsAccepted(target, options);
    if (legacy) findings.push(finding('live.tls.legacy', `the server completes a ${legacy} handshake`, where));
  }

  const hsts = main.headers['strict-transport-security'];
  const maxAge = Number(/max-age\s*=\s*"?(\d+)/i.exec(hsts ?? '')?.[1] ?? Number.NaN);
  if (!secure || !hsts || Number.isNaN(maxAge)) {
    findings.push(
      finding(
        'live.hsts.missing',
        secure ? 'the HTTPS answer has no valid Strict-Transport-Security' : 'HSTS cannot take effect over plain HTTP',
        where,
      ),
    );
  } else if (maxAge < HSTS_MIN_MAX_AGE) {
    findings.push(finding('live.hsts.short', `HSTS max-age is ${maxAge} seconds (under one year)`, where));
  } else if (maxAge < 63_072_000 || !/includesubdomains/i.test(hsts)) {
    findings.push(finding('live.hsts.recommended', `HSTS is "${hsts}"`, where));
  }

  // Both the site root and an API route that answers 200 to anyone: either accepting a foreign Host fails.
  for (const path of ['/', '/api/v1/test/']) {
    const unknownHost = await attempt(request(target, options, { path, hostHeader: `audit-${random}.invalid` }));
    if (unknownHost instanceof Error) continue;
    answers.push(unknownHost);
    if (unknownHost.status >= 200 && unknownHost.status < 400) {
      findings.push(
        finding('live.host.accepted', `an unknown Host header is answered ${unknownHost.status} on ${path}`, where),
      );
      break;
    }
  }

  const foreign = `https://audit-${random}.invalid`;
  const probes: { method: string; path: string; headers: Record<string, string> }[] = [
    {
      method: 'OPTIONS',
      path: '/api/v1/tasks/',
      headers: {
        origin: foreign,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization,content-type',
      },
    },
    { method: 'GET', path: '/api/v1/test/', headers: { origin: foreign } },
  ];
  for (const probe of probes) {
    const answer = await attempt(request(target, options, probe));
    if (answer instanceof Error) continue;
    answers.push(answer);
    const allowOrigin = answer.headers['access-control-allow-origin'];
    const credentials = String(answer.headers['access-control-allow-credentials'] ?? '').toLowerCase() === 'true';
    if (allowOrigin) {
      findings.push(
        finding(
          'live.cors.grant',
          `${probe.method} from an unlisted origin gets Access-Control-Allow-Origin: ${allowOrigin === foreign ? '(its own origin)' : allowOrigin}`,
          where,
        ),
      );
    }
    if (credentials) {
      findings.push(
        finding(
          'live.cors.credentials',
          `${probe.method} from an unlisted origin gets Access-Control-Allow-Credentials: true`,
          where,
        ),
      );
    }
  }

  const notFound = await attempt(request(target, options, { path: `/api/v1/audit-${random}/` }));
  if (!(notFound instanceof Error)) {
    answers.push(notFound);
    let json = false;
    try {
      JSON.parse(notFound.body);
      json = /application\/(problem\+)?json/i.test(String(notFound.headers['content-type'] ?? ''));
    } catch {
      json = false;
    }
    if (notFound.status !== 404 || !json) {
      findings.push(
        finding(
          'live.404.not-json',
          `an unknown API path answers ${notFound.status} ${String(notFound.headers['content-type'] ?? 'without a content type')}`,
          where,
        ),
      );
    }
  }

  const errorProbes = await Promise.all([
    attempt(
      request(target, options, {
        path: '/api/v1/users/login/',
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"email": ',
      }),
    ),
    attempt(request(target, options, { path: '/api/v1/tasks/%E0%A4%A' })),
  ]);
  for (const answer of errorProbes) {
    if (answer instanceof Error) continue;
    answers.push(answer);
    if (STACK.test(answer.body)) {
      findings.push(
        finding('live.error.stack', `an error answer (${answer.status}) carries a stack trace or source path`, where),
      );
      break;
    }
  }

  for (const [path, looksReal] of [
    // `[ \t]*`, not `\s*`: with `m`, `^\s*` rescans every following blank line from each line start (quadratic).
    ['/.env', (body: string) => /^[ \t]*[A-Z][A-Z0-9_]*[ \t]*=/m.test(body) && !/<html/i.test(body)],
    ['/.git/config', (body: string) => /\[core\]/.test(body)],
    ['/.git/HEAD', (body: string) => /^ref: refs\//.test(body)],
  ] as const) {
    const answer = await attempt(request(target, options, { path }));
    if (answer instanceof Error) continue;
    answers.push(answer);
    if (answer.status === 200 && looksReal(answer.body)) {
      findings.push(finding('live.sensitive-file', `${path} is served`, `${where.replace(/\/$/, '')}${path}`));
    }
  }

  const fingerprinted = answers.find((answer) => answer.status >= 400 && namesServer(answer.body));
  if (fingerprinted) {
    findings.push(
      finding(
        'live.fingerprint',
        `the ${fingerprinted.status} answer to ${fingerprinted.path} names the software that produced it`,
        where,
      ),
    );
  }
  const server = answers.map((a) => String(a.headers.server ?? '')).find((value) => /\d/.test(value));
  if (server) findings.push(finding('live.server-version', `Server: ${server}`, where));
  if (answers.some((a) => a.headers['x-powered-by'])) {
    findings.push(finding('live.x-powered-by', 'an answer carries X-Powered-By', where));
  }

  // The Observatory scores the answer the URL ends at after its redirects, with the cookies of every hop, and sends
  // the CORS preflight there from a foreign origin.
  const startUrl = new URL(
    `${url.pathname}${url.search}`,
    `${url.protocol}//${hostHeader(target.name, target.port, secure)}`,
  );
  const chain = !secure && httpChain ? httpChain : await followRedirects(target, options, startUrl, main);
  const scored = chain.answers[chain.answers.length - 1] as Answer;
  const scoredUrl = new URL(chain.route[chain.answers.length - 1] as string);
  const preflight = await attempt(
    request(target, options, {
      method: 'OPTIONS',
      path: scored.path,
      secure: scoredUrl.protocol === 'https:',
      port: scoredUrl.port ? Number(scoredUrl.port) : scoredUrl.protocol === 'https:' ? 443 : 80,
      headers: { origin: foreign, 'access-control-request-method': 'GET' },
    }),
  );
  const observatory = scoreHeaders({
    https: scoredUrl.protocol === 'https:',
    headers: { ...scored.headers, 'set-cookie': chain.answers.flatMap((answer) => answer.headers['set-cookie'] ?? []) },
    body: scored.body,
    status: scored.status,
    hostname: target.name,
    path: scoredUrl.pathname,
    httpRoute,
    preflight: preflight instanceof Error ? undefined : { origin: foreign, headers: preflight.headers },
  });
  if (observatory.score < 90) {
    findings.push(
      finding(
        'live.observatory',
        `the headers score ${observatory.score} (${observatory.grade}) by the HTTP Observatory`,
        where,
      ),
    );
  }
  return { findings, observatory, notes };
}
