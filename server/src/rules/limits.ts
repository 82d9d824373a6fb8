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
