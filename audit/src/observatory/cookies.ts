/**
 * The cookies test of the MDN HTTP Observatory (@mdn/mdn-http-observatory 1.4.8, src/analyzer/tests/cookies.js).
 * The reference judges the cookies its tough-cookie jar kept, so the jar's acceptance rules come first (a cookie the
 * jar drops does not count): no "=" or an empty name, control characters, a Domain that is a public suffix or does
 * not cover the host, __Secure-/__Host- prefix rules; a later cookie of the same name, domain and path replaces an
 * earlier one. Then the reference's order of badness picks the one result.
 */
import { isIP } from 'node:net';
import { getDomain } from 'tldts';

export interface JarCookie {
  key: string;
  secure: boolean;
  httpOnly: boolean;
  sameSite?: 'strict' | 'lax' | 'none';
}

// "\t" is one of them: tough-cookie refuses a tab inside a name or value.
const hasControl = (text: string) => [...text].some((c) => c.charCodeAt(0) < 0x20);

// tough-cookie treats these special-use names as registrable (allowSpecialUseDomain).
const SPECIAL_USE = ['local', 'example', 'invalid', 'localhost', 'test'];

/** What tough-cookie's getPublicSuffix returns: the registrable domain, undefined when `domain` is a public suffix. */
function registrable(domain: string): string | undefined {
  const parts = domain.split('.');
  const top = parts[parts.length - 1] ?? '';
  if (SPECIAL_USE.includes(top)) {
    if (parts.length > 1) return `${parts[parts.length - 2]}.${top}`;
    if (top === 'localhost' || top === 'invalid') return top;
  }
  return getDomain(domain, { allowIcannDomains: true, allowPrivateDomains: true }) ?? undefined;
}

function domainMatches(host: string, domain: string): boolean {
  if (host === domain) return true;
  return isIP(host) === 0 && host.endsWith(`.${domain}`);
}

/** The default cookie path of a request path (RFC 6265 5.1.4). */
function defaultPath(path: string): string {
  if (!path.startsWith('/')) return '/';
  const last = path.lastIndexOf('/');
  return last <= 0 ? '/' : path.slice(0, last);
}

/** One Set-Cookie value as tough-cookie parses and accepts it for `host`, or undefined when the jar drops it. */
function accept(
  raw: string,
  host: string,
  requestPath: string,
): (JarCookie & { domain: string; path: string }) | undefined {
  const text = raw.trim();
  if (!text) return undefined;
  const semi = text.indexOf(';');
  let pair = semi === -1 ? text : text.slice(0, semi);
  for (const terminator of ['\n', '\r', '\0']) {
    const at = pair.indexOf(terminator);
    if (at !== -1) pair = pair.slice(0, at);
  }
  const eq = pair.indexOf('=');
  if (eq <= 0) return undefined;
  const key = pair.slice(0, eq).trim();
  const value = pair.slice(eq + 1).trim();
  if (!key || hasControl(key) || hasControl(value)) return undefined;
  const cookie: JarCookie = { key, secure: false, httpOnly: false };
  let domain: string | undefined;
  let path: string | undefined;
  for (const part of semi === -1 ? [] : text.slice(semi + 1).split(';')) {
    const av = part.trim();
    if (!av) continue;
    const sep = av.indexOf('=');
    const name = (sep === -1 ? av : av.slice(0, sep)).trim().toLowerCase();
    const attribute = sep === -1 ? '' : av.slice(sep + 1).trim();
    if (name === 'secure') cookie.secure = true;
    else if (name === 'httponly') cookie.httpOnly = true;
    else if (name === 'samesite') {
      const lower = attribute.toLowerCase();
      cookie.sameSite = lower === 'strict' || lower === 'lax' || lower === 'none' ? lower : undefined;
    } else if (name === 'domain' && attribute) {
      const bare = attribute.startsWith('.') ? attribute.slice(1) : attribute;
      if (bare) domain = bare.toLowerCase();
    } else if (name === 'path') {
      path = attribute.startsWith('/') ? attribute : undefined;
    }
  }
  const lowerHost = host.toLowerCase();
  if (domain !== undefined) {
    if (registrable(domain) === undefined && isIP(domain) !== 6) return undefined;
    if (!domainMatches(lowerHost, domain)) return undefined;
  }
  const finalPath = path ?? defaultPath(requestPath);
  if (key.startsWith('__Secure-') && !cookie.secure) return undefined;
  // tough-cookie checks the path it settled on (the default path when there is no Path attribute), not the attribute.
  if (key.startsWith('__Host-') && !(cookie.secure && domain === undefined && finalPath === '/')) return undefined;
  return { ...cookie, domain: domain ?? lowerHost, path: finalPath };
}

