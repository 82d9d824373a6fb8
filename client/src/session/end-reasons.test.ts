import { describe, expect, it } from 'vitest';
import { endedElsewhereNotice, SESSION_EXPIRED, sessionEndNotice } from './end-reasons';

describe('why a session ended, for the login screen', () => {
  it('names what was done elsewhere', () => {
    expect(sessionEndNotice('ended')).toBe('This session was ended from another device.');
    expect(sessionEndNotice('password-changed')).toBe('Your password was changed; log in with the new one.');
    expect(sessionEndNotice('logged-out-everywhere')).toBe('You were logged out everywhere.');
  });

  it('reads anything else as the usual expiry', () => {
    for (const reason of [
      'expired',
      'invalid',
      undefined,
      null,
      '',
      'constructor',
      '__proto__',
      42,
      { reason: 'ended' },
    ]) {
      expect(sessionEndNotice(reason)).toBe(SESSION_EXPIRED);
    }
  });

  it('at start-up, speaks only of what was done elsewhere', () => {
    expect(endedElsewhereNotice('ended')).toBe('This session was ended from another device.');
    expect(endedElsewhereNotice('logged-out-everywhere')).toBe('You were logged out everywhere.');
    expect(endedElsewhereNotice('expired')).toBeUndefined();
    expect(endedElsewhereNotice('invalid')).toBeUndefined();
    expect(endedElsewhereNotice(undefined)).toBeUndefined();
    expect(endedElsewhereNotice('toString')).toBeUndefined();
  });
});
