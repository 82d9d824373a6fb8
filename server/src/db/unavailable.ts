/**
 * Tells "the database cannot do it now" (answered 503 + Retry-After, retried at start) from a bug or a client's
 * mistake (500 / 4xx). Used by the error handler (http/errors.ts), the session guard (session-recovery.ts) and the
 * process lifecycle, which must not depend on HTTP.
 *
 * The classification reads codes, not English: the SQLSTATE PostgreSQL (and PGlite, and PgBouncer) sends, and the
 * errno code of a socket error. Only the few errors node-postgres and pg-pool raise themselves, which carry neither,
 * are recognised by their fixed wording (DRIVER_MESSAGES, the documented last resort).
 */

/** For code that knows the database is unavailable but has no driver error to show for it. */
export class ServiceUnavailableError extends Error {}

/**
 * Why the database cannot serve a request now. Each names what an operator should look at (the once-per-interval
 * log line says it in words: `describeUnavailable`).
 */
export type UnavailableReason =
  | 'read-only' // 25006: a hot standby, or default_transaction_read_only
  | 'credentials' // class 28: the role or its password was refused
  | 'database-missing' // 3D000
  | 'connection' // class 08, shutdowns (57P01-57P05), socket errors, the driver's own connection errors
  | 'timeout' // 57014: statement_timeout or a cancel
  | 'resources' // class 53: disk full, out of memory, too many connections
  | 'contention' // 40001, 40P01, 55P03: retrying the same request can succeed
  | 'system' // class 58: an I/O error on the database server
  | 'unknown'; // ServiceUnavailableError: the code knew, without a driver error

/** Node's errno codes for a connection that could not be made or was lost. */
const CONNECTION_ERRNO = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EHOSTDOWN',
  'ENETUNREACH',
  'ENETDOWN',
  'ENETRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

/** SQLSTATEs by their full code; checked before the classes below. */
const SQLSTATE: Record<string, UnavailableReason> = {
  '25006': 'read-only', // read_only_sql_transaction
  '3D000': 'database-missing', // invalid_catalog_name
  '57014': 'timeout', // query_canceled
  '57P01': 'connection', // admin_shutdown (also pg_terminate_backend)
  '57P02': 'connection', // crash_shutdown
  '57P03': 'connection', // cannot_connect_now (starting up, shutting down, a standby not yet consistent)
  '57P04': 'connection', // database_dropped
  '57P05': 'connection', // idle_session_timeout
  '40001': 'contention', // serialization_failure
  '40P01': 'contention', // deadlock_detected
  '55P03': 'contention', // lock_not_available
  // A named prepared statement a transaction-mode pooler lost (another server connection) or already has: only a
  // pooler makes these, nothing was executed, and postgres.ts stops naming statements at the first one, so the
  // retry succeeds.
  '26000': 'connection', // invalid_sql_statement_name
  '42P05': 'connection', // duplicate_prepared_statement
};

/** SQLSTATE classes (the first two characters) that are all "cannot do it now". */
const SQLSTATE_CLASS: Record<string, UnavailableReason> = {
  '08': 'connection', // connection_exception (PgBouncer sends these too)
  '28': 'credentials', // invalid_authorization_specification, invalid_password
  '53': 'resources', // insufficient_resources: disk_full, out_of_memory, too_many_connections
  '58': 'system', // system_error, io_error
};

/**
 * Last resort: node-postgres and pg-pool raise these as plain `Error`s, with neither a SQLSTATE nor an errno code
 * (pg/lib/client.js, pg-pool/index.js, pg 8.23). Matched only on such code-less errors, from the start of the message.
 */
const DRIVER_MESSAGES = [
  'Connection terminated', // also "... unexpectedly" and "... due to connection timeout"
  'timeout exceeded when trying to connect',
  'Query read timeout',
  'Client has encountered a connection error and is not queryable',
  'Client was closed and is not queryable',
  'Cannot use a pool after calling end on the pool',
];

const SQLSTATE_SHAPE = /^[0-9A-Z]{5}$/;

function ownReason(error: object): UnavailableReason | undefined {
  if (error instanceof ServiceUnavailableError) return 'unknown';
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string') {
    // Errno codes first: 'EPIPE' has the shape of a SQLSTATE too.
    if (CONNECTION_ERRNO.has(code)) return 'connection';
    if (SQLSTATE_SHAPE.test(code)) return SQLSTATE[code] ?? SQLSTATE_CLASS[code.slice(0, 2)];
    return undefined;
  }
  if (code === undefined && error instanceof Error && typeof message === 'string') {
    if (DRIVER_MESSAGES.some((start) => message.startsWith(start))) return 'connection';
  }
  return undefined;
}

