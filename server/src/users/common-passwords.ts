/**
 * Passwords of 10+ characters that top the breached-password lists (and the
 * obvious product-specific ones). A short list on purpose: it catches the
 * guesses an online attacker tries first without shipping a 1 MB corpus.
 * Compared in comparableForm (below): "  PASSWORD 123 " is "password123".
 */
export const COMMON_PASSWORDS: ReadonlySet<string> = new Set([
  '1234567890',
  '12345678910',
  '123456789a',
  '0123456789',
  '1111111111',
  '0000000000',
  '1q2w3e4r5t',
  '1qaz2wsx3edc',
  'qwertyuiop',
  'qwertyuiop1',
  'qwerty1234',
  'qwerty12345',
  'qwerty123456',
  'asdfghjkl1',
  'zxcvbnm123',
  'password12',
  'password123',
  'password1234',
  'password!1',
  'passw0rd123',
  'p@ssw0rd123',
  'iloveyou123',
  'letmein123',
  'welcome123',
  'welcome1234',
  'changeme123',
  'administrator',
  'admin12345',
  'adminadmin',
  'football123',
  'baseball123',
  'princess123',
  'sunshine123',
  'dragon12345',
  'monkey12345',
  'superman123',
  'trustno1trustno1',
  'abcdefghij',
  'abcd123456',
  'abc1234567',
  'a123456789',
  'aa12345678',
  'q1w2e3r4t5',
  'computer123',
  'internet123',
  'secret1234',
  'passwordpassword',
  'mypassword',
  'mypassword1',
  'yourpassword',
  'ironclad123',
  'ironcladtasks',
  'taskmanager',
]);

/**
 * The form a password is judged in: what a guesser would try as "the same" password. NFKC folds compatibility
 * forms (full-width "ｐａｓｓｗｏｒｄ", ligatures) into plain letters; lower-casing folds case; white space is removed
 * wherever it is ("  Password 123 " is "password123"), since padding adds no guessing cost. Used only for judging:
 * the password itself is hashed exactly as typed.
 */
export function comparableForm(password: string): string {
  return password.normalize('NFKC').toLowerCase().replace(/\s+/g, '');
}

export function isCommonPassword(password: string): boolean {
  const form = comparableForm(password);
  // Ten repeats of one character, or a run like "aaaaaaaaaa1", are as bad as the list (and so is only white space).
  return COMMON_PASSWORDS.has(form) || new Set(form).size < 3;
}
