/**
 * Brute force without lockout. Wrong passwords are counted three ways (http/counters.ts, shared by every server
 * process on PostgreSQL), and a login is refused with 429, before its password is even checked, when:
 *  - this client IP has had RATE_LIMIT_LOGIN_FAILURES wrong passwords for this account (one address guessing);
 *  - or, for a client the account does not know, every unknown client together has had RATE_LIMIT_LOGIN_ACCOUNT
 *    wrong passwords for it (guessing spread over many addresses).
 * A browser that signed in to the account before (device-cookie.ts) skips the second count and has its own
 * RATE_LIMIT_LOGIN_FAILURES instead: strangers can make the account slow to guess, never closed to its owner.
 * The threat model is docs/security.md.
 *
 * Each attempt is counted before the password is checked and taken back when it was right, so parallel guesses
 * cannot slip past a limit, and the owner's own successful logins cost nothing.
 */
import type { RateLimit } from '@ironclad/config/types';
import type { FastifyRequest } from 'fastify';
import type { Counters } from '../http/counters.js';
import { tooManyAttempts } from '../http/rate-limit.js';
import type { DeviceCookies } from './device-cookie.js';

export interface LoginLimits {
  /** Wrong passwords per (account, client IP), and per (account, known browser). */
  failures: RateLimit;
  /** Wrong passwords per account from every unknown client together. */
  account: RateLimit;
}

/** What a login attempt has been charged; given back on success. */
export interface Charge {
  entries: { key: string; windowMs: number }[];
}

const tooMany = (ttlMs: number, message: string) => tooManyAttempts(Math.max(1, Math.ceil(ttlMs / 1000)), message);

const FROM_HERE = 'Too many failed sign-ins for this account from here; try again later.';
const FROM_UNKNOWN =
  'Too many failed sign-ins for this account from unknown devices; try again later, or from a browser that signed in to it before.';

export class LoginGuard {
  constructor(
    private readonly counters: Counters,
    private readonly devices: DeviceCookies,
    private readonly limits: LoginLimits,
  ) {}

  /** Charges the attempt, or throws 429 without charging what it refuses. `account` is the email's digest. */
  async admit(request: FastifyRequest, account: string): Promise<Charge> {
    const { failures, account: perAccount } = this.limits;
    const device = this.devices.deviceOf(request, account);
    const own = {
      key: device ? `login:device:${account}:${device}` : `login:ip:${account}:${request.ip}`,
      ...failures,
    };
    const first = await this.counters.add(own.key, own.windowMs, 1);
    if (first.count > own.max) {
      await this.counters.add(own.key, own.windowMs, -1);
      throw tooMany(first.ttlMs, FROM_HERE);
    }
    if (device) return { entries: [own] };
    const all = { key: `login:unknown:${account}`, ...perAccount };
    const second = await this.counters.add(all.key, all.windowMs, 1);
    if (second.count > all.max) {
      // Not checked, so not a failure of this address.
      await Promise.all([this.counters.add(all.key, all.windowMs, -1), this.counters.add(own.key, own.windowMs, -1)]);
      throw tooMany(second.ttlMs, FROM_UNKNOWN);
    }
    return { entries: [own, all] };
  }

  /** The password was right: the attempt was no failure. */
  async succeeded(charge: Charge): Promise<void> {
    await Promise.all(charge.entries.map(({ key, windowMs }) => this.counters.add(key, windowMs, -1)));
  }
}
