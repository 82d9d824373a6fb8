/**
 * Scores response headers the way the MDN HTTP Observatory does. Hand-written because the official
 * @mdn/mdn-http-observatory package pulls in pg-native and Sentry. The table followed is MDN's
 * published "Tests and scoring" (https://developer.mozilla.org/en-US/observatory/docs/tests_and_scoring,
 * successor of https://github.com/mozilla/http-observatory/blob/main/httpobs/docs/scoring.md):
 * start at 100; every test adds its modifier; bonuses (positive modifiers) count only when the score
 * without them is at least 90; the minimum is 0; grades A+ >= 100, A >= 90, A- >= 85, B+ >= 80,
 * B >= 70, B- >= 65, C+ >= 60, C >= 50, C- >= 45, D+ >= 40, D >= 30, D- >= 25, F below.
 * Not reproduced: the HSTS preload-list lookups (no network access to the list), and SRI is judged
 * from the one page fetched.
 */

export interface ScoredTest {
  test: string;
  result: string;
  modifier: number;
}

export interface ObservatoryInput {
  /** Was the audited answer fetched over HTTPS? */
  https: boolean;
  /** Headers of the main answer, names in lower case (set-cookie as an array). */
  headers: Record<string, string | string[] | undefined>;
  body: string;
  status: number;
  /** What plain HTTP did: redirected to https on the same host, elsewhere, not at all, or nothing listens. */
  redirect: 'to-https' | 'off-host' | 'not-to-https' | 'missing' | 'no-http';
  /** An unlisted origin was granted CORS with credentials. */
  corsUniversal: boolean;
  hostname: string;
}

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

