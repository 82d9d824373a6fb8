/**
 * The token check for protected routes: `Authorization: Token <key>` (the seed's DRF scheme) or
 * `Bearer <key>`, else the session cookie. Runs in onRequest, before the body is read, so an anonymous
 * caller costs no parsing or validation. The contract it fulfils (AuthContext, `request.auth`, authOf,
 * the 401s) is http/auth.ts, which tasks/ uses without depending on users/.
 */
import type { FastifyRequest } from 'fastify';
import { type Authenticate, invalidToken, missingCredentials } from '../http/auth.js';
import { crossSiteProblem } from './csrf.js';
import { tokenFromCookie } from './session-cookie.js';
import type { SessionStore } from './sessions.js';

export function tokenFromRequest(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const space = header.indexOf(' ');
  if (space < 0) return '';
  const scheme = header.slice(0, space).toLowerCase();
  if (scheme !== 'token' && scheme !== 'bearer') return '';
  return header.slice(space + 1).trim();
}

/**
 * The `Authorization` header wins when present. Otherwise the session cookie counts, and then a
 * state-changing request must also pass the CSRF check.
 */
export function buildAuthenticate(sessions: SessionStore, allowedOrigins: ReadonlySet<string>): Authenticate {
  return async function authenticate(request: FastifyRequest): Promise<void> {
    let token = tokenFromRequest(request);
    if (token === undefined) {
      token = tokenFromCookie(request);
      if (token === undefined) throw missingCredentials();
      const crossSite = crossSiteProblem(request, allowedOrigins);
      if (crossSite) throw crossSite;
    }
    const auth = token === '' ? undefined : await sessions.lookup(token);
    if (!auth) throw invalidToken(await sessions.whyRefused(token));
    request.auth = auth;
  };
}
