/**
 * Our Observatory scoring (audit/src/observatory.ts) against the real one: @mdn/mdn-http-observatory 1.4.8, a
 * devDependency of this workspace used by this test only. Its analysis functions are pure once a scan's results are
 * in hand (src/analyzer/tests/*.js take a `Requests`), so each case below is scored by both: the same headers, body,
 * plain-HTTP route and CORS preflight, given to ours as an ObservatoryInput and to the package as the `Requests` its
 * retriever would have built (axios-style headers, a tough-cookie jar fed the Set-Cookie headers, http-equiv read by
 * its own parser). The per-test results, the score and the grade must be equal.
 *
 * Offline: the package's install script (not run: root package.json allowScripts) downloads the HSTS preload list to
 * its conf/hsts-preload.json; the test supplies a minimal local list (observatory-hsts-preload.json) instead.
 */
import { copyFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  gradeOf,
  MINIMUM_SCORE_FOR_EXTRA_CREDIT,
  MODIFIERS,
  type ObservatoryInput,
  scoreHeaders,
} from '../src/observatory.js';

type Headers = ObservatoryInput['headers'];

interface ReferenceOutput {
  result: string;
  constructor: { name: string };
}
interface Reference {
  tests: ((requests: unknown) => ReferenceOutput)[];
  modifierOf: (result: string) => number;
  gradeFor: (score: number) => { score: number; grade: string };
  scoreTable: Map<string, { modifier: number }>;
  minimumForExtraCredit: number;
  parseHttpEquivHeaders: (html: string, url: string) => Map<string, string[]>;
  CookieJar: new () => { setCookieSync(cookie: string, url: string, options: { ignoreError: boolean }): unknown };
}

const require = createRequire(import.meta.url);
const packageJson = require.resolve('@mdn/mdn-http-observatory/package.json');
const packageDir = dirname(packageJson);
let reference: Reference;

beforeAll(async () => {
  // What the install script would have downloaded, from a local file.
  const preload = join(packageDir, 'conf', 'hsts-preload.json');
  if (!existsSync(preload)) {
    copyFileSync(join(dirname(fileURLToPath(import.meta.url)), 'observatory-hsts-preload.json'), preload);
  }
  const load = (path: string) => import(pathToFileURL(join(packageDir, path)).href);
  const constants = await load('src/constants.js');
  const grader = await load('src/grader/grader.js');
  const charts = await load('src/grader/charts.js');
  const equiv = await load('src/retriever/utils.js');
  // The package's own tough-cookie (5.x), not the one the web client's jsdom brings.
  const toughCookie = createRequire(packageJson)('tough-cookie');
  reference = {
    tests: constants.ALL_TESTS,
    modifierOf: grader.getScoreModifier,
    gradeFor: grader.getGradeForScore,
    scoreTable: charts.SCORE_TABLE,
    minimumForExtraCredit: charts.MINIMUM_SCORE_FOR_EXTRA_CREDIT,
    parseHttpEquivHeaders: equiv.parseHttpEquivHeaders,
    CookieJar: toughCookie.CookieJar,
  };
});

const first = (headers: Headers, name: string) => {
  const value = Object.entries(headers).find(([key]) => key.toLowerCase() === name)?.[1];
  return Array.isArray(value) ? value[0] : value;
};

