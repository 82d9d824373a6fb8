/**
 * argon2id with OWASP's recommended parameters (19 MiB, 2 passes, 1 lane).
 * @node-rs/argon2 runs on libuv's thread pool, so hashing never blocks the
 * event loop.
 */
import { randomBytes } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';
import { isCommonPassword } from './common-passwords.js';

// algorithm 2 is Algorithm.Argon2id (a const enum, which isolatedModules cannot import).
const OPTIONS = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const PASSWORD_MIN_LENGTH = 10;
export const PASSWORD_MAX_LENGTH = 256;

export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  try {
    return await verify(stored, password);
  } catch {
    return false; // a malformed stored hash is a failed login, not a crash
  }
}

/**
 * A hash of a random password, made once: verifying against it for an
 * unknown email spends the same time as for a known one, so response time
 * does not reveal which emails have accounts.
 */
let dummyHash: Promise<string> | undefined;
export function dummyPasswordHash(): Promise<string> {
  dummyHash ??= hashPassword(randomBytes(32).toString('base64url'));
  return dummyHash;
}

/** The policy beyond the schema's length limits; returns the problem or undefined. */
export function passwordProblem(password: string, email: string): string | undefined {
  if (isCommonPassword(password)) return 'is too common; choose a less guessable password';
  const local = email.split('@')[0] ?? '';
  if (password.toLowerCase() === email || (local.length >= 4 && password.toLowerCase().includes(local))) {
    return 'must not contain your email address';
  }
  return undefined;
}
