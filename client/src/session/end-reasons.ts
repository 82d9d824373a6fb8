/**
 * Why a session is over, in words for the login screen. The API's 401 says why in its `reason` field
 * (`ended`, `password-changed`, `logged-out-everywhere`, `expired`, `invalid`); anything else, or no reason,
 * reads as the usual expiry.
 */
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
