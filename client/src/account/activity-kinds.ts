/** The account's security events (GET /users/activity/), in words. */
const KINDS = new Map<string, string>([
  ['signup', 'Account created'],
  ['login', 'Logged in'],
  ['login-failed', 'Failed login attempt'],
  ['password-check-failed', 'Wrong password entered while signed in'],
  ['logout', 'Logged out'],
  ['password-changed', 'Password changed'],
  ['password-reset-requested', 'Password reset link asked for'],
  ['password-reset-completed', 'Password reset with an emailed link'],
  ['session-ended', 'Session ended'],
  ['logout-all', 'Logged out everywhere'],
  ['export', 'Data downloaded'],
]);

/** A kind this client does not know yet (a newer server) still reads as words: "some-thing" gives "Some thing". */
export function activityLabel(kind: string): string {
  const known = KINDS.get(kind);
  if (known) return known;
  const words = kind.replaceAll('-', ' ').replaceAll('_', ' ').trim();
  return words ? words[0]?.toUpperCase() + words.slice(1) : 'Unknown event';
}

/** Kinds a person should look at twice: someone else may be trying the account. */
export function isWarning(kind: string): boolean {
  return kind === 'login-failed' || kind === 'password-check-failed';
}
