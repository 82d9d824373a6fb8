/**
 * The token check for protected routes: `Authorization: Token <key>` (the
 * seed's DRF scheme) or `Bearer <key>`. Runs in onRequest, before the body
 * is read, so an anonymous caller costs no parsing or validation.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { crossSiteProblem } from '../http/csrf.js';
import { HttpError } from '../http/errors.js';
import { tokenFromCookie } from './session-cookie.js';
import type { AuthContext, SessionStore } from './sessions.js';

declare module 'fastify' {
  interface FastifyRequest {
    auth: AuthContext | null;
  }
}

const CHALLENGE = { 'www-authenticate': 'Token realm="api"' };

export const missingCredentials = () =>
  new HttpError(401, 'Authentication credentials were not provided.', {}, CHALLENGE);
export const invalidToken = () => new HttpError(401, 'Invalid or expired token.', {}, CHALLENGE);

export function tokenFromRequest(request: FastifyRequest): string | undefined {
  const header = request.headers.authorization;
  if (!header) return undefined;
  const space = header.indexOf(' ');
  if (space < 0) return '';
  const scheme = header.slice(0, space).toLowerCase();
  if (scheme !== 'token' && scheme !== 'bearer') return '';
  return header.slice(space + 1).trim();
}

export type Authenticate = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

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
    if (!auth) throw invalidToken();
    request.auth = auth;
  };
}

/** For handlers behind `authenticate`: the context is always there. */
export function authOf(request: FastifyRequest): AuthContext {
  if (!request.auth) throw invalidToken();
  return request.auth;
}
