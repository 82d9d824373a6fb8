/**
 * The security headers policy: what every API answer carries, computed once by helmet (the library
 * stays the source of the values) and kept as a constant map. The server sends it (server/src/http/
 * plugins/security-headers.ts); the auditor judges it (config.hsts.weak) without loading the server.
 * @fastify/helmet rebuilds helmet's middleware on every request; on the API's hot path that cost
 * about a fifth of the throughput (docs/performance.md).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import helmet from 'helmet';

export const HSTS_MAX_AGE = 63_072_000; // two years
/** The least max-age the auditor accepts, from the API build or a live site (one year, as the HSTS preload list). */
export const HSTS_MIN_MAX_AGE = 31_536_000;

const HELMET_OPTIONS: Parameters<typeof helmet>[0] = {
  // JSON never needs to load anything or be framed.
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      'default-src': ["'none'"],
      'frame-ancestors': ["'none'"],
      'base-uri': ["'none'"],
      'form-action': ["'none'"],
    },
  },
  strictTransportSecurity: { maxAge: HSTS_MAX_AGE, includeSubDomains: true },
  frameguard: { action: 'deny' },
  referrerPolicy: { policy: 'no-referrer' },
  crossOriginResourcePolicy: { policy: 'same-origin' },
  // Headers that only mean something to HTML documents: a JSON API spends bytes and time on them
  // for nothing. (The web client's pages get their own set.)
  crossOriginOpenerPolicy: false,
  originAgentCluster: false,
  xDnsPrefetchControl: false,
  xDownloadOptions: false,
  xPermittedCrossDomainPolicies: false,
  xXssProtection: false,
};

/** Runs helmet's middleware once against a recording response and returns what it set. */
export function helmetHeaders(options: Parameters<typeof helmet>[0]): Record<string, string> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader(name: string, value: string | number | readonly string[]) {
      headers[name.toLowerCase()] = String(value);
    },
    removeHeader(name: string) {
      delete headers[name.toLowerCase()];
    },
  };
  helmet(options)({} as IncomingMessage, recorder as unknown as ServerResponse, () => {});
  return headers;
}

export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze(helmetHeaders(HELMET_OPTIONS));
