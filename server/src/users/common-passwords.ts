/**
 * Passwords of 10+ characters that top the breached-password lists (and the
 * obvious product-specific ones). A short list on purpose: it catches the
 * guesses an online attacker tries first without shipping a 1 MB corpus.
 * Compared lower-cased.
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

export function isCommonPassword(password: string): boolean {
  const lower = password.toLowerCase();
  // Ten repeats of one character, or a run like "aaaaaaaaaa1", are as bad as the list.
  return COMMON_PASSWORDS.has(lower) || new Set(lower).size < 3;
}
