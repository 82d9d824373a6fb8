/**
 * argon2id with OWASP's recommended parameters (19 MiB, 2 passes, 1 lane).
 * @node-rs/argon2 runs on libuv's thread pool, so hashing never blocks the
 * event loop; a limit on how many hashes run at once keeps a login storm
 * from taking every core (and 19 MiB each) from the other requests.
 */
import { randomBytes } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';
import pLimit, { type LimitFunction } from 'p-limit';
import { HttpError } from '../http/errors.js';
import { overloaded } from '../http/overload.js';
import { comparableForm, isCommonPassword } from './common-passwords.js';

// algorithm 2 is Algorithm.Argon2id (a const enum, which isolatedModules cannot import).
const OPTIONS = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export const PASSWORD_MIN_LENGTH = 10;
export const PASSWORD_MAX_LENGTH = 256;

/**
 * Hashes and verifies passwords in turn: at most `concurrency` at once, at most `queueMax` waiting;
 * past that, 503 at once instead of a queue that grows until every login times out.
 */
export class PasswordHasher {
  private readonly limit: LimitFunction;

  constructor(
    concurrency: number,
    private readonly queueMax: number,
  ) {
    this.limit = pLimit(concurrency);
  }

  private inTurn<T>(work: () => Promise<T>): Promise<T> {
    if (this.limit.pendingCount >= this.queueMax) return Promise.reject(overloaded());
    return this.limit(work);
  }

  hash(password: string): Promise<string> {
    return this.inTurn(() => hash(password, OPTIONS));
  }

  async verify(stored: string, password: string): Promise<boolean> {
    try {
      return await this.inTurn(() => verify(stored, password));
    } catch (error) {
      if (error instanceof HttpError) throw error; // overloaded
      return false; // a malformed stored hash is a failed login, not a crash
    }
  }
}

/**
 * A hash of a random password, made once: verifying against it for an
 * unknown email spends the same time as for a known one, so response time
 * does not reveal which emails have accounts.
 */
let dummyHash: Promise<string> | undefined;
export function dummyPasswordHash(): Promise<string> {
  dummyHash ??= hash(randomBytes(32).toString('base64url'), OPTIONS);
  return dummyHash;
}

/**
 * The policy beyond the schema's length limits; returns the problem or undefined. Both checks compare the password's
 * comparableForm (case, compatibility forms and white space folded away) with the same form of the list and of the
 * email, so that padding or capitals do not turn a refused password into an accepted one.
 */
export function passwordProblem(password: string, email: string): string | undefined {
  if (isCommonPassword(password)) return 'is too common; choose a less guessable password';
  const form = comparableForm(password);
  const address = comparableForm(email);
  const local = address.split('@')[0] ?? '';
  if (form === address || (local.length >= 4 && form.includes(local))) {
    return 'must not contain your email address';
  }
  return undefined;
}