/** The scan the package's retriever would have made of this input, and its scoring (src/scanner/index.js). */
function referenceScore(input: ObservatoryInput) {
  const url = new URL(`${input.https ? 'https' : 'http'}://${input.hostname}${input.path ?? '/'}`);
  // node:http never gives a header without a value; the cases below write `undefined` to take one of STRONG out.
  const headers: Headers = Object.fromEntries(Object.entries(input.headers).filter(([, v]) => v !== undefined));
  // axios' AxiosHeaders#get, which the CSP test calls for the report-only header.
  Object.defineProperty(headers, 'get', { value: (name: string) => first(headers, name.toLowerCase()) });
  const jar = new reference.CookieJar();
  const cookies = headers['set-cookie'];
  for (const cookie of cookies === undefined ? [] : [cookies].flat()) {
    jar.setCookieSync(cookie, url.href, { ignoreError: true });
  }
  const mime = (first(headers, 'content-type') ?? '').split(';')[0] ?? '';
  const html = ['text/html', 'application/xhtml+xml'].includes(mime) && input.body;
  const auto = {
    status: input.status,
    headers,
    data: input.body,
    verified: true,
    httpEquiv: html ? reference.parseHttpEquivHeaders(input.body, url.href) : new Map(),
  };
  const route = (input.httpRoute ?? []).map((href) => ({ url: new URL(href), status: 301 }));
  const requests = {
    hostname: input.hostname,
    resources: { path: input.body },
    responses: {
      auto,
      https: input.https ? auto : null,
      http: input.httpRoute ? { status: 301, headers: {}, verified: true } : null,
      cors: input.preflight
        ? { status: 204, headers: input.preflight.headers, request: { headers: { Origin: input.preflight.origin } } }
        : null,
      httpRedirects: route,
      httpsRedirects: route,
    },
    session: { url, jar },
  };
  const outputs = reference.tests.map((test) => test(requests));
  let withBonus = 100;
  let uncurved = 100;
  for (const output of outputs) {
    const modifier = reference.modifierOf(output.result);
    withBonus += modifier;
    if (modifier < 0) uncurved += modifier;
  }
  const { score, grade } = reference.gradeFor(uncurved >= reference.minimumForExtraCredit ? withBonus : uncurved);
  return { score, grade, tests: outputs.map((output) => ({ test: output.constructor.name, result: output.result })) };
}

const HOST = 'tasks.example.com';
const STRONG = {
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'strict-transport-security': 'max-age=63072000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cross-origin-resource-policy': 'same-origin',
  'content-type': 'application/json',
};
const ok = (overrides: Partial<ObservatoryInput> = {}): ObservatoryInput => ({
  https: true,
  headers: STRONG,
  body: '{}',
  status: 200,
  hostname: HOST,
  httpRoute: [`http://${HOST}/`, `https://${HOST}/`],
  ...overrides,
});
const withHeaders = (headers: Headers, overrides: Partial<ObservatoryInput> = {}) =>
  ok({ headers: { ...STRONG, ...headers }, ...overrides });
const page = (body: string, headers: Headers = {}, overrides: Partial<ObservatoryInput> = {}) =>
  withHeaders({ 'content-type': 'text/html; charset=utf-8', ...headers }, { body, ...overrides });
const without = (...names: string[]): Headers =>
  Object.fromEntries(Object.entries(STRONG).filter(([name]) => !names.includes(name)));
const ORIGIN = 'https://audit-origin.invalid';

// Built at run time: this repository audits itself for literal credentials, and a cookie value is not one.
const value = () => Math.random().toString(36).slice(2);

