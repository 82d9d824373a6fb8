/**
 * The device cookie (OWASP's "device cookies" against account lockout): a browser that signed in to an account gets
 * a cookie naming that account, signed with SECRET_KEY. When wrong passwords have spent the account's budget for
 * unknown clients (RATE_LIMIT_LOGIN_ACCOUNT), a browser holding the cookie still has its own small budget, so a
 * stranger guessing from many addresses cannot lock the owner out of the browser they use. The cookie proves only
 * "this browser signed in to this account before"; it grants no access by itself, is sent only to the login route,
 * and is invisible to page scripts.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { TokenHasher } from './tokens.js';

export const DEVICE_COOKIE = 'ironclad_device';
const PATH = '/api/v1/users/login';
const MAX_AGE_S = 365 * 86_400;
/** nonce.mac: 16 bytes base64url, and the session tokens' HMAC-SHA256 in hex. */
const SHAPE = /^[A-Za-z0-9_-]{22}\.[0-9a-f]{64}$/;

export function accountDigest(normalizedEmail: string): string {
  return createHash('sha256').update(normalizedEmail).digest('hex');
}

/**
 * Signed with the session tokens' keyed hash (tokens.ts), so SECRET_KEY_FALLBACKS work here as there: rotating the
 * key does not demote known browsers. The signed text names its purpose, so it can never pass for a token's hash.
 */
export class DeviceCookies {
  constructor(private readonly hasher: TokenHasher) {}

  /** Sets a new cookie for the account just signed in to. */
  issue(request: FastifyRequest, reply: FastifyReply, account: string): void {
    const nonce = randomBytes(16).toString('base64url');
    reply.setCookie(DEVICE_COOKIE, `${nonce}.${this.hasher.forStorage(signed(account, nonce))}`, {
      httpOnly: true,
      sameSite: 'strict',
      secure: request.protocol === 'https',
      path: PATH,
      maxAge: MAX_AGE_S,
    });
  }

  /** Deleting the account: the browser has nothing left to be known for. */
  forget(request: FastifyRequest, reply: FastifyReply): void {
    reply.clearCookie(DEVICE_COOKIE, {
      httpOnly: true,
      sameSite: 'strict',
      secure: request.protocol === 'https',
      path: PATH,
    });
  }

  /** The cookie's nonce when the request carries a valid cookie for this account; undefined otherwise. */
  deviceOf(request: FastifyRequest, account: string): string | undefined {
    const value = request.cookies?.[DEVICE_COOKIE];
    if (!value || !SHAPE.test(value)) return undefined;
    const [nonce, mac] = value.split('.') as [string, string];
    const given = Buffer.from(mac);
    const valid = this.hasher
      .candidates(signed(account, nonce))
      .some((expected) => timingSafeEqual(Buffer.from(expected), given));
    return valid ? nonce : undefined;
  }
}

function signed(account: string, nonce: string): string {
  return `ironclad-device\0${account}\0${nonce}`;
}
