/**
 * What a session or a security event remembers about the client that caused it: the address (per TRUST_PROXY) and
 * the user agent, without control characters and cut short. Enough for a person to recognise a device; not a
 * fingerprint. Kept as long as the session (TOKEN_TTL) or the event (ACTIVITY_RETENTION) is.
 */
import { isIP } from 'node:net';
import type { FastifyRequest } from 'fastify';
import { IP_MAX_LENGTH, SESSION_CLIENT_MAX } from '../rules/limits.js';

export interface ClientInfo {
  ip: string | null;
  userAgent: string | null;
}

/** Cut by code points, so a cut never splits a surrogate pair. */
function cut(text: string, max: number): string {
  const points = Array.from(text);
  return points.length <= max ? text : points.slice(0, max).join('');
}

export function clientOf(request: FastifyRequest): ClientInfo {
  const header = request.headers['user-agent'];
  const raw = typeof header === 'string' ? header : '';
  // Control characters (and the C1 range) would let a client forge lines in whatever displays this.
  const cleaned = cut(raw.replace(/[\p{Cc}\u2028\u2029]+/gu, ' ').trim(), SESSION_CLIENT_MAX);
  // Only an address: with a permissive TRUST_PROXY, X-Forwarded-For is whatever the client wrote, and this text
  // ends up in emails ("asked from ...") and in the sessions list.
  const ip = request.ip && isIP(request.ip) !== 0 ? cut(request.ip, IP_MAX_LENGTH) : null;
  return { ip, userAgent: cleaned === '' ? null : cleaned };
}