/** The cookies a tough-cookie jar holds after the answer's Set-Cookie headers, in the order they were first set. */
export function jarCookies(setCookies: string[], host: string, requestPath: string): JarCookie[] {
  const jar = new Map<string, JarCookie>();
  for (const raw of setCookies) {
    const cookie = accept(raw, host, requestPath);
    if (!cookie) continue;
    const { domain, path, ...rest } = cookie;
    jar.set(`${domain};${path};${cookie.key}`, rest);
  }
  // The reference ignores Heroku's affinity cookie (mozilla/http-observatory#282).
  return [...jar.values()].filter((cookie) => cookie.key !== 'heroku-session-affinity');
}

/** A SameSite attribute with no value or an unknown one, judged on the raw header as the reference does. */
function invalidSameSite(raw: string): boolean {
  for (const part of raw.trim().split(';')) {
    const [key = '', value] = part.trim().split('=');
    if (key.trim().toLowerCase() !== 'samesite') continue;
    if (!value) return true;
    if (!['lax', 'strict', 'none'].includes(value.trim().toLowerCase())) return true;
  }
  return false;
}

// Best first; a cookie's result replaces the current one only when it is further down.
const BADNESS = [
  'cookies-without-secure-flag-but-protected-by-hsts',
  'cookies-without-secure-flag',
  'cookies-session-without-secure-flag-but-protected-by-hsts',
  'cookies-samesite-flag-invalid',
  'cookies-anticsrf-without-samesite-flag',
  'cookies-session-without-httponly-flag',
  'cookies-session-without-secure-flag',
];

/**
 * @param setCookies the answer's Set-Cookie values.
 * @param hstsPasses the HSTS test passed (max-age of at least 15552000 seconds on the HTTPS answer).
 */
export function cookiesResult(setCookies: string[], host: string, requestPath: string, hstsPasses: boolean): string {
  let result: string | undefined;
  const worse = (next: string) => {
    if (result === undefined || BADNESS.indexOf(next) > BADNESS.indexOf(result)) result = next;
  };
  if (setCookies.some(invalidSameSite)) worse('cookies-samesite-flag-invalid');
  const cookies = jarCookies(setCookies, host, requestPath);
  if (cookies.length === 0) return 'cookies-not-found';
  let missingSameSite = false;
  for (const cookie of cookies) {
    const lower = cookie.key.toLowerCase();
    // The reference's notion of a session cookie: the name contains "login" or "sess".
    const session = lower.includes('login') || lower.includes('sess');
    const antiCsrf = lower.includes('csrf');
    if (!cookie.secure && cookie.sameSite === 'none') worse('cookies-samesite-flag-invalid');
    if (!cookie.secure)
      worse(hstsPasses ? 'cookies-without-secure-flag-but-protected-by-hsts' : 'cookies-without-secure-flag');
    if (antiCsrf && !cookie.sameSite) worse('cookies-anticsrf-without-samesite-flag');
    if (session && !cookie.secure) {
      worse(
        hstsPasses
          ? 'cookies-session-without-secure-flag-but-protected-by-hsts'
          : 'cookies-session-without-secure-flag',
      );
    }
    if (session && !cookie.httpOnly) worse('cookies-session-without-httponly-flag');
    if (!cookie.sameSite) missingSameSite = true;
  }
  return (
    result ??
    (missingSameSite ? 'cookies-secure-with-httponly-sessions' : 'cookies-secure-with-httponly-sessions-and-samesite')
  );
}
