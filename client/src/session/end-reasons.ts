/**
 * Why a session is over, in words for the login screen. The API's 401 says why in its `reason` field
 * (`ended`, `password-changed`, `logged-out-everywhere`, `expired`, `invalid`); anything else, or no reason,
 * reads as the usual expiry.
 */
import type { SignOutReason } from './tab-sync';

export const SESSION_EXPIRED = 'Your session has expired. Please log in again.';

/** The reasons that name something done elsewhere, which the person should hear about even at start-up. */
const ENDED_ELSEWHERE = new Map<string, string>([
  ['ended', 'This session was ended from another device.'],
  ['password-changed', 'Your password was changed; log in with the new one.'],
  ['logged-out-everywhere', 'You were logged out everywhere.'],
]);

/** The notice after a call was refused with 401 while signed in. */
export function sessionEndNotice(reason: unknown): string {
  return endedElsewhereNotice(reason) ?? SESSION_EXPIRED;
}

/**
 * The notice for a page that opens on a session ended elsewhere; undefined for a missing, expired or unknown one
 * (a visitor without a session, or back after a long time, needs no news on the login screen).
 */
export function endedElsewhereNotice(reason: unknown): string | undefined {
  return typeof reason === 'string' ? ENDED_ELSEWHERE.get(reason) : undefined;
}

/** The notice in a tab that heard another tab's session end (session/tab-sync.ts). */
export function otherTabNotice(reason: SignOutReason): string {
  switch (reason) {
    case 'logout':
      return LOGGED_OUT_IN_ANOTHER_TAB;
    case 'logout-all':
      return 'You were logged out everywhere.';
    case 'account-deleted':
      return 'Your account was deleted in another tab.';
    default:
      return sessionEndNotice(reason);
  }
}

export const LOGGED_OUT_IN_ANOTHER_TAB = 'You logged out in another tab.';

/** The API's 401 reason as the tabs tell it each other (an unknown one is the usual expiry). */
export function signOutReason(reason: unknown): SignOutReason {
  if (reason === 'ended' || reason === 'password-changed') return reason;
  if (reason === 'logged-out-everywhere') return 'logout-all';
  return 'expired';
}
