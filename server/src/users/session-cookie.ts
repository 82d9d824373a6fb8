/**
 * The browser's session: the same token as the API's, in an HttpOnly cookie that page scripts can
 * never read (so an XSS cannot steal it). Because a browser sends cookies by itself, every
 * state-changing request authenticated by this cookie must prove it comes from an allowed page
 * (see csrf.ts); requests authenticated by the Authorization header are not affected.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';

export const SESSION_COOKIE = 'ironclad_session';

export function setSessionCookie(request: FastifyRequest, reply: FastifyReply, token: string, ttlMs: number): void {
  reply.setCookie(SESSION_COOKIE, token, {
    httpOnly: true,
    // Strict: the cookie never rides along on a request another site starts, not even a top-level link.
    sameSite: 'strict',
    // Secure whenever the request came over HTTPS (behind a proxy: per TRUST_PROXY and X-Forwarded-Proto).
    secure: request.protocol === 'https',
    path: '/api/',
    maxAge: Math.floor(ttlMs / 1000),
  });
}

/**
 * The body of a signup or login answer. A browser (it sends Sec-Fetch-Site, a header page scripts can
 * neither set nor remove) gets the token only in the HttpOnly cookie, so no script on the page ever sees
 * it, not even in the response it fetched. Other clients (curl, apps, the seed's users) get it in the body.
 * Browsers send Sec-Fetch-Site only to HTTPS and localhost origins; on plain HTTP elsewhere the token is in the
 * body too, which is one more reason production is HTTPS-only.
 */
export function sessionBody(request: FastifyRequest, token: string, email: string): { token?: string; email: string } {
  return request.headers['sec-fetch-site'] === undefined ? { token, email } : { email };
}

export function clearSessionCookie(request: FastifyRequest, reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, {
    httpOnly: true,
    sameSite: 'strict',
    secure: request.protocol === 'https',
    path: '/api/',
  });
}

export function tokenFromCookie(request: FastifyRequest): string | undefined {
  const value = request.cookies?.[SESSION_COOKIE];
  return value ? value : undefined;
}
