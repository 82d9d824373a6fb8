/**
 * The email rules, written once: the schemas (users/schemas.ts) take the length from here and the routes
 * the normal form. The database checks the same normal form (db/schema.ts, users_email_normalized).
 */

import { FORBIDDEN } from '../rules/text.js';

export { EMAIL_MAX_LENGTH } from '../rules/limits.js';

/**
 * One plain address, as the mailer will send to it (email/message.ts): no space, quote, bracket, comma, colon or
 * semicolon anywhere, one @, and none of the characters no stored text may contain. RFC 5322 allows quoted local
 * parts and address literals (`"a b"@x`, `a@[127.0.0.1]`), but an account whose address no relay will take could never
 * reset its password, and such addresses are what header-injection tricks are made of.
 */
const NOT_IN_ADDRESS = `${FORBIDDEN}\\s@<>,;:"()\\[\\]\\\\`;
export const EMAIL_PATTERN = `^[^${NOT_IN_ADDRESS}]+@[^${NOT_IN_ADDRESS}]+$`;

/** How an email is stored and compared: without surrounding spaces, lower-cased. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/**
 * A preValidation hook: mobile keyboards and copy-paste add spaces around emails, so a body's `email` is trimmed
 * before the schema checks its format. Before validation the body is whatever the client sent.
 */
export async function trimBodyEmail(request: { body: unknown }): Promise<void> {
  const body = request.body as { email?: unknown } | undefined;
  if (body && typeof body === 'object' && typeof body.email === 'string') body.email = body.email.trim();
}
