/**
 * The text rules every feature shares (tasks' titles and descriptions, users' emails and passwords); each
 * feature's schemas add their own lengths. Pure: no Fastify, no database.
 *
 * Characters no stored text may contain, as regular-expression class bodies for route schemas
 * (TypeBox compiles patterns with the `u` flag, so a lone surrogate is one unit and a valid pair is
 * not matched): C0 and C1 control characters, DEL, and unpaired UTF-16 surrogates (which cannot
 * be encoded as UTF-8 and would otherwise be stored as U+FFFD).
 */
export const FORBIDDEN = '\\u0000-\\u001F\\u007F-\\u009F\\uD800-\\uDFFF';
/** The same, but newline and tab are allowed (multi-line text). */
export const FORBIDDEN_MULTILINE = '\\u0000-\\u0008\\u000B-\\u001F\\u007F-\\u009F\\uD800-\\uDFFF';

export const NO_FORBIDDEN = `^[^${FORBIDDEN}]*$`;
