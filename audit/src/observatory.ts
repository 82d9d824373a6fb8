/**
 * Scores an answer the way the MDN HTTP Observatory does: @mdn/mdn-http-observatory 1.4.8, its pure analysis
 * functions (src/analyzer/tests/*.js) and its table (src/grader/charts.js), ported test by test with the reference's
 * quirks, because a score is only useful if it is the one https://developer.mozilla.org/en-US/observatory gives.
 * Start at 100; every test adds its modifier; bonuses (positive modifiers) count only when the score without them is
 * at least 90; grades by the score rounded down to a multiple of 5: A+ >= 100, A >= 90, A- 85, B+ 80, B >= 70, B- 65,
 * C+ 60, C >= 50, C- 45, D+ 40, D >= 30, D- 25, F below.
 *
 * Why a port and not the package: the package is the Observatory's API server (Fastify, pg, pg-native, Sentry, jsdom,
 * axios: some 230 packages) whose install scripts download the HSTS preload list and a CA bundle, and the auditor runs
 * offline from a plain `npm ci`. So the package is a devDependency of this workspace that one test loads,
 * audit/test/observatory-reference.test.ts: it scores a matrix of answers (every result implemented here) with both
 * and asserts equal per-test results, scores and grades, and an equal table. Its install scripts are denied in the
 * root package.json `allowScripts`; the test supplies the preload list they would download from a local file.
 *
 * Not reproduced: the HSTS preload list (none offline: hsts-preloaded and redirection-all-redirects-preloaded never
 * come out), certificate errors (the auditor stops at an untrusted certificate unless --insecure), cookies of answers
 * other than the URL and its redirects (the reference also keeps those of /robots.txt), redirects to another host
 * (live-checks.ts records the hop but cannot connect there), and the reference's refusal to score an answer whose
 * status is not 2xx, 3xx, 401 or 403 (scored here anyway).
 */
import { parse as parseDomain } from 'tldts';
import { cookiesResult } from './observatory/cookies.js';
import { cspVerdict } from './observatory/csp.js';
import { type HtmlTag, htmlTags } from './observatory/html.js';

export interface ScoredTest {
  test: string;
  result: string;
  modifier: number;
}

type Headers = Record<string, string | string[] | undefined>;

export interface ObservatoryInput {
  /** Was the scored answer fetched over HTTPS? Its HSTS header counts only then. */
  https: boolean;
  /** Headers of the scored answer as node:http gives them (names in lower case, set-cookie an array). */
  headers: Headers;
  body: string;
  status: number;
  /** Host name of the site (Host and SNI), without port. */
  hostname: string;
  /** Path of the scored URL: the default path of its cookies. "/" when absent. */
  path?: string;
  /**
   * The URLs a GET of http://<host>/ went through, that URL first and the answer that did not redirect last
   * (a single entry: no redirect); null when nothing answers plain HTTP.
   */
  httpRoute: string[] | null;
  /** The answer to a CORS preflight of the scored URL (OPTIONS, Access-Control-Request-Method GET) from `origin`. */
  preflight?: { origin: string; headers: Headers };
}

export interface ObservatoryResult {
  score: number;
  grade: string;
  tests: ScoredTest[];
}