/**
 * Why the database cannot serve this now, or undefined when the error is a bug or the client's mistake (a unique
 * violation, a syntax error). Follows `cause` (DrizzleQueryError wraps the driver's error; pg-pool wraps its connect
 * timeout) and `errors` (an AggregateError from a connect that tried several addresses).
 */
export function unavailableReason(error: unknown, depth = 0): UnavailableReason | undefined {
  if (depth > 8 || error === null || typeof error !== 'object') return undefined;
  const own = ownReason(error);
  if (own) return own;
  const { cause, errors } = error as { cause?: unknown; errors?: unknown };
  if (Array.isArray(errors)) {
    for (const inner of errors) {
      const reason = unavailableReason(inner, depth + 1);
      if (reason) return reason;
    }
  }
  return unavailableReason(cause, depth + 1);
}

/** Is this (or what caused it) the database being unable to serve the request now, rather than a bug? */
export function isDatabaseUnavailable(error: unknown): boolean {
  return unavailableReason(error) !== undefined;
}

/** The SQLSTATE or errno code found along the causes, for a log line (never the message: it may hold values). */
export function errorCode(error: unknown, depth = 0): string | undefined {
  if (depth > 8 || error === null || typeof error !== 'object') return undefined;
  const { code, cause, errors } = error as { code?: unknown; cause?: unknown; errors?: unknown };
  if (typeof code === 'string') return code;
  if (Array.isArray(errors)) {
    for (const inner of errors) {
      const found = errorCode(inner, depth + 1);
      if (found) return found;
    }
  }
  return errorCode(cause, depth + 1);
}

/**
 * Reasons after which the pooled session itself cannot be trusted any more: its defaults were read when it
 * connected (default_transaction_read_only), or its connection is gone. Reconnecting costs a few milliseconds;
 * keeping it would fail every later request on that session (session-recovery.ts discards it).
 */
export function isSessionUnusable(error: unknown): boolean {
  const reason = unavailableReason(error);
  return reason === 'read-only' || reason === 'credentials' || reason === 'database-missing' || reason === 'connection';
}

const WHAT_TO_DO: Record<UnavailableReason, string> = {
  'read-only':
    'the database is read-only (a hot standby not yet promoted, or default_transaction_read_only): writes are answered 503 until it accepts them',
  credentials:
    'the database refused the credentials: check POSTGRES_USER/POSTGRES_PASSWORD or DATABASE_URL against the role; requests are answered 503 until it accepts them',
  'database-missing': 'the database does not exist: check POSTGRES_DB or DATABASE_URL; requests are answered 503',
  connection: 'the database cannot be reached or dropped the connection: requests are answered 503 until it is back',
  timeout: 'database statements are timing out (DB_QUERY_TIMEOUT): requests are answered 503',
  resources:
    'the database is out of a resource (disk, memory or connections): requests are answered 503 until it has room',
  contention: 'database transactions conflict (serialization failure, deadlock or lock wait): answered 503, retryable',
  system: 'the database server reports an I/O or system error: requests are answered 503',
  unknown: 'the database is unavailable: requests are answered 503',
};

/** One sentence for the operator: what is wrong and what to check. */
export function describeUnavailable(reason: UnavailableReason): string {
  return WHAT_TO_DO[reason];
}

export interface WarnLog {
  warn(fields: Record<string, unknown>, message: string): void;
}

/**
 * One log line per reason per interval instead of one per failed request: during an outage every request fails
 * the same way, and a line per request would bury the one that says what to do. Each line counts the failures
 * the previous interval left out.
 */
export class UnavailableLog {
  private readonly last = new Map<UnavailableReason, { at: number; suppressed: number }>();

  constructor(
    private readonly intervalMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Logs this failure unless its reason was logged within the interval; returns whether it logged. */
  note(log: WarnLog, error: unknown, fields: Record<string, unknown> = {}): boolean {
    const reason = unavailableReason(error) ?? 'unknown';
    const now = this.now();
    const seen = this.last.get(reason);
    if (seen && now - seen.at < this.intervalMs) {
      seen.suppressed++;
      return false;
    }
    this.last.set(reason, { at: now, suppressed: 0 });
    log.warn(
      { ...fields, reason, code: errorCode(error), suppressedSinceLast: seen?.suppressed ?? 0 },
      `database unavailable: ${describeUnavailable(reason)}`,
    );
    return true;
  }
}
