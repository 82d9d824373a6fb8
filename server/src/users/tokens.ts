/**
 * Session tokens: 256 random bits, shown to the client once. The database
 * keeps only HMAC-SHA256(SECRET_KEY, token), so a leaked table cannot be
 * replayed; SECRET_KEY_FALLBACKS keep tokens made under an old key valid
 * while keys rotate.
 */
import { createHmac, createSecretKey, type KeyObject, randomBytes } from 'node:crypto';

const PREFIX = 'ict_'; // lets secret scanners recognise a leaked token
const TOKEN_PATTERN = /^ict_[A-Za-z0-9_-]{43}$/;

export function generateToken(): string {
  return PREFIX + randomBytes(32).toString('base64url');
}

export function looksLikeToken(value: string): boolean {
  return TOKEN_PATTERN.test(value);
}

export class TokenHasher {
  // KeyObjects made once: createHmac with a string key builds one on every call (seen in a profile of the list).
  private readonly keys: KeyObject[];

  constructor(current: string, fallbacks: readonly string[]) {
    this.keys = [current, ...fallbacks].map((key) => createSecretKey(key, 'utf8'));
  }

  /** The hash stored for a new token (current key). */
  forStorage(token: string): string {
    return hmac(this.keys[0] as KeyObject, token);
  }

  /** Every hash under which a presented token may have been stored. */
  candidates(token: string): string[] {
    return this.keys.map((key) => hmac(key, token));
  }
}

function hmac(key: KeyObject, token: string): string {
  return createHmac('sha256', key).update(token).digest('hex');
}