/** Modifiers of @mdn/mdn-http-observatory 1.4.8, src/grader/charts.js SCORE_TABLE. */
export const MODIFIERS: Readonly<Record<string, number>> = {
  'csp-implemented-with-no-unsafe-default-src-none': 10,
  'csp-implemented-with-no-unsafe': 5,
  'csp-implemented-with-unsafe-inline-in-style-src-only': 0,
  'csp-implemented-with-insecure-scheme-in-passive-content-only': -10,
  'csp-implemented-with-unsafe-eval': -10,
  'csp-implemented-with-unsafe-inline': -20,
  'csp-implemented-with-insecure-scheme': -20,
  'csp-header-invalid': -25,
  'csp-not-implemented': -25,
  'csp-not-implemented-but-reporting-enabled': -25,
  'csp-implemented-but-duplicate-directives': 0,
  'cookies-secure-with-httponly-sessions-and-samesite': 5,
  'cookies-secure-with-httponly-sessions': 0,
  'cookies-not-found': 0,
  'cookies-without-secure-flag-but-protected-by-hsts': -5,
  'cookies-session-without-secure-flag-but-protected-by-hsts': -10,
  'cookies-without-secure-flag': -20,
  'cookies-samesite-flag-invalid': -20,
  'cookies-anticsrf-without-samesite-flag': -20,
  'cookies-session-without-httponly-flag': -30,
  'cookies-session-without-secure-flag': -40,
  'cross-origin-resource-sharing-not-implemented': 0,
  'cross-origin-resource-sharing-implemented-with-public-access': 0,
  'cross-origin-resource-sharing-implemented-with-restricted-access': 0,
  'cross-origin-resource-sharing-implemented-with-universal-access': -50,
  'redirection-all-redirects-preloaded': 0,
  'redirection-to-https': 0,
  'redirection-not-needed-no-http': 0,
  'redirection-off-host-from-http': -5,
  'redirection-not-to-https-on-initial-redirection': -10,
  'redirection-not-to-https': -20,
  'redirection-missing': -20,
  'redirection-invalid-cert': -20,
  'referrer-policy-private': 5,
  'referrer-policy-not-implemented': 0,
  'referrer-policy-unsafe': -5,
  'referrer-policy-header-invalid': -5,
  'hsts-preloaded': 5,
  'hsts-implemented-max-age-at-least-six-months': 0,
  'hsts-implemented-max-age-less-than-six-months': -10,
  'hsts-not-implemented': -20,
  'hsts-header-invalid': -20,
  'hsts-not-implemented-no-https': -20,
  'hsts-invalid-cert': -20,
  'sri-implemented-and-all-scripts-loaded-securely': 5,
  'sri-implemented-and-external-scripts-loaded-securely': 5,
  'sri-not-implemented-response-not-html': 0,
  'sri-not-implemented-but-no-scripts-loaded': 0,
  'sri-not-implemented-but-all-scripts-loaded-from-secure-origin': 0,
  'sri-not-implemented-but-external-scripts-loaded-securely': -5,
  'sri-implemented-but-external-scripts-not-loaded-securely': -20,
  'sri-not-implemented-and-external-scripts-not-loaded-securely': -50,
  'x-content-type-options-nosniff': 0,
  'x-content-type-options-not-implemented': -5,
  'x-content-type-options-header-invalid': -5,
  'x-frame-options-implemented-via-csp': 5,
  'x-frame-options-sameorigin-or-deny': 0,
  'x-frame-options-allow-from-origin': 0,
  'x-frame-options-not-implemented': -20,
  'x-frame-options-header-invalid': -20,
  'corp-header-invalid': -5,
  'corp-implemented-with-cross-origin': 0,
  'corp-implemented-with-same-origin': 10,
  'corp-implemented-with-same-site': 10,
  'corp-not-implemented': 0,
  'html-not-parseable': -20,
};

/** Bonuses count only from this score (without them) up. */
export const MINIMUM_SCORE_FOR_EXTRA_CREDIT = 90;

const GRADES: [number, string][] = [
  [100, 'A+'],
  [90, 'A'],
  [85, 'A-'],
  [80, 'B+'],
  [70, 'B'],
  [65, 'B-'],
  [60, 'C+'],
  [50, 'C'],
  [45, 'C-'],
  [40, 'D+'],
  [30, 'D'],
  [25, 'D-'],
  [0, 'F'],
];

export function gradeOf(score: number): string {
  return GRADES.find(([min]) => score >= min)?.[1] ?? 'F';
}

