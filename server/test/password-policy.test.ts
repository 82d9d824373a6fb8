/**
 * A common password stays common when padded with spaces, spaced out, capitalised or typed in full-width letters
 * (issue 12, item 7): the policy judges the password's comparable form, while the password itself is kept (and
 * hashed) exactly as typed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMON_PASSWORDS, comparableForm, isCommonPassword } from '../src/users/common-passwords.js';
import { passwordProblem } from '../src/users/passwords.js';
import { startTestApp, type TestApp, uniqueEmail } from './helpers.js';

const COMMON = 'is too common; choose a less guessable password';
const VARIANTS = [
  '  Password123  ',
  'PASSWORD123',
  'Password123 ',
  '\tpassword123\n',
  'pass word 123',
  'Ｐａｓｓｗｏｒｄ１２３', // full-width: NFKC folds it to "Password123"
  'password123\u00a0\u00a0',
];

describe('the comparable form', () => {
  it('folds case, compatibility forms and white space anywhere', () => {
    for (const variant of VARIANTS) expect(comparableForm(variant), JSON.stringify(variant)).toBe('password123');
  });

  it('every listed password is already in that form (or the list would have unreachable entries)', () => {
    for (const password of COMMON_PASSWORDS) expect(comparableForm(password)).toBe(password);
  });

  it('a password that is only white space, or one character padded, is as bad as the list', () => {
    expect(isCommonPassword(' '.repeat(12))).toBe(true);
    expect(isCommonPassword(`  ${'a'.repeat(10)}  `)).toBe(true);
  });

  it('a good password stays good, with or without spaces', () => {
    expect(passwordProblem('correct horse battery staple', 'ada@example.com')).toBeUndefined();
    expect(passwordProblem('  Tr0ub4dor&3-Zebra  ', 'ada@example.com')).toBeUndefined();
  });
});

describe('the policy', () => {
  it.each(VARIANTS)('refuses %j as too common', (password) => {
    expect(passwordProblem(password, 'ada@example.com')).toBe(COMMON);
  });

  it.each([
    ['padded and capitalised email', '  ADA.LOVELACE@example.com  '],
    ['email name with spaces', 'Ada. Lovelace 1815'],
    ['full-width email name', 'ａｄａ.ｌｏｖｅｌａｃｅ!!'],
  ])('refuses a password that is the email in disguise (%s)', (_name, password) => {
    expect(passwordProblem(password, 'ada.lovelace@example.com')).toBe('must not contain your email address');
  });
});

describe('through signup', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp('embedded');
  });
  afterAll(async () => {
    await t?.close();
  });

  // (Tab and newline are control characters: the schema refuses those before the policy sees them.)
  it.each(VARIANTS.filter((variant) => !/[\t\n]/.test(variant)))(
    'POST /api/v1/users/signup/ with %j: 400 with the field error, no account',
    async (password) => {
      const email = uniqueEmail('padded');
      const response = await t.app.inject({
        method: 'POST',
        url: '/api/v1/users/signup/',
        payload: { email, password },
      });
      expect(response.statusCode).toBe(400);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(response.json()).toEqual({ error: expect.any(String), fields: { password: COMMON } });
      const login = await t.app.inject({ method: 'POST', url: '/api/v1/users/login/', payload: { email, password } });
      expect(login.statusCode).toBe(401);
    },
  );

  it('a padded strong password is accepted and must be typed with its padding to log in', async () => {
    const email = uniqueEmail('padded-ok');
    const password = '  Tr0ub4dor&3-Zebra  ';
    const signup = await t.app.inject({ method: 'POST', url: '/api/v1/users/signup/', payload: { email, password } });
    expect(signup.statusCode).toBe(201);
    const exact = await t.app.inject({ method: 'POST', url: '/api/v1/users/login/', payload: { email, password } });
    expect(exact.statusCode).toBe(200);
    const trimmed = await t.app.inject({
      method: 'POST',
      url: '/api/v1/users/login/',
      payload: { email, password: password.trim() },
    });
    expect(trimmed.statusCode).toBe(401);
  });
});
