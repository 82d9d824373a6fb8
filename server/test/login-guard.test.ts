/**
 * Lockout without lockout (users/login-guard.ts, docs/security.md), on both databases, with the shipped defaults of
 * the login settings: a stranger's wrong passwords from one address do not keep the owner out from another; guesses
 * spread over many addresses stay at RATE_LIMIT_LOGIN_ACCOUNT; a browser that signed in before (device cookie) still
 * gets in while the account is under such an attack.
 */
import { settings } from '@ironclad/config/schema';
import { parseRateLimit } from '@ironclad/config/types';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DEVICE_COOKIE } from '../src/users/device-cookie.js';
import { describeOn, GOOD_PASSWORD, MODES, signup, startTestApp, type TestApp } from './helpers.js';

// The shipped defaults, not the test helpers' high ones (RATE_LIMIT_LOGIN, per address, is left high: it is not
// what is under test, and 20 attempts per address would reach it).
const DEFAULTS = {
  RATE_LIMIT_LOGIN_FAILURES: settings.RATE_LIMIT_LOGIN_FAILURES.default,
  RATE_LIMIT_LOGIN_ACCOUNT: settings.RATE_LIMIT_LOGIN_ACCOUNT.default,
};
const PER_ADDRESS = parseRateLimit(DEFAULTS.RATE_LIMIT_LOGIN_FAILURES).max;
const PER_ACCOUNT = parseRateLimit(DEFAULTS.RATE_LIMIT_LOGIN_ACCOUNT).max;
const WRONG = 'not the password at all';

function deviceCookieOf(response: LightMyRequestResponse): string {
  const cookie = response.cookies.find((c) => c.name === DEVICE_COOKIE);
  if (!cookie) throw new Error('no device cookie');
  return cookie.value;
}