/** Every value of a header (the reference's getHttpHeaders: set-cookie flattened). */
function values(headers: Headers | undefined, name: string): string[] {
  if (!headers) return [];
  return Object.entries(headers)
    .filter(([key]) => key.toLowerCase() === name)
    .flatMap(([, value]) => (value === undefined ? [] : value));
}

const first = (headers: Headers | undefined, name: string): string | undefined => values(headers, name)[0];

const HTML_TYPES = new Set(['text/html', 'application/xhtml+xml']);

/** The reference reads the body as HTML only for these types, compared as sent (case-sensitive, no trim). */
function isHtml(input: ObservatoryInput): boolean {
  return HTML_TYPES.has((first(input.headers, 'content-type') ?? '').split(';')[0] ?? '');
}

interface Page {
  tags: HtmlTag[];
  /** `<meta http-equiv="Content-Security-Policy">` contents. */
  metaCsp: string[];
  /** The last `<meta name="referrer">` content. */
  metaReferrer?: string;
}

function readPage(input: ObservatoryInput): Page {
  const html = isHtml(input);
  const tags = html ? htmlTags(input.body) : [];
  const page: Page = { tags, metaCsp: [] };
  if (!html || !input.body) return page;
  for (const tag of tags) {
    if (tag.name !== 'meta') continue;
    const equiv = tag.attributes.get('http-equiv');
    const content = tag.attributes.get('content');
    if (equiv !== undefined && content !== undefined) {
      if (content && equiv.trim().toLowerCase() === 'content-security-policy') page.metaCsp.push(content);
    } else if (tag.attributes.get('name')?.trim().toLowerCase() === 'referrer' && content) {
      page.metaReferrer = content;
    }
  }
  return page;
}

// 15768000 s is six months; the reference accepts 15552000 ("a lot of sites use it, so a white lie is in order").
const SIX_MONTHS = 15_552_000;

function hsts(input: ObservatoryInput): string {
  if (!input.https) return 'hsts-not-implemented-no-https';
  const header = first(input.headers, 'strict-transport-security');
  if (header === undefined) return 'hsts-not-implemented';
  const data = header.slice(0, 1024);
  // A comma means the header came twice (node:http joins repeats with ", ").
  if (data.includes(',')) return 'hsts-header-invalid';
  let maxAge: number | undefined;
  for (const parameter of data.split(';').map((p) => p.trim().toLowerCase())) {
    // parseInt as the reference: 'max-age="63072000"' gives NaN, which is not below six months.
    if (parameter.startsWith('max-age=')) maxAge = Number.parseInt(parameter.slice(8, 128), 10);
  }
  if (maxAge === undefined) return 'hsts-header-invalid';
  return maxAge < SIX_MONTHS
    ? 'hsts-implemented-max-age-less-than-six-months'
    : 'hsts-implemented-max-age-at-least-six-months';
}

function cors(input: ObservatoryInput): string {
  const allowOrigin = first(input.preflight?.headers, 'access-control-allow-origin');
  if (!input.preflight || !allowOrigin) return 'cross-origin-resource-sharing-not-implemented';
  if (allowOrigin.slice(0, 256).trim().toLowerCase() === '*') {
    return 'cross-origin-resource-sharing-implemented-with-public-access';
  }
  const credentials = first(input.preflight.headers, 'access-control-allow-credentials');
  if (allowOrigin === input.preflight.origin && credentials?.toLowerCase().trim() === 'true') {
    return 'cross-origin-resource-sharing-implemented-with-universal-access';
  }
  return 'cross-origin-resource-sharing-implemented-with-restricted-access';
}

function redirection(input: ObservatoryInput): string {
  const route = input.httpRoute;
  if (!route) return 'redirection-not-needed-no-http';
  if (route.length <= 1) return 'redirection-missing';
  const urls = route.map((url) => new URL(url));
  const [start, second] = urls as [URL, URL];
  if ((urls[urls.length - 1] as URL).protocol !== 'https:') return 'redirection-not-to-https';
  if (second.protocol === 'http:') return 'redirection-not-to-https-on-initial-redirection';
  if (start.protocol === 'http:' && second.protocol === 'https:' && start.hostname !== second.hostname) {
    return 'redirection-off-host-from-http';
  }
  return 'redirection-to-https';
}