const CASES: [string, ObservatoryInput][] = [
  // Content-Security-Policy
  ['strong API headers', ok()],
  ['no CSP', ok({ headers: without('content-security-policy') })],
  ['CSP too short to parse', withHeaders({ 'content-security-policy': 'abc' })],
  ['CSP present but empty', withHeaders({ 'content-security-policy': '' })],
  ['CSP with a repeated directive', withHeaders({ 'content-security-policy': "script-src 'self'; script-src 'none'" })],
  [
    'CSP sent twice (joined by a comma)',
    withHeaders({ 'content-security-policy': "default-src 'none', default-src 'self'" }),
  ],
  [
    'report-only CSP',
    ok({
      headers: { ...without('content-security-policy'), 'content-security-policy-report-only': "default-src 'self'" },
    }),
  ],
  ['default-src self', withHeaders({ 'content-security-policy': "default-src 'self'" })],
  [
    'unsafe-inline scripts',
    withHeaders({ 'content-security-policy': "default-src 'self'; script-src 'self' 'unsafe-inline'" }),
  ],
  ['data: scripts', withHeaders({ 'content-security-policy': "default-src 'self'; script-src 'self' data:" })],
  ['https: scripts', withHeaders({ 'content-security-policy': "default-src 'self'; script-src https:" })],
  ['script-src without object-src', withHeaders({ 'content-security-policy': "script-src 'self'" })],
  [
    'nonce cancels unsafe-inline',
    withHeaders({
      'content-security-policy': "default-src 'self'; script-src 'nonce-abc' 'unsafe-inline'; object-src 'none'",
    }),
  ],
  [
    'strict-dynamic without nonce',
    withHeaders({ 'content-security-policy': "default-src 'self'; script-src 'strict-dynamic'" }),
  ],
  [
    'strict-dynamic with nonce and fallbacks',
    withHeaders({
      'content-security-policy':
        "object-src 'none'; script-src 'nonce-r4nd' 'strict-dynamic' https: 'unsafe-inline'; base-uri 'none'",
    }),
  ],
  ['unsafe-eval', withHeaders({ 'content-security-policy': "default-src 'self'; script-src 'self' 'unsafe-eval'" })],
  [
    'http: script host',
    withHeaders({ 'content-security-policy': "default-src 'self'; script-src 'self' http://cdn.example.net" }),
  ],
  [
    'http: images only',
    withHeaders({ 'content-security-policy': "default-src 'self'; img-src 'self' http://img.example.net" }),
  ],
  [
    'http: images over plain HTTP',
    withHeaders({ 'content-security-policy': "default-src 'self'; img-src http:" }, { https: false }),
  ],
  [
    'unsafe-inline styles only',
    withHeaders({ 'content-security-policy': "default-src 'self'; style-src 'self' 'unsafe-inline'" }),
  ],
  [
    'duplicate report-uri',
    withHeaders({
      'content-security-policy': "default-src 'none'; report-uri /a; report-uri /b; frame-ancestors 'none'",
    }),
  ],
  [
    'helmet defaults',
    withHeaders({
      'content-security-policy':
        "default-src 'self';base-uri 'self';font-src 'self' https: data:;form-action 'self';frame-ancestors 'self';img-src 'self' data:;object-src 'none';script-src 'self';script-src-attr 'none';style-src 'self' https: 'unsafe-inline';upgrade-insecure-requests",
      'cross-origin-resource-policy': 'same-origin',
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'SAMEORIGIN',
    }),
  ],
  [
    'CSP in a meta tag only',
    page(
      '<html><head><meta http-equiv="Content-Security-Policy" content="default-src \'self\'"></head><body></body></html>',
      {
        'content-security-policy': undefined,
      },
    ),
  ],
  [
    'meta CSP of frame-ancestors only',
    page('<meta http-equiv="content-security-policy" content="frame-ancestors \'none\'">', {
      'content-security-policy': undefined,
    }),
  ],
  [
    'header and meta CSP intersect',
    page("<meta http-equiv='Content-Security-Policy' content=\"script-src 'self' https://cdn.example.net\">", {
      'content-security-policy': "default-src 'none'; script-src 'self'",
    }),
  ],
  [
    'meta CSP inside a comment is not one',
    page('<!-- <meta http-equiv="Content-Security-Policy" content="default-src \'self\'"> -->', {
      'content-security-policy': undefined,
    }),
  ],
  // Cookies
  [
    'session cookie without flags over HTTPS with HSTS',
    withHeaders({ 'set-cookie': [`sessionid=${value()}; Path=/`] }),
  ],
  [
    'session cookie without flags and no HSTS',
    withHeaders({ 'set-cookie': [`sessionid=${value()}; Path=/`], 'strict-transport-security': undefined }),
  ],
  [
    'session cookie HttpOnly but not Secure, HSTS on',
    withHeaders({ 'set-cookie': [`sessionid=${value()}; HttpOnly; SameSite=Lax`] }),
  ],
  [
    'session cookie Secure but not HttpOnly',
    withHeaders({ 'set-cookie': [`connect.sid=${value()}; Path=/; Secure; SameSite=Lax`] }),
  ],
  ['plain cookie without Secure, HSTS on', withHeaders({ 'set-cookie': [`theme=${value()}; Path=/`] })],
  [
    'plain cookie without Secure, short HSTS',
    withHeaders({ 'set-cookie': [`theme=${value()}; Path=/`], 'strict-transport-security': 'max-age=3600' }),
  ],
  ['SameSite with an unknown value', withHeaders({ 'set-cookie': [`theme=${value()}; Secure; SameSite=Sometimes`] })],
  ['SameSite without value', withHeaders({ 'set-cookie': [`theme=${value()}; Secure; SameSite`] })],
  ['SameSite=None without Secure', withHeaders({ 'set-cookie': [`theme=${value()}; SameSite=None`] })],
  ['CSRF cookie without SameSite', withHeaders({ 'set-cookie': [`csrftoken=${value()}; Secure`] })],
  [
    'Django: csrftoken Lax, sessionid Secure HttpOnly Lax',
    withHeaders({
      'set-cookie': [
        `csrftoken=${value()}; expires=Tue, 30 Nov 2027 06:00:00 GMT; Max-Age=31449600; Path=/; SameSite=Lax; Secure`,
        `sessionid=${value()}; expires=Tue, 15 Dec 2026 06:00:00 GMT; HttpOnly; Max-Age=1209600; Path=/; SameSite=Lax; Secure`,
      ],
    }),
  ],
  [
    'secure cookies, one without SameSite',
    withHeaders({
      'set-cookie': [`ironclad_session=${value()}; Secure; HttpOnly`, `lang=${value()}; Secure; SameSite=Strict`],
    }),
  ],
  [
    'a cookie for another domain is dropped',
    withHeaders({ 'set-cookie': [`sessionid=${value()}; Domain=other.example.org`] }),
  ],
  ['a cookie for a public suffix is dropped', withHeaders({ 'set-cookie': [`sessionid=${value()}; Domain=com`] })],
  [
    'a cookie for the parent domain counts',
    withHeaders({ 'set-cookie': [`login=${value()}; Domain=.example.com; Secure`] }),
  ],
  [
    '__Host- cookie with a Domain is dropped',
    withHeaders({ 'set-cookie': [`__Host-sess=${value()}; Secure; Path=/; Domain=${HOST}`] }),
  ],
  ['__Secure- cookie without Secure is dropped', withHeaders({ 'set-cookie': [`__Secure-sess=${value()}; HttpOnly`] })],
  ['Heroku affinity cookie is ignored', withHeaders({ 'set-cookie': [`heroku-session-affinity=${value()}; Path=/`] })],
  ['cookie without a name is dropped', withHeaders({ 'set-cookie': [value(), `=${value()}`] })],
  [
    'the same cookie twice: the last one counts',
    withHeaders({
      'set-cookie': [`sessionid=${value()}; Path=/`, `sessionid=${value()}; Path=/; Secure; HttpOnly; SameSite=Strict`],
    }),
  ],
  [
    'cookies over plain HTTP',
    withHeaders(
      { 'set-cookie': [`sessionid=${value()}; HttpOnly; Secure; SameSite=Lax`] },
      { https: false, httpRoute: [`http://${HOST}/`] },
    ),
  ],
  // CORS (the answer to a preflight from a foreign origin)
  ['CORS public', ok({ preflight: { origin: ORIGIN, headers: { 'access-control-allow-origin': '*' } } })],
  [
    'CORS echo with credentials',
    ok({
      preflight: {
        origin: ORIGIN,
        headers: { 'access-control-allow-origin': ORIGIN, 'access-control-allow-credentials': 'true' },
      },
    }),
  ],
  [
    'CORS echo without credentials',
    ok({ preflight: { origin: ORIGIN, headers: { 'access-control-allow-origin': ORIGIN } } }),
  ],
  [
    'CORS fixed origin with credentials',
    ok({
      preflight: {
        origin: ORIGIN,
        headers: {
          'access-control-allow-origin': 'https://app.example.com',
          'access-control-allow-credentials': 'true',
        },
      },
    }),
  ],
  ['CORS preflight refused', ok({ preflight: { origin: ORIGIN, headers: {} } })],
  // Redirection
  ['nothing on plain HTTP', ok({ httpRoute: null })],
  ['plain HTTP does not redirect', ok({ httpRoute: [`http://${HOST}/`] })],
  ['plain HTTP redirects to another host', ok({ httpRoute: [`http://${HOST}/`, 'https://www.example.com/'] })],
  ['plain HTTP redirects to plain HTTP', ok({ httpRoute: [`http://${HOST}/`, `http://${HOST}/login/`] })],
  [
    'plain HTTP redirects over HTTP first',
    ok({ httpRoute: [`http://${HOST}/`, `http://www.${HOST}/`, `https://www.${HOST}/`] }),
  ],
  // Referrer-Policy
  ['no Referrer-Policy', ok({ headers: without('referrer-policy') })],
  ['Referrer-Policy unsafe-url', withHeaders({ 'referrer-policy': 'unsafe-url' })],
  ['Referrer-Policy no-referrer-when-downgrade', withHeaders({ 'referrer-policy': 'no-referrer-when-downgrade' })],
  ['Referrer-Policy invalid', withHeaders({ 'referrer-policy': 'never' })],
  ['Referrer-Policy empty', withHeaders({ 'referrer-policy': '' })],
  ['Referrer-Policy list: the last known wins', withHeaders({ 'referrer-policy': 'no-referrer, unsafe-url, bogus' })],
  [
    'meta referrer after the header',
    page('<meta name="referrer" content="origin">', { 'referrer-policy': 'strict-origin-when-cross-origin' }),
  ],
  ['meta referrer only', page('<meta name="Referrer" content="same-origin">', { 'referrer-policy': undefined })],
  // Strict-Transport-Security
  ['no HSTS', ok({ headers: without('strict-transport-security') })],
  ['HSTS without max-age', withHeaders({ 'strict-transport-security': 'includeSubDomains' })],
  ['HSTS of a day', withHeaders({ 'strict-transport-security': 'max-age=86400' })],
  ['HSTS of 180 days', withHeaders({ 'strict-transport-security': 'max-age=15552000' })],
  ['HSTS sent twice', withHeaders({ 'strict-transport-security': 'max-age=63072000, max-age=63072000' })],
  ['HSTS with a quoted max-age', withHeaders({ 'strict-transport-security': 'max-age="63072000"' })],
  ['HSTS with spaces around =', withHeaders({ 'strict-transport-security': 'max-age = 63072000' })],
  ['site on plain HTTP only', withHeaders({}, { https: false, httpRoute: [`http://${HOST}/`] })],
  // Subresource Integrity
  ['HTML without scripts', page('<html><body>hi</body></html>')],
  ['inline script only', page('<script>var a = 1;</script>')],
  ['same-origin scripts', page('<script src="/static/app.js"></script><script src="vendor.js"></script>')],
  [
    'same-origin script with integrity',
    page(
      '<script src="/static/app.js" integrity="sha384-abc" crossorigin="anonymous"></script><script src="/b.js"></script>',
    ),
  ],
  [
    'external script over HTTPS without integrity',
    page('<script src="https://cdn.jsdelivr.net/npm/a@1/a.js"></script>'),
  ],
  [
    'external script over HTTPS with integrity',
    page('<script src="https://cdn.jsdelivr.net/npm/a@1/a.js" integrity="sha384-abc" crossorigin></script>'),
  ],
  ['external script over HTTP without integrity', page('<script src="http://cdn.example.net/a.js"></script>')],
  [
    'external script over HTTP with integrity',
    page('<script src="http://cdn.example.net/a.js" integrity="sha384-abc"></script>'),
  ],
  ['protocol-relative script', page('<script src="//cdn.example.net/a.js" integrity="sha384-abc"></script>')],
  ['script of a sibling subdomain', page('<script src="https://static.example.com/a.js"></script>')],
  ['script of a sibling subdomain over HTTP', page('<SCRIPT SRC=http://static.example.com/a.js></SCRIPT>')],
  ['script tag inside a comment', page('<!-- <script src="http://cdn.example.net/a.js"></script> --><p>x</p>')],
  ['script tag inside a textarea', page('<textarea><script src="http://cdn.example.net/a.js"></script></textarea>')],
  [
    'script tag inside a script',
    page('<script>document.write("<script src=http://cdn.example.net/a.js></scr" + "ipt>")</script>'),
  ],
  ['absolute base href', page('<base href="https://cdn.example.net/"><script src="app.js"></script>')],
  [
    'HTML type in capitals is not HTML',
    page('<script src="http://cdn.example.net/a.js"></script>', { 'content-type': 'Text/HTML' }),
  ],
  ['script over HTTP on a plain-HTTP site', page('<script src="/a.js"></script>', {}, { https: false })],
  ['empty src', page('<script src=""></script><script src></script>')],
  ['JSON answer', ok()],
  // X-Content-Type-Options, X-Frame-Options, Cross-Origin-Resource-Policy
  ['X-Content-Type-Options missing', ok({ headers: without('x-content-type-options') })],
  ['X-Content-Type-Options invalid', withHeaders({ 'x-content-type-options': 'sniff' })],
  [
    'X-Frame-Options DENY without frame-ancestors',
    withHeaders({ 'content-security-policy': "default-src 'none'", 'x-frame-options': 'DENY' }),
  ],
  [
    'X-Frame-Options SAMEORIGIN',
    withHeaders({ 'content-security-policy': "default-src 'none'", 'x-frame-options': ' sameorigin ' }),
  ],
  [
    'X-Frame-Options ALLOW-FROM',
    withHeaders({ 'content-security-policy': "default-src 'none'", 'x-frame-options': 'ALLOW-FROM https://a.example' }),
  ],
  [
    'X-Frame-Options invalid',
    withHeaders({ 'content-security-policy': "default-src 'none'", 'x-frame-options': 'DENY, DENY' }),
  ],
  ['X-Frame-Options missing', withHeaders({ 'content-security-policy': "default-src 'none'" })],
  ['CORP same-site', withHeaders({ 'cross-origin-resource-policy': 'same-site' })],
  ['CORP cross-origin', withHeaders({ 'cross-origin-resource-policy': 'cross-origin' })],
  ['CORP invalid', withHeaders({ 'cross-origin-resource-policy': 'same' })],
  ['CORP missing', ok({ headers: without('cross-origin-resource-policy') })],
  // Whole answers
  [
    'bare answer over plain HTTP',
    { https: false, headers: {}, body: '', status: 200, hostname: HOST, httpRoute: [`http://${HOST}/`] },
  ],
  [
    'Django default middleware over HTTPS',
    page('<html><head><script src="https://code.jquery.com/jquery-3.7.1.min.js"></script></head></html>', {
      'content-security-policy': undefined,
      'strict-transport-security': undefined,
      'cross-origin-resource-policy': undefined,
      'referrer-policy': 'same-origin',
      'x-frame-options': 'DENY',
      'cross-origin-opener-policy': 'same-origin',
      'set-cookie': [
        `csrftoken=${value()}; expires=Tue, 30 Nov 2027 06:00:00 GMT; Max-Age=31449600; Path=/; SameSite=Lax`,
      ],
    }),
  ],
  [
    'nginx with a good policy on a domain under a two-label suffix',
    page(
      '<script src="https://static.example.co.uk/a.js"></script><script src="https://cdn.other.co.uk/b.js"></script>',
      {},
      {
        hostname: 'www.example.co.uk',
        httpRoute: ['http://www.example.co.uk/', 'https://www.example.co.uk/'],
      },
    ),
  ],
  [
    'a local address',
    page(
      '<script src="http://127.0.0.1:8000/a.js"></script>',
      { 'set-cookie': [`sessionid=${value()}; Domain=127.0.0.1`] },
      {
        hostname: '127.0.0.1',
        https: false,
        httpRoute: ['http://127.0.0.1/'],
      },
    ),
  ],
];

