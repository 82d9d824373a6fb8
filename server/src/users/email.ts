/**
 * The email rules, written once: the schemas (users/schemas.ts) take the length from here and the routes
 * the normal form. The database checks the same normal form (db/schema.ts, users_email_normalized).
 */

export { EMAIL_MAX_LENGTH } from '../rules/limits.js';

/** How an email is stored and compared: without surrounding spaces, lower-cased. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}