const REFERRER_GOOD = ['no-referrer', 'same-origin', 'strict-origin', 'strict-origin-when-cross-origin'];
const REFERRER_BAD = ['origin', 'origin-when-cross-origin', 'unsafe-url', 'no-referrer-when-downgrade'];

function referrer(input: ObservatoryInput, page: Page): string {
  const all = [...values(input.headers, 'referrer-policy'), ...(page.metaReferrer ? [page.metaReferrer] : [])];
  if (all.length === 0) return 'referrer-policy-not-implemented';
  // Browsers apply the last value they understand; the meta tag comes after the header.
  const known = all
    .join(', ')
    .split(',')
    .map((token) => token.toLowerCase().trim())
    .filter((token) => REFERRER_GOOD.includes(token) || REFERRER_BAD.includes(token));
  const policy = known[known.length - 1] ?? '';
  if (REFERRER_GOOD.includes(policy)) return 'referrer-policy-private';
  if (REFERRER_BAD.includes(policy)) return 'referrer-policy-unsafe';
  return 'referrer-policy-header-invalid';
}

/** A script's `src` as the DOM gives it: resolved against the document base URL, or as written when that fails. */
function scriptUrl(src: string, base: URL | undefined): string {
  try {
    return new URL(src, base).href;
  } catch {
    return src;
  }
}

const SRI_BADNESS = [
  'sri-implemented-and-all-scripts-loaded-securely',
  'sri-implemented-and-external-scripts-loaded-securely',
  'sri-implemented-but-external-scripts-not-loaded-securely',
  'sri-not-implemented-but-external-scripts-loaded-securely',
  'sri-not-implemented-and-external-scripts-not-loaded-securely',
  'sri-not-implemented-response-not-html',
];

function sri(input: ObservatoryInput, page: Page): string {
  if (!isHtml(input)) return 'sri-not-implemented-response-not-html';
  const scripts = page.tags.filter((tag) => tag.name === 'script');
  if (scripts.length === 0) return 'sri-not-implemented-but-no-scripts-loaded';
  // The reference's page has no URL (about:blank), so only an absolute <base href> makes relative sources absolute.
  const baseHref = page.tags.find((tag) => tag.name === 'base' && tag.attributes.has('href'))?.attributes.get('href');
  let base: URL | undefined;
  try {
    base = baseHref === undefined ? undefined : new URL(baseHref);
  } catch {
    base = undefined;
  }
  const siteDomain = parseDomain(input.hostname).domain;
  let result: string | undefined;
  const worse = (next: string) => {
    if (result === undefined || SRI_BADNESS.indexOf(next) > SRI_BADNESS.indexOf(result)) result = next;
  };
  let foreign = false;
  for (const script of scripts) {
    const raw = script.attributes.get('src');
    if (raw === undefined) continue;
    const src = scriptUrl(raw, base);
    if (!src) continue;
    const integrity = Boolean(script.attributes.get('integrity'));
    const relativeProtocol = src.startsWith('//') && src[2] !== '/' && src.length > 2;
    const fullUrl = src.startsWith('http://') || src.startsWith('https://');
    const relativeOrigin = !relativeProtocol && !fullUrl;
    // Same site = same registrable domain; a protocol-relative URL counts as same site yet foreign (the reference).
    const sameSite = relativeProtocol || relativeOrigin || parseDomain(src).domain === siteDomain;
    const secureOrigin = relativeOrigin || (sameSite && !relativeProtocol);
    if (!secureOrigin) foreign = true;
    const scheme = fullUrl ? new URL(src).protocol : undefined;
    const secureScheme = scheme === 'https:' || (relativeOrigin && input.https);
    if (!secureOrigin) {
      if (integrity && !secureScheme) worse('sri-implemented-but-external-scripts-not-loaded-securely');
      else if (!integrity && secureScheme) worse('sri-not-implemented-but-external-scripts-loaded-securely');
      else if (!integrity) worse('sri-not-implemented-and-external-scripts-not-loaded-securely');
    } else if (integrity && secureScheme && result === undefined) {
      // The bonus even for same-origin scripts, given by the first one that has integrity.
      result = 'sri-implemented-and-all-scripts-loaded-securely';
    }
  }
  return (
    result ??
    (foreign
      ? 'sri-implemented-and-external-scripts-loaded-securely'
      : 'sri-not-implemented-but-all-scripts-loaded-from-secure-origin')
  );
}

