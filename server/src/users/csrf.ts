/**
 * CSRF defence for cookie-authenticated requests, by the browser's own provenance headers (OWASP's
 * "Fetch Metadata" and "verify origin" defences, no token to manage): a state-changing request must
 * say it is same-origin (`Sec-Fetch-Site: same-origin`), or carry an `Origin` that is this server's
 * own or one listed in CORS_ALLOWED_ORIGINS. A request with neither header is refused: every browser
 * that supports SameSite cookies sends at least one of them, and other clients use the header scheme.
 */
import type { FastifyRequest } from 'fastify';
import { HttpError } from '../http/errors.js';

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

export const csrfRefused = () => new HttpError(403, 'Cross-site request refused.');

/** This server's own origin as the browser saw it (scheme from TRUST_PROXY-aware protocol). */
function ownOrigin(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`.toLowerCase();
}

export function crossSiteProblem(request: FastifyRequest, allowedOrigins: ReadonlySet<string>): HttpError | undefined {
  if (SAFE.has(request.method)) return undefined;
  const site = request.headers['sec-fetch-site'];
  const origin = request.headers.origin;
  if (site === 'same-origin') return undefined;
  if (origin !== undefined && origin !== 'null') {
    return origin.toLowerCase() === ownOrigin(request) || allowedOrigins.has(origin) ? undefined : csrfRefused();
  }
  // Neither header: no browser sends a state-changing request like that.
  return csrfRefused();
}

/**
 * For signup and login, which take no cookie but set one: refuse them when a browser says another
 * site started them (login CSRF); clients that are not browsers send neither header and pass.
 */
export function browserCrossSiteProblem(
  request: FastifyRequest,
  allowedOrigins: ReadonlySet<string>,
): HttpError | undefined {
  if (request.headers['sec-fetch-site'] === undefined && request.headers.origin === undefined) return undefined;
  return crossSiteProblem(request, allowedOrigins);
}

/** An onRequest hook for routes that set the session cookie (signup, login, reset confirm): login CSRF refused. */
export function refuseBrowserCrossSite(allowedOrigins: ReadonlySet<string>) {
  return async (request: FastifyRequest): Promise<void> => {
    const problem = browserCrossSiteProblem(request, allowedOrigins);
    if (problem) throw problem;
  };
}
