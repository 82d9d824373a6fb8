/**
 * The lengths the API promises, in one place: the route schemas validate them (and publish them in the OpenAPI
 * document, from which the client's limits.ts is generated), and the database schema enforces the same ones as
 * column lengths and CHECK constraints. The committed SQL migrations hold the numbers as they were when generated;
 * change one here and `npm run generate -w server` writes the migration that follows.
 */
export const TASK_TITLE_MAX = 255;
export const TASK_DESCRIPTION_MAX = 10_000;
/** RFC 5321's limit on a forward path. */
export const EMAIL_MAX_LENGTH = 254;
export const IDEMPOTENCY_KEY_MAX = 100;
/** A session's or an event's user agent is kept to this many characters (what a person needs to recognise a device). */
export const SESSION_CLIENT_MAX = 200;
/** The longest textual IPv6 address with an IPv4 tail (45), plus room for a zone index. */
export const IP_MAX_LENGTH = 64;
/** Security events kept per account, newest first (ACTIVITY_RETENTION bounds their age). */
export const ACTIVITY_MAX_ROWS = 1000;
/** Most characters of a task search (`q`), after trimming. */
export const TASK_SEARCH_MAX = 200;
/**
 * Most characters of `q` as sent, surrounding spaces included: the spaces do not count against TASK_SEARCH_MAX, so a
 * client that pads or does not trim is not refused, while the text read before trimming stays bounded.
 */
export const TASK_SEARCH_SENT_MAX = 1000;
/** Most task ids one bulk request may name. */
export const BULK_IDS_MAX = 500;
/**
 * Most characters of a list cursor (`after`). A cursor of the `title` sort holds the last title's folded key (at most
 * 255 characters, 1,020 bytes of UTF-8), sealed and base64url-encoded: under 1,500 characters; other sorts, about 60.
 */
export const CURSOR_MAX = 2048;
/** Earliest and latest years of a due date (`due_on`) and of `today`. */
export const DUE_YEAR_MIN = 1900;
export const DUE_YEAR_MAX = 9999;
