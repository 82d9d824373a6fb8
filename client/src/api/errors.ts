/** What can go wrong with a call, in the terms the screens need. */

/** The server answered with an error (4xx, or a 5xx other than "unavailable"). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** Per-field problems (400/409), keyed by field name. */
    readonly fields: Readonly<Record<string, string>> = {},
    /** Seconds, from Retry-After (429). */
    readonly retryAfter?: number,
    /** On a 401: why the session is over (`ended`, `password-changed`, ...; session/end-reasons.ts). */
    readonly reason?: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** The server could not be reached, or said it is temporarily unavailable (502/503/504). */
export class ConnectionError extends Error {
  constructor(message = 'Cannot reach the server.') {
    super(message);
    this.name = 'ConnectionError';
  }
}

/** One sentence for the person in front of the screen; never raw JSON or a stack. */
export function describeError(error: unknown): string {
  if (error instanceof ConnectionError) return 'Cannot reach the server. Your changes were not saved; try again.';
  if (error instanceof ApiError) {
    if (error.status === 429) {
      const wait = error.retryAfter ? ` Try again in ${formatWait(error.retryAfter)}.` : ' Try again later.';
      return `Too many attempts.${wait}`;
    }
    return error.message;
  }
  return 'Something went wrong. Please try again.';
}

function formatWait(seconds: number): string {
  if (seconds < 90) return `${Math.max(1, Math.round(seconds))} seconds`;
  return `${Math.round(seconds / 60)} minutes`;
}

/** The field errors of an error, or none. */
export function fieldErrors(error: unknown): Readonly<Record<string, string>> {
  return error instanceof ApiError ? error.fields : {};
}