function header(input: ObservatoryInput, name: string): string | undefined {
  const value = input.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

export function parseCsp(value: string): Map<string, string[]> | undefined {
  const directives = new Map<string, string[]>();
  for (const part of value.split(';')) {
    const tokens = part.trim().split(/\s+/).filter(Boolean);
    const name = tokens.shift()?.toLowerCase();
    if (!name) continue;
    if (!/^[a-z-]+$/.test(name)) return undefined;
    if (!directives.has(name)) directives.set(name, tokens);
  }
  return directives.size > 0 ? directives : undefined;
}

function csp(input: ObservatoryInput): ScoredTest {
  const test = 'content-security-policy';
  const value = header(input, 'content-security-policy');
  if (!value) return { test, result: 'csp-not-implemented', modifier: -25 };
  const policy = parseCsp(value);
  if (!policy) return { test, result: 'csp-header-invalid', modifier: -25 };
  const defaults = policy.get('default-src');
  const scripts = policy.get('script-src') ?? defaults;
  const styles = policy.get('style-src') ?? defaults;
  const hasNonceOrHash = (list: string[]) => list.some((s) => /^'(nonce-|sha(256|384|512)-|strict-dynamic)/.test(s));
  if (!scripts || ((scripts.includes("'unsafe-inline'") || scripts.includes('*')) && !hasNonceOrHash(scripts))) {
    return { test, result: 'csp-implemented-with-unsafe-inline', modifier: -20 };
  }
  const active = [...(scripts ?? []), ...(policy.get('object-src') ?? defaults ?? [])];
  if (active.some((s) => s === 'http:' || s.startsWith('http://'))) {
    return { test, result: 'csp-implemented-with-insecure-scheme', modifier: -20 };
  }
  if (scripts.includes("'unsafe-eval'")) return { test, result: 'csp-implemented-with-unsafe-eval', modifier: -10 };
  const passive = ['img-src', 'media-src', 'font-src'].flatMap((d) => policy.get(d) ?? []);
  if (passive.some((s) => s === 'http:' || s.startsWith('http://'))) {
    return { test, result: 'csp-implemented-with-insecure-scheme-in-passive-content-only', modifier: -10 };
  }
  if (styles?.includes("'unsafe-inline'")) {
    return { test, result: 'csp-implemented-with-unsafe-inline-in-style-src-only', modifier: 0 };
  }
  if (defaults?.length === 1 && defaults[0] === "'none'") {
    return { test, result: 'csp-implemented-with-no-unsafe-default-src-none', modifier: 10 };
  }
  return { test, result: 'csp-implemented-with-no-unsafe', modifier: 5 };
}

function hstsMaxAge(input: ObservatoryInput): number | undefined {
  const value = header(input, 'strict-transport-security');
  const match = value ? /(?:^|;)\s*max-age\s*=\s*"?(\d+)"?/i.exec(value) : null;
  return match ? Number(match[1]) : undefined;
}

function hsts(input: ObservatoryInput): ScoredTest {
  const test = 'strict-transport-security';
  if (!input.https) return { test, result: 'hsts-not-implemented-no-https', modifier: -20 };
  const value = header(input, 'strict-transport-security');
  if (!value) return { test, result: 'hsts-not-implemented', modifier: -20 };
  const maxAge = hstsMaxAge(input);
  if (maxAge === undefined) return { test, result: 'hsts-header-invalid', modifier: -20 };
  if (maxAge < 15_768_000) return { test, result: 'hsts-implemented-max-age-less-than-six-months', modifier: -10 };
  return { test, result: 'hsts-implemented-max-age-at-least-six-months', modifier: 0 };
}

function cookies(input: ObservatoryInput): ScoredTest {
  const test = 'cookies';
  const raw = input.headers['set-cookie'];
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  if (list.length === 0) return { test, result: 'cookies-not-found', modifier: 0 };
  const hstsOn = input.https && (hstsMaxAge(input) ?? 0) >= 15_768_000;
  const results: ScoredTest[] = [];
  let allSameSite = true;
  for (const cookie of list) {
    const [pair, ...attributes] = cookie.split(';').map((s) => s.trim());
    const name = (pair ?? '').split('=')[0] ?? '';
    const flags = new Map(
      attributes.map((a) => [a.split('=')[0]?.toLowerCase() ?? '', a.split('=')[1]?.toLowerCase()]),
    );
    const session = /sess|sid|login|token|auth|csrf|xsrf/i.test(name);
    const secure = input.https && flags.has('secure');
    const sameSite = flags.get('samesite');
    if (sameSite === undefined) allSameSite = false;
    else if (!['strict', 'lax', 'none'].includes(sameSite)) {
      results.push({ test, result: 'cookies-samesite-flag-invalid', modifier: -20 });
    }
    if (session && !secure) {
      results.push(
        hstsOn
          ? { test, result: 'cookies-session-without-secure-flag-but-protected-by-hsts', modifier: -10 }
          : { test, result: 'cookies-session-without-secure-flag', modifier: -40 },
      );
    } else if (!secure) {
      results.push(
        hstsOn
          ? { test, result: 'cookies-without-secure-flag-but-protected-by-hsts', modifier: -5 }
          : { test, result: 'cookies-without-secure-flag', modifier: -20 },
      );
    }
    if (session && !flags.has('httponly'))
      results.push({ test, result: 'cookies-session-without-httponly-flag', modifier: -30 });
  }
  if (results.length > 0) return results.reduce((worst, r) => (r.modifier < worst.modifier ? r : worst));
  return allSameSite
    ? { test, result: 'cookies-secure-with-httponly-sessions-and-samesite', modifier: 5 }
    : { test, result: 'cookies-secure-with-httponly-sessions', modifier: 0 };
}

function cors(input: ObservatoryInput): ScoredTest {
  const test = 'cross-origin-resource-sharing';
  if (input.corsUniversal)
    return { test, result: 'cross-origin-resource-sharing-implemented-with-universal-access', modifier: -50 };
  const value = header(input, 'access-control-allow-origin');
  if (value === '*')
    return { test, result: 'cross-origin-resource-sharing-implemented-with-public-access', modifier: 0 };
  if (value) return { test, result: 'cross-origin-resource-sharing-implemented-with-restricted-access', modifier: 0 };
  return { test, result: 'cross-origin-resource-sharing-not-implemented', modifier: 0 };
}

function redirection(input: ObservatoryInput): ScoredTest {
  const test = 'redirection';
  switch (input.redirect) {
    case 'to-https':
      return { test, result: 'redirection-to-https', modifier: 0 };
    case 'no-http':
      return { test, result: 'redirection-not-needed-no-http', modifier: 0 };
    case 'off-host':
      return { test, result: 'redirection-off-host-from-http', modifier: -5 };
    case 'not-to-https':
      return { test, result: 'redirection-not-to-https', modifier: -20 };
    default:
      return { test, result: 'redirection-missing', modifier: -20 };
  }
}

function referrer(input: ObservatoryInput): ScoredTest {
  const test = 'referrer-policy';
  const value = header(input, 'referrer-policy');
  if (!value) return { test, result: 'referrer-policy-not-implemented', modifier: 0 };
  // Browsers use the last policy they understand.
  const policy =
    value
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean)
      .pop() ?? '';
  if (['no-referrer', 'same-origin', 'strict-origin', 'strict-origin-when-cross-origin'].includes(policy)) {
    return { test, result: 'referrer-policy-private', modifier: 5 };
  }
  if (policy === 'no-referrer-when-downgrade')
    return { test, result: 'referrer-policy-no-referrer-when-downgrade', modifier: 0 };
  if (['origin', 'origin-when-cross-origin', 'unsafe-url'].includes(policy)) {
    return { test, result: 'referrer-policy-unsafe', modifier: -5 };
  }
  return { test, result: 'referrer-policy-header-invalid', modifier: -5 };
}

/**
 * Every `<script ...>` opening tag. A scan, not `/<script\b[^>]*>/gi`: with no `>` after them, that regex rescans
 * the rest of the page from each `<script` (quadratic in a hostile page the auditor fetched).
 */
export function scriptTags(html: string): string[] {
  const tags: string[] = [];
  const open = /<script\b/gi;
  for (let found = open.exec(html); found; found = open.exec(html)) {
    const end = html.indexOf('>', found.index);
    if (end === -1) break; // no tag closes after this one, nor after any later one
    tags.push(html.slice(found.index, end + 1));
    open.lastIndex = end + 1;
  }
  return tags;
}

function sri(input: ObservatoryInput): ScoredTest {
  const test = 'subresource-integrity';
  const type = header(input, 'content-type') ?? '';
  if (!/text\/html/i.test(type)) return { test, result: 'sri-not-implemented-response-not-html', modifier: 0 };
  const scripts = scriptTags(input.body);
  const withSrc = scripts.filter((tag) => /\ssrc\s*=/.test(tag));
  if (withSrc.length === 0) return { test, result: 'sri-not-implemented-but-no-scripts-loaded', modifier: 0 };
  const external = withSrc.filter((tag) => {
    const src = /\ssrc\s*=\s*["']?([^"'\s>]+)/i.exec(tag)?.[1] ?? '';
    if (!/^(https?:)?\/\//i.test(src)) return false;
    try {
      return new URL(src, `https://${input.hostname}/`).hostname !== input.hostname;
    } catch {
      return true;
    }
  });
  const integrity = (tag: string) => /\sintegrity\s*=/.test(tag);
  const insecure = (tag: string) => /\ssrc\s*=\s*["']?http:/i.test(tag);
  if (external.length === 0) {
    return withSrc.every(integrity)
      ? { test, result: 'sri-implemented-and-all-scripts-loaded-securely', modifier: 5 }
      : { test, result: 'sri-not-implemented-but-all-scripts-loaded-from-secure-origin', modifier: 0 };
  }
  if (external.every(integrity)) {
    return external.some(insecure)
      ? { test, result: 'sri-implemented-but-external-scripts-not-loaded-securely', modifier: -20 }
      : { test, result: 'sri-implemented-and-external-scripts-loaded-securely', modifier: 5 };
  }
  return external.some(insecure)
    ? { test, result: 'sri-not-implemented-and-external-scripts-not-loaded-securely', modifier: -50 }
    : { test, result: 'sri-not-implemented-but-external-scripts-loaded-securely', modifier: -5 };
}

function xcto(input: ObservatoryInput): ScoredTest {
  const test = 'x-content-type-options';
  const value = header(input, 'x-content-type-options');
  if (!value) return { test, result: 'x-content-type-options-not-implemented', modifier: -5 };
  if (value.trim().toLowerCase() === 'nosniff') return { test, result: 'x-content-type-options-nosniff', modifier: 0 };
  return { test, result: 'x-content-type-options-header-invalid', modifier: -5 };
}

function xfo(input: ObservatoryInput): ScoredTest {
  const test = 'x-frame-options';
  const policy = parseCsp(header(input, 'content-security-policy') ?? '');
  if (policy?.has('frame-ancestors')) return { test, result: 'x-frame-options-implemented-via-csp', modifier: 5 };
  const value = header(input, 'x-frame-options')?.trim().toLowerCase();
  if (!value) return { test, result: 'x-frame-options-not-implemented', modifier: -20 };
  if (value === 'deny' || value === 'sameorigin')
    return { test, result: 'x-frame-options-sameorigin-or-deny', modifier: 0 };
  if (value.startsWith('allow-from ')) return { test, result: 'x-frame-options-allow-from-origin', modifier: 0 };
  return { test, result: 'x-frame-options-header-invalid', modifier: -20 };
}

function corp(input: ObservatoryInput): ScoredTest {
  const test = 'cross-origin-resource-policy';
  const value = header(input, 'cross-origin-resource-policy')?.trim().toLowerCase();
  if (!value) return { test, result: 'corp-not-implemented', modifier: 0 };
  if (['same-origin', 'same-site', 'cross-origin'].includes(value)) {
    return { test, result: `corp-implemented-with-${value}`, modifier: 0 };
  }
  return { test, result: 'corp-header-invalid', modifier: -5 };
}

export interface ObservatoryResult {
  score: number;
  grade: string;
  tests: ScoredTest[];
}

export function scoreHeaders(input: ObservatoryInput): ObservatoryResult {
  const tests = [csp, cookies, cors, redirection, referrer, hsts, sri, xcto, xfo, corp].map((test) => test(input));
  const base = 100 + tests.reduce((sum, t) => sum + Math.min(0, t.modifier), 0);
  const bonus = tests.reduce((sum, t) => sum + Math.max(0, t.modifier), 0);
  const score = Math.max(0, base >= 90 ? base + bonus : base);
  return { score, grade: gradeOf(score), tests };
}
