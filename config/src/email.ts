/**
 * Parsers for the email settings: PUBLIC_URL (the origin every link in every email is built from), SMTP_URL (the
 * relay, a secret) and EMAIL_FROM (the sender). Each returns a normalized value or throws a ParseError that never
 * repeats a secret.
 */
import { isIP } from 'node:net';
import { ParseError } from './types.js';

/** Where people reach the app: `https://tasks.example.com` or with a path prefix, never a query or fragment. */
export interface PublicUrl {
  /** Normalized, without a trailing slash: links are `${href}/#reset=...`. */
  readonly href: string;
  readonly protocol: 'http:' | 'https:';
  /** Lower-case host name without port (IPv6 in brackets), as ALLOWED_HOSTS matches it. */
  readonly hostname: string;
}

export function parsePublicUrl(raw: string): PublicUrl {
  const hint = 'must be the origin people open the app at, such as https://tasks.example.com';
  // A value with an "@" may carry user:password@: not repeated after the message, although PUBLIC_URL is no secret.
  const echo = !raw.includes('@');
  const refuse = (why: string) => new ParseError(why, { echo });
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw refuse(hint);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw refuse(`${hint} (http or https)`);
  if (url.username || url.password) throw refuse(`${hint}, without user or password`);
  if (url.search || url.hash || raw.includes('?') || raw.includes('#')) {
    throw refuse(`${hint}, without a query or fragment`);
  }
  if (!url.hostname) throw refuse(hint);
  let path = url.pathname;
  while (path.endsWith('/')) path = path.slice(0, -1);
  return { href: `${url.origin}${path}`, protocol: url.protocol, hostname: url.hostname.toLowerCase() };
}

/**
 * How the server talks to the mail relay.
 *  - `smtps://` implicit TLS (port 465 by default);
 *  - `smtp://` STARTTLS, REQUIRED: a relay that does not offer it is not sent to (port 587 by default);
 *  - `smtp://...?tls=none` plain text, which the rules allow only to a loopback relay (a local postfix, a test sink).
 */
export interface SmtpTarget {
  readonly url: string;
  readonly tls: 'implicit' | 'starttls' | 'none';
  readonly host: string;
  readonly port: number;
  readonly user?: string;
  readonly password?: string;
}

export function parseSmtpUrl(raw: string): SmtpTarget {
  const hint = 'must look like smtps://user:password@mail.example.com:465 or smtp://user:password@mail.example.com:587';
  const value = raw.trim();
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ParseError(hint);
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') throw new ParseError(hint);
  if (!url.hostname) throw new ParseError(`${hint} (no host)`);
  if (url.pathname && url.pathname !== '/') throw new ParseError(`${hint} (no path)`);
  if (url.hash) throw new ParseError(`${hint} (no fragment)`);
  let tls: SmtpTarget['tls'] = url.protocol === 'smtps:' ? 'implicit' : 'starttls';
  for (const [key, option] of url.searchParams) {
    if (key !== 'tls') throw new ParseError(`${hint}; the only option is ?tls=none (plain text, loopback only)`);
    if (option !== 'none' || url.protocol !== 'smtp:') {
      throw new ParseError(`${hint}; ?tls=none is the only value, and only with smtp://`);
    }
    tls = 'none';
  }
  const port = url.port ? Number(url.port) : tls === 'implicit' ? 465 : tls === 'starttls' ? 587 : 25;
  // The URL parser stops at 65535 but lets 0 through, which no relay listens on.
  if (port === 0) throw new ParseError(`${hint} (its port must be from 1 to 65535)`);
  const decode = (part: string) => {
    try {
      return decodeURIComponent(part);
    } catch {
      throw new ParseError(`${hint} (the user or password is not valid percent-encoding)`);
    }
  };
  return {
    url: value,
    tls,
    host: url.hostname.replace(/^\[|\]$/g, '').toLowerCase(),
    port,
    ...(url.username ? { user: decode(url.username) } : {}),
    ...(url.password ? { password: decode(url.password) } : {}),
  };
}

/** A host this machine answers for: localhost and its subdomains, 127.0.0.0/8, ::1 (brackets allowed). */
export function isLoopbackHost(host: string): boolean {
  const name = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  if (isIP(name) === 4) return name.startsWith('127.');
  return name === '::1';
}

/**
 * A mail relay that plain-text SMTP may go to: a loopback address, or the name localhost itself. Narrower than
 * isLoopbackHost: browsers map every `*.localhost` name to loopback themselves (so a PUBLIC_URL may use one), but the
 * server resolves the relay's name itself (nodemailer asks the DNS server, then /etc/hosts), and only `localhost` is
 * in every /etc/hosts; another `*.localhost` name is loopback only where the DNS server follows RFC 6761.
 */
export function isLoopbackRelay(host: string): boolean {
  const name = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (name === 'localhost') return true;
  if (isIP(name) === 4) return name.startsWith('127.');
  return name === '::1';
}

/** `Name <address>` or a bare address; the display name is plain text (no quotes, brackets or line breaks). */
export interface Mailbox {
  readonly name?: string;
  readonly address: string;
}

const ADDRESS = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/;
const DISPLAY_NAME = /^[^"<>\\\p{Cc}]{1,78}$/u;

export function parseMailbox(raw: string): Mailbox {
  const hint = 'must be an email address, optionally with a name: Ironclad Tasks <no-reply@tasks.example.com>';
  const value = raw.trim();
  // Not repeated after the message: a line break in the echo would split the refusal into lines of its own.
  if (/\p{Cc}/u.test(value)) throw new ParseError(`${hint} (no control characters)`, { echo: false });
  const open = value.lastIndexOf('<');
  if (open < 0) {
    if (!ADDRESS.test(value)) throw new ParseError(hint);
    return { address: value };
  }
  if (!value.endsWith('>')) throw new ParseError(hint);
  const name = value.slice(0, open).trim();
  const address = value.slice(open + 1, -1).trim();
  if (!ADDRESS.test(address) || (name !== '' && !DISPLAY_NAME.test(name))) throw new ParseError(hint);
  return name === '' ? { address } : { name, address };
}