for (const mode of MODES) {
  describeOn(mode)(`login guard (${mode})`, () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await startTestApp(mode, DEFAULTS);
    });
    afterAll(async () => {
      await t?.close();
    });

    const login = (email: string, password: string, remoteAddress: string, device?: string) =>
      t.app.inject({
        method: 'POST',
        url: '/api/v1/users/login/',
        remoteAddress,
        payload: { email, password },
        ...(device ? { cookies: { [DEVICE_COOKIE]: device } } : {}),
      });

    it('ten wrong passwords from one address do not stop the owner from another', async () => {
      const { email } = await signup(t.app);
      const statuses: number[] = [];
      for (let i = 0; i < 10; i++) statuses.push((await login(email, WRONG, '198.51.100.7')).statusCode);
      expect(statuses).toEqual([...Array(PER_ADDRESS).fill(401), ...Array(10 - PER_ADDRESS).fill(429)]);
      // The guessing address is refused even the right password, for this account only.
      const guesser = await login(email, GOOD_PASSWORD, '198.51.100.7');
      expect(guesser.statusCode).toBe(429);
      expect(guesser.json()).toMatchObject({ error: expect.stringContaining('from here') });
      expect(Number(guesser.headers['retry-after'])).toBeGreaterThan(0);
      const owner = await login(email, GOOD_PASSWORD, '198.51.100.8');
      expect(owner.statusCode).toBe(200);
      expect(owner.json()).toMatchObject({ email });
    });

    it('1,000 guesses over 50 addresses check at most RATE_LIMIT_LOGIN_ACCOUNT passwords; a known browser still gets in', async () => {
      const { email } = await signup(t.app);
      // The owner signed in here before the attack: this browser holds the account's device cookie.
      const before = await login(email, GOOD_PASSWORD, '192.0.2.200');
      expect(before.statusCode).toBe(200);
      const device = deviceCookieOf(before);

      const counts = new Map<number, number>();
      for (let round = 0; round < 20; round++) {
        const answers = await Promise.all(
          Array.from({ length: 50 }, (_, address) => login(email, `${WRONG} ${round}`, `203.0.113.${address + 1}`)),
        );
        for (const answer of answers) counts.set(answer.statusCode, (counts.get(answer.statusCode) ?? 0) + 1);
      }
      // Every guess answered; only the budget's worth had its password checked.
      expect([...counts.keys()].sort()).toEqual([401, 429]);
      expect(counts.get(401)).toBeLessThanOrEqual(PER_ACCOUNT);
      expect(counts.get(401)).toBeGreaterThan(0);
      expect((counts.get(401) ?? 0) + (counts.get(429) ?? 0)).toBe(1000);

      // A client the account does not know is refused now, whatever the password, with a reason and Retry-After...
      const stranger = await login(email, GOOD_PASSWORD, '192.0.2.201');
      expect(stranger.statusCode).toBe(429);
      expect(stranger.json().error).toMatch(/unknown devices/);
      // ...but the owner's browser, from a fresh address, gets in.
      const owner = await login(email, GOOD_PASSWORD, '192.0.2.202', device);
      expect(owner.statusCode).toBe(200);
      // A cookie is for its own account only, and a tampered one counts for nothing.
      const other = await signup(t.app);
      const otherDevice = deviceCookieOf(await login(other.email, GOOD_PASSWORD, '192.0.2.203'));
      expect((await login(email, GOOD_PASSWORD, '192.0.2.204', otherDevice)).statusCode).toBe(429);
      const tampered = `${device.slice(0, -2)}${device.endsWith('AA') ? 'AB' : 'AA'}`;
      expect((await login(email, GOOD_PASSWORD, '192.0.2.205', tampered)).statusCode).toBe(429);
    });

    it('signup makes the browser known too; the cookie is HttpOnly, SameSite=Strict and sent only to login', async () => {
      const created = await t.app.inject({
        method: 'POST',
        url: '/api/v1/users/signup/',
        remoteAddress: '192.0.2.230',
        payload: { email: `signup-device-${mode}@example.com`, password: GOOD_PASSWORD },
      });
      expect(created.statusCode).toBe(201);
      const cookie = created.cookies.find((c) => c.name === DEVICE_COOKIE);
      expect(cookie).toMatchObject({
        httpOnly: true,
        sameSite: 'Strict',
        path: '/api/v1/users/login',
        maxAge: 31_536_000,
      });
      // Plain HTTP here; behind TLS (request.protocol https) the cookie is Secure, as the topology test shows for the session.
      expect(cookie?.secure).toBeUndefined();
      const device = cookie?.value as string;
      // Spend the account's budget for unknown clients from many addresses; the signup browser still gets in.
      const email = `signup-device-${mode}@example.com`;
      for (let i = 0; i < PER_ACCOUNT + 5; i++) await login(email, WRONG, `203.0.113.${100 + (i % 100)}`);
      expect((await login(email, GOOD_PASSWORD, '192.0.2.231')).statusCode).toBe(429);
      expect((await login(email, GOOD_PASSWORD, '192.0.2.231', device)).statusCode).toBe(200);
    });

    it('a stolen device cookie buys only its own small budget', async () => {
      const { email } = await signup(t.app);
      const device = deviceCookieOf(await login(email, GOOD_PASSWORD, '192.0.2.210'));
      const statuses: number[] = [];
      for (let i = 0; i < PER_ADDRESS + 2; i++) {
        // A different address each time: the device's budget follows the cookie, not the address.
        statuses.push((await login(email, WRONG, `192.0.2.${220 + i}`, device)).statusCode);
      }
      expect(statuses).toEqual([...Array(PER_ADDRESS).fill(401), 429, 429]);
    });

    it('right passwords are not failures: the owner signing in often is never limited', async () => {
      const { email } = await signup(t.app);
      for (let i = 0; i < PER_ADDRESS * 3; i++) {
        expect((await login(email, GOOD_PASSWORD, '192.0.2.240')).statusCode).toBe(200);
      }
      expect((await login(email, WRONG, '192.0.2.240')).statusCode).toBe(401);
    });

    it('parallel guesses from one address cannot slip past the limit', async () => {
      const { email } = await signup(t.app);
      const answers = await Promise.all(Array.from({ length: 30 }, () => login(email, WRONG, '198.51.100.30')));
      const checked = answers.filter((a) => a.statusCode === 401).length;
      expect(checked).toBe(PER_ADDRESS);
      expect(answers.filter((a) => a.statusCode === 429)).toHaveLength(30 - PER_ADDRESS);
    });
  });
}
