/**
 * The database settings, parsed once. DATABASE_URL's own parser (below, used by schema.ts) reads the URL into its
 * parts; the loader combines those or the POSTGRES_* settings into one DatabaseTarget, kept on the Config, which the
 * security rules (rules.ts), the deploy auditor and the secret redaction all read. Nothing else parses the URL; the
 * driver (node-postgres) reads it once more to connect, and the parts here follow the driver's reading of it.
 */
import { ParseError } from './types.js';

/** DATABASE_URL, parsed. */
export interface PostgresUrl {
  /** The URL exactly as given, for the driver. A secret: it may hold the password. */
  readonly url: string;
  readonly user: string | undefined;
  readonly password: string | undefined;
  readonly host: string;
  readonly port: number | undefined;
  readonly database: string | undefined;
}

/** What the configuration connects to: the embedded database, or PostgreSQL described by its parts. */
export type DatabaseTarget =
  | { readonly kind: 'embedded'; readonly dataDir: string }
  | {
      readonly kind: 'postgres';
      /** The setting that chose PostgreSQL (DATABASE_URL wins over the POSTGRES_* parts). */
      readonly from: 'DATABASE_URL' | 'POSTGRES_DB';
      readonly user?: string;
      readonly password?: string;
      readonly host?: string;
      readonly port?: number;
      readonly database?: string;
    };

const NOT_A_URL = 'is not a postgres://user:password@host:port/database URL';
const BAD_ESCAPE =
  'has a malformed percent-encoding (a "%" not followed by two hex digits) in its user, password, host or database; write a literal "%" as %25';

function decoded(text: string, decode: (text: string) => string): string {
  try {
    return decode(text);
  } catch {
    // decodeURIComponent throws URIError on "%zz"; the message must not echo the value (it may be the password).
    throw new ParseError(BAD_ESCAPE);
  }
}

/**
 * Parses DATABASE_URL as node-postgres reads it (pg-connection-string): `?user=`, `?password=`, `?host=` and `?port=`
 * win over the URL's own parts, and user, password and host are percent-decoded. Where the driver would guess (a
 * stray "%", a URL without a host name) this refuses instead, so the rules judge exactly what will be used.
 * Error messages never contain the value.
 */
export function parsePostgresUrl(raw: string): PostgresUrl {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ParseError(NOT_A_URL);
  }
  if ((url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') || !url.hostname) {
    throw new ParseError(NOT_A_URL);
  }
  const query = url.searchParams;
  const user = query.get('user') || decoded(url.username, decodeURIComponent);
  const password = query.get('password') || decoded(url.password, decodeURIComponent);
  const host = query.get('host') || decoded(url.hostname.replace(/^\[(.+)\]$/, '$1'), decodeURIComponent);
  const portText = query.get('port') || url.port;
  if (portText && (!/^[0-9]{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65_535)) {
    throw new ParseError(`${NOT_A_URL} (its port must be a whole number from 1 to 65535)`);
  }
  const path = url.pathname.slice(1);
  return {
    url: raw,
    user: user || undefined,
    password: password || undefined,
    host,
    port: portText ? Number(portText) : undefined,
    database: path ? decoded(path, decodeURI) : undefined,
  };
}