function xcto(input: ObservatoryInput): string {
  const header = first(input.headers, 'x-content-type-options');
  if (!header) return 'x-content-type-options-not-implemented';
  return header.slice(0, 256).trim().toLowerCase() === 'nosniff'
    ? 'x-content-type-options-nosniff'
    : 'x-content-type-options-header-invalid';
}

function xfo(input: ObservatoryInput, csp: ReturnType<typeof cspVerdict>): string {
  // frame-ancestors supersedes X-Frame-Options in browsers.
  if (csp.policy?.has('frame-ancestors')) return 'x-frame-options-implemented-via-csp';
  const header = first(input.headers, 'x-frame-options');
  if (!header) return 'x-frame-options-not-implemented';
  const value = header.slice(0, 1024).trim().toLowerCase();
  if (value === 'deny' || value === 'sameorigin') return 'x-frame-options-sameorigin-or-deny';
  if (value.startsWith('allow-from')) return 'x-frame-options-allow-from-origin';
  return 'x-frame-options-header-invalid';
}

function corp(input: ObservatoryInput): string {
  const header = first(input.headers, 'cross-origin-resource-policy');
  if (!header) return 'corp-not-implemented';
  const value = header.slice(0, 256).trim().toLowerCase();
  if (value === 'same-site') return 'corp-implemented-with-same-site';
  if (value === 'same-origin') return 'corp-implemented-with-same-origin';
  if (value === 'cross-origin') return 'corp-implemented-with-cross-origin';
  return 'corp-header-invalid';
}

export function scoreHeaders(input: ObservatoryInput): ObservatoryResult {
  const page = readPage(input);
  const csp = cspVerdict(
    values(input.headers, 'content-security-policy'),
    page.metaCsp,
    Boolean(first(input.headers, 'content-security-policy-report-only')),
    input.https,
  );
  const hstsResult = hsts(input);
  const results: [string, string][] = [
    ['content-security-policy', csp.result],
    [
      'cookies',
      cookiesResult(
        values(input.headers, 'set-cookie'),
        input.hostname,
        input.path ?? '/',
        hstsResult === 'hsts-implemented-max-age-at-least-six-months',
      ),
    ],
    ['cross-origin-resource-sharing', cors(input)],
    ['redirection', redirection(input)],
    ['referrer-policy', referrer(input, page)],
    ['strict-transport-security', hstsResult],
    ['subresource-integrity', sri(input, page)],
    ['x-content-type-options', xcto(input)],
    ['x-frame-options', xfo(input, csp)],
    ['cross-origin-resource-policy', corp(input)],
  ];
  const tests = results.map(([test, result]) => ({ test, result, modifier: MODIFIERS[result] ?? 0 }));
  const base = 100 + tests.reduce((sum, t) => sum + Math.min(0, t.modifier), 0);
  const withBonus = 100 + tests.reduce((sum, t) => sum + t.modifier, 0);
  const score = Math.max(0, base >= MINIMUM_SCORE_FOR_EXTRA_CREDIT ? withBonus : base);
  return { score, grade: gradeOf(score), tests };
}