// What ours does not reproduce (audit/src/observatory.ts says why): no preload list, no certificate errors, jsdom never
// fails to parse.
const NOT_REPRODUCED = [
  'hsts-preloaded',
  'hsts-invalid-cert',
  'redirection-invalid-cert',
  'redirection-all-redirects-preloaded',
  'html-not-parseable',
];

describe('HTTP Observatory scoring matches @mdn/mdn-http-observatory 1.4.8', () => {
  it('has the same table: every result and its modifier, the extra-credit threshold, the grades', () => {
    const table = Object.fromEntries([...reference.scoreTable].map(([result, entry]) => [result, entry.modifier]));
    expect(MODIFIERS).toEqual(table);
    expect(MINIMUM_SCORE_FOR_EXTRA_CREDIT).toBe(reference.minimumForExtraCredit);
    for (let score = 0; score <= 150; score += 5)
      expect(gradeOf(score), String(score)).toBe(reference.gradeFor(score).grade);
  });

  it.each(CASES)('%s', (_name, input) => {
    const ours = scoreHeaders(input);
    const theirs = referenceScore(input);
    expect(ours.tests.map(({ test, result }) => ({ test, result }))).toEqual(theirs.tests);
    expect({ score: ours.score, grade: ours.grade }).toEqual({ score: theirs.score, grade: theirs.grade });
  });

  it('the matrix reaches every result that ours implements', () => {
    const reached = new Set(CASES.flatMap(([, input]) => scoreHeaders(input).tests.map((t) => t.result)));
    const missing = Object.keys(MODIFIERS).filter((result) => !reached.has(result) && !NOT_REPRODUCED.includes(result));
    expect(missing).toEqual([]);
    expect(CASES.length).toBeGreaterThanOrEqual(30);
  });

  it('agrees on random combinations of realistic and odd header values (fast-check, fixed seed)', () => {
    const pick = <T>(...options: T[]) => fc.constantFrom(...options);
    const maybe = (...options: string[]) => fc.option(pick(...options), { nil: undefined });
    const cookie = fc
      .tuple(
        pick('sessionid', 'csrftoken', 'theme', 'connect.sid', 'LOGIN_ID', '__Host-id', '__Secure-id', 'XSRF-TOKEN'),
        fc.subarray([
          'Secure',
          'HttpOnly',
          'SameSite=Lax',
          'SameSite=None',
          'SameSite=bogus',
          'Path=/',
          'Domain=example.com',
          'Domain=evil.org',
        ]),
      )
      .map(([name, attributes]) => [`${name}=v`, ...attributes].join('; '));
    const input = fc.record({
      https: fc.boolean(),
      csp: maybe(
        "default-src 'none'",
        "default-src 'self'; script-src 'self' 'unsafe-inline'",
        "script-src 'nonce-x' 'strict-dynamic'; object-src 'none'",
        "default-src 'self'; img-src http:; frame-ancestors 'self'",
        "default-src https:; style-src 'unsafe-inline'",
        "script-src 'self' 'unsafe-eval'; object-src 'none'",
        "default-src 'none'; report-uri /r; report-uri /s",
        'upgrade-insecure-requests',
        '',
      ),
      reportOnly: maybe("default-src 'self'"),
      hsts: maybe(
        'max-age=63072000',
        'max-age=100',
        'max-age=15552000; preload',
        'includeSubDomains',
        'max-age=1, max-age=2',
      ),
      xcto: maybe('nosniff', 'NOSNIFF ', 'sniff'),
      xfo: maybe('DENY', 'sameorigin', 'ALLOW-FROM https://a.example', 'allowall'),
      referrer: maybe('no-referrer', 'unsafe-url', 'origin, strict-origin', 'bogus', ''),
      corp: maybe('same-origin', 'same-site', 'cross-origin', 'none'),
      type: pick('text/html', 'text/html; charset=utf-8', 'application/json', 'TEXT/HTML'),
      body: pick(
        '',
        '<script src="/a.js"></script>',
        '<script src="https://cdn.example.net/a.js" integrity="sha384-x"></script><script src="/b.js" integrity="sha384-y"></script>',
        '<script src="http://cdn.example.net/a.js"></script><meta name="referrer" content="unsafe-url">',
        '<meta http-equiv="Content-Security-Policy" content="default-src \'self\'; frame-ancestors \'none\'">',
        '<script src="//static.example.com/a.js"></script><script>inline()</script>',
      ),
      cookies: fc.array(cookie, { maxLength: 3 }),
      route: pick<string[] | null>(
        null,
        [`http://${HOST}/`],
        [`http://${HOST}/`, `https://${HOST}/`],
        [`http://${HOST}/`, 'https://example.org/'],
        [`http://${HOST}/`, `http://${HOST}/a`, `https://${HOST}/a`],
      ),
      cors: maybe('*', ORIGIN, 'https://app.example.com'),
      credentials: fc.boolean(),
    });
    fc.assert(
      fc.property(input, (c) => {
        const headers: Headers = { 'content-type': c.type };
        const set = (name: string, value: string | undefined) => {
          if (value !== undefined) headers[name] = value;
        };
        set('content-security-policy', c.csp);
        set('content-security-policy-report-only', c.reportOnly);
        set('strict-transport-security', c.hsts);
        set('x-content-type-options', c.xcto);
        set('x-frame-options', c.xfo);
        set('referrer-policy', c.referrer);
        set('cross-origin-resource-policy', c.corp);
        if (c.cookies.length > 0) headers['set-cookie'] = c.cookies;
        const preflightHeaders: Headers = {};
        if (c.cors) preflightHeaders['access-control-allow-origin'] = c.cors;
        if (c.credentials) preflightHeaders['access-control-allow-credentials'] = 'true';
        const scored: ObservatoryInput = {
          https: c.https,
          headers,
          body: c.body,
          status: 200,
          hostname: HOST,
          httpRoute: c.route,
          preflight: { origin: ORIGIN, headers: preflightHeaders },
        };
        const ours = scoreHeaders(scored);
        const theirs = referenceScore(scored);
        expect(ours.tests.map(({ test, result }) => ({ test, result }))).toEqual(theirs.tests);
        expect(ours.score).toBe(theirs.score);
      }),
      { numRuns: 400, seed: 14 },
    );
  }, 60_000);

  it('the local preload list is read by the reference (the one input ours does without)', () => {
    const input = ok({ hostname: 'preloaded.example', httpRoute: ['http://preloaded.example/'] });
    const theirs = referenceScore(input).tests;
    expect(theirs.find((t) => t.test === 'strict-transport-security')?.result).toBe('hsts-preloaded');
    expect(theirs.find((t) => t.test === 'redirection')?.result).toBe('redirection-all-redirects-preloaded');
  });
});
