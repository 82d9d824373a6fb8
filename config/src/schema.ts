/**
 * The one list of settings. The loader, docs/configuration.md, the README
 * table and .env.example are all derived from this object; a test fails
 * when the committed files drift from it.
 */
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { parsePostgresUrl } from './database.js';
import { parseMailbox, parsePublicUrl, parseSmtpUrl } from './email.js';
import {
  csv,
  type Group,
  ParseError,
  parseBoolean,
  parseDuration,
  parseEnum,
  parseInteger,
  parseRateLimit,
  parseText,
  type Setting,
} from './types.js';

export type TrustProxy = false | true | number | string[];

const PROXY_KEYWORDS = ['loopback', 'linklocal', 'uniquelocal'];

function parseTrustProxy(raw: string): TrustProxy {
  const value = raw.trim().toLowerCase();
  if (['false', '0', 'no', 'off'].includes(value)) return false;
  if (['true', 'yes', 'on'].includes(value)) return true;
  if (/^[0-9]+$/.test(value)) return Number(value);
  const entries = csv(value);
  for (const entry of entries) {
    const [address, prefix, ...rest] = entry.split('/');
    const family = isIP(address ?? '');
    const prefixOk =
      prefix === undefined || (/^[0-9]{1,3}$/.test(prefix) && Number(prefix) <= (family === 6 ? 128 : 32));
    if (PROXY_KEYWORDS.includes(entry)) continue;
    if (family === 0 || !prefixOk || rest.length > 0) {
      throw new ParseError(
        'must be false, true, a number of proxy hops, or a comma-separated list of proxy addresses/CIDRs (or loopback, linklocal, uniquelocal)',
      );
    }
  }
  return entries;
}

/** A host name as nginx's server_name takes it: no scheme, port, path or wildcard. */
function parseDomain(raw: string): string {
  const value = raw.trim().toLowerCase();
  if (!/^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/.test(value)) {
    throw new ParseError('must be a host name such as tasks.example.com (no scheme, port, path or wildcard)');
  }
  return value;
}

// Keeps each definition's literal shape, so the types below know which settings have a default.
// biome-ignore lint/suspicious/noExplicitAny: the parse result type is inferred per setting
function setting<const D extends Setting<any>>(definition: D): D {
  return definition;
}

export const settings = {
  DEBUG: setting({
    group: 'Core',
    doc: 'Development mode. Turns the production refusals below into warnings and adds error detail to 500 answers. Never enable it on a server others can reach.',
    default: 'false',
    parse: parseBoolean,
  }),
  SECRET_KEY: setting({
    group: 'Core',
    doc: 'Key for the keyed hash (HMAC-SHA256) under which session tokens are stored. At least 50 characters with 5 or more distinct ones, and no whitespace; make one with `npm run secret`. Required with PostgreSQL; with the embedded database a key is generated once into `DATA_DIR` when unset.',
    example: '',
    secret: true,
    file: true,
    parse: parseText,
  }),
  SECRET_KEY_FALLBACKS: setting({
    group: 'Core',
    doc: 'Comma-separated previous keys, still accepted for tokens issued under them, so that rotating `SECRET_KEY` logs nobody out. Remove them once `TOKEN_TTL` has passed.',
    example: '',
    secret: true,
    file: true,
    parse: csv,
  }),
  ALLOWED_HOSTS: setting({
    group: 'Core',
    doc: 'Comma-separated host names this server answers for (the `Host` header; port ignored, case-insensitive). `.example.com` matches the domain and every subdomain. Any other Host gets 400. `*` is refused unless `DEBUG` is on.',
    default: 'localhost,127.0.0.1,[::1]',
    example: 'tasks.example.com',
    parse: (raw: string) => csv(raw),
  }),
  CORS_ALLOWED_ORIGINS: setting({
    group: 'Core',
    doc: 'Comma-separated exact origins (`scheme://host[:port]`) whose pages may call the API from a browser, with credentials. Empty: no cross-origin access (same-origin pages need none). `*`, `null` and anything that is not an exact origin are refused in every mode.',
    default: '',
    example: 'https://tasks.example.com',
    parse: (raw: string) => csv(raw),
  }),

  DATABASE_URL: setting({
    group: 'Database',
    doc: 'PostgreSQL connection URL (`postgres://user:password@host:5432/db`, `?sslmode=` honoured). Takes precedence over the `POSTGRES_*`/`DB_*` variables. With neither this nor `POSTGRES_DB` set, the embedded database is used.',
    secret: true,
    file: true,
    exampleCommented: true,
    example: 'postgres://tasks:change-me@localhost:5432/tasks',
    // Parsed here, once, into its parts (database.ts); the loader, the rules and the auditor read those.
    parse: parsePostgresUrl,
  }),
  POSTGRES_DB: setting({
    group: 'Database',
    doc: 'PostgreSQL database name. Setting it selects PostgreSQL instead of the embedded database. Same name as the official postgres image uses, so one `.env` serves both containers.',
    example: 'tasks',
    file: true,
    parse: parseText,
  }),
  POSTGRES_USER: setting({
    group: 'Database',
    doc: 'PostgreSQL user.',
    default: 'postgres',
    example: 'tasks',
    file: true,
    parse: parseText,
  }),
  POSTGRES_PASSWORD: setting({
    group: 'Database',
    doc: 'PostgreSQL password. Placeholders (`password`, `your-db-password`, ...) and a password equal to the user name are refused unless `DEBUG` is on.',
    example: '',
    secret: true,
    file: true,
    parse: parseText,
  }),
  DB_HOST: setting({
    group: 'Database',
    doc: 'PostgreSQL host (the compose service name in a container deployment).',
    default: 'localhost',
    example: 'db',
    parse: parseText,
  }),
  DB_PORT: setting({
    group: 'Database',
    doc: 'PostgreSQL port.',
    default: '5432',
    parse: parseInteger(1, 65535),
  }),
  DB_POOL_MAX: setting({
    group: 'Database',
    doc: 'Most PostgreSQL connections one server process keeps open.',
    default: '10',
    parse: parseInteger(1, 1000),
  }),
  DB_POOL_MODE: setting({
    group: 'Database',
    doc: 'How the server reaches PostgreSQL. `session`: directly, or through a pooler in session mode (PgBouncer `pool_mode = session`); each connection gets `SET statement_timeout` to `DB_QUERY_TIMEOUT`. `transaction`: through a pooler in transaction mode (PgBouncer, pgcat, Supavisor), where consecutive transactions may run on different server connections: no session setting and no named prepared statement is used, and the server-side statement timeout must come from the role (`ALTER ROLE … SET statement_timeout = \'5s\'`; the server warns at start when there is none). See docs/deployment.md, "Behind a connection pooler".',
    default: 'session',
    parse: parseEnum(['session', 'transaction'] as const),
  }),
  DB_CONNECT_TIMEOUT: setting({
    group: 'Database',
    doc: 'How long to wait for a database connection before answering 503.',
    default: '3s',
    parse: parseDuration(100, 60_000),
  }),
  DB_QUERY_TIMEOUT: setting({
    group: 'Database',
    doc: 'How long one database query may take before it is cancelled and the request answered 503.',
    default: '5s',
    parse: parseDuration(100, 300_000),
  }),
  DB_POOL_QUEUE_MAX: setting({
    group: 'Database',
    doc: 'Most requests that may wait for a free PostgreSQL connection; past it, requests are answered 503 at once instead of queueing without bound.',
    default: '200',
    parse: parseInteger(1, 100_000),
  }),
  DATA_DIR: setting({
    group: 'Database',
    doc: 'Directory of the embedded database and its generated key (created with owner-only permissions). Unused with PostgreSQL.',
    default: './data',
    parse: parseText,
  }),

  HOST: setting({
    group: 'HTTP',
    doc: 'Address to listen on. The default answers only this machine; in a container use `0.0.0.0` and publish no port (nginx is the front door).',
    default: '127.0.0.1',
    parse: (raw: string) => {
      const value = raw.trim();
      if (value !== 'localhost' && isIP(value) === 0) throw new ParseError('must be an IP address or localhost');
      return value;
    },
  }),
  PORT: setting({
    group: 'HTTP',
    doc: 'Port to listen on.',
    default: '8000',
    parse: parseInteger(0, 65535),
  }),
  REQUEST_BODY_TIMEOUT: setting({
    group: 'HTTP',
    doc: 'How long a client may take to send a request body once its headers are in; past it, 408 and the connection is closed (slow senders cannot hold connections).',
    default: '10s',
    parse: parseDuration(100, 300_000),
  }),
  WEB_CONCURRENCY: setting({
    group: 'HTTP',
    doc: 'Server processes to run (node:cluster, sharing one port). Each has its own pool of `DB_POOL_MAX` connections. PostgreSQL only: the embedded database belongs to one process.',
    default: '1',
    parse: parseInteger(1, 64),
  }),
  TRUST_PROXY: setting({
    group: 'HTTP',
    doc: 'Whether to believe `X-Forwarded-For`/`-Proto`/`-Host`: `false`, a comma-separated list of proxy addresses or CIDRs (`loopback`, `uniquelocal` allowed), a hop count, or `true` (a hop count, like `true`, believes whoever connects: only when nothing but the proxy can reach the server; the server warns about both).',
    default: 'false',
    parse: parseTrustProxy,
  }),
  PUBLIC_URL: setting({
    group: 'Email and accounts',
    doc: 'The address people open the app at (`https://tasks.example.com`, a path prefix allowed). Every link in every email is built from it, never from the request’s `Host` or `X-Forwarded-Host`. Its host must be allowed by `ALLOWED_HOSTS`, and it must be https unless it is localhost. Required with `SMTP_URL`; unset, development links point at `http://localhost:PORT`.',
    example: 'https://tasks.example.com',
    parse: parsePublicUrl,
  }),
  SMTP_URL: setting({
    group: 'Email and accounts',
    doc: 'The mail relay: `smtps://user:password@host:465` (implicit TLS) or `smtp://user:password@host:587` (STARTTLS, required: a relay that does not offer it gets nothing). `smtp://host:25?tls=none` sends in plain text and is accepted only to a relay on loopback (127.0.0.1, ::1 or `localhost`). Percent-encode special characters in the user and password. Unset: no email reaches anyone (password reset by email is disabled); emails are written as `.eml` files to `DATA_DIR/outbox/` for development.',
    example: 'smtps://tasks:change-me@smtp.example.com:465',
    exampleCommented: true,
    secret: true,
    file: true,
    parse: parseSmtpUrl,
  }),
  SMTP_CA_FILE: setting({
    group: 'Email and accounts',
    doc: 'A PEM file of certificate authorities to trust for the relay, in addition to the system ones (a private relay). The relay’s certificate is always verified.',
    exampleCommented: true,
    example: '/run/secrets/smtp-ca.pem',
    parse: parseText,
  }),
  EMAIL_FROM: setting({
    group: 'Email and accounts',
    doc: 'The sender of every email: an address, optionally with a name (`Ironclad Tasks <no-reply@tasks.example.com>`). Default: `Ironclad Tasks <no-reply@` the host of `PUBLIC_URL` (or localhost)`>`.',
    example: 'Ironclad Tasks <no-reply@tasks.example.com>',
    exampleCommented: true,
    parse: parseMailbox,
  }),
  PASSWORD_RESET_TTL: setting({
    group: 'Email and accounts',
    doc: 'How long a password-reset link works after its email is sent. A link also dies when it is used, when a newer one is sent, and when the password changes any other way.',
    default: '30m',
    parse: parseDuration(60_000, 86_400_000),
  }),
  RATE_LIMIT_PASSWORD_RESET: setting({
    group: 'Email and accounts',
    doc: 'Password-reset requests allowed per client IP per window.',
    default: '10/1h',
    parse: parseRateLimit,
  }),
  RATE_LIMIT_PASSWORD_RESET_EMAIL: setting({
    group: 'Email and accounts',
    doc: 'Password-reset requests allowed per email address per window, counted whether or not an account has the address (so a 429 tells nothing about which accounts exist, and nobody can flood an inbox).',
    default: '3/1h',
    parse: parseRateLimit,
  }),
  RATE_LIMIT_EXPORT: setting({
    group: 'Email and accounts',
    doc: 'Data exports (`GET /api/v1/users/export/`) allowed per account per window.',
    default: '10/1h',
    parse: parseRateLimit,
  }),
  ACTIVITY_RETENTION: setting({
    group: 'Email and accounts',
    doc: 'How long an account’s security events (sign-ins, failed sign-ins, password changes, resets, ended sessions, exports) are kept; the newest 1000 per account at most. Ended sessions are kept until they would have expired (`TOKEN_TTL`), so an ended browser can be told why.',
    default: '90d',
    parse: parseDuration(86_400_000, 3650 * 86_400_000),
  }),
  LOG_LEVEL: setting({
    group: 'Operations',
    doc: 'Least severe log level written (JSON lines on stdout).',
    default: 'info',
    parse: parseEnum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const),
  }),
  OVERLOAD_EVENT_LOOP_DELAY: setting({
    group: 'Operations',
    doc: 'When the event loop lags more than this, requests get a fast 503 with `Retry-After` instead of joining a growing queue (@fastify/under-pressure). `0` turns it off.',
    default: '1s',
    parse: parseDuration(0, 60_000),
  }),
  SHUTDOWN_DRAIN: setting({
    group: 'Operations',
    doc: 'On SIGTERM, how long the server keeps accepting and serving after `/readyz` turns 503, so a load balancer or Kubernetes stops sending before the listener closes (a closed listener resets what is still queued). SIGINT (Ctrl-C) skips it; a second signal cuts it short. `0` closes at once.',
    default: '5s',
    parse: parseDuration(0, 300_000),
  }),
  SHUTDOWN_TIMEOUT: setting({
    group: 'Operations',
    doc: 'Once the server stops accepting (after `SHUTDOWN_DRAIN`), how long in-flight requests may take to finish before the process exits 1 anyway.',
    default: '10s',
    parse: parseDuration(0, 300_000),
  }),

  PASSWORD_HASH_CONCURRENCY: setting({
    group: 'Sessions and rate limits',
    doc: 'Password hashes (argon2id, 19 MiB each) computed at once by one process; more wait their turn. `auto` is half the cores (at least 1), which keeps a login storm from starving every other request.',
    default: 'auto',
    parse: (raw: string) =>
      raw.trim().toLowerCase() === 'auto'
        ? Math.max(1, Math.floor(availableParallelism() / 2))
        : parseInteger(1, 64)(raw),
  }),
  PASSWORD_HASH_QUEUE_MAX: setting({
    group: 'Sessions and rate limits',
    doc: 'Signups and logins that may wait for a password hash; past it they get 503 with `Retry-After` at once.',
    default: '64',
    parse: parseInteger(1, 100_000),
  }),
  TOKEN_TTL: setting({
    group: 'Sessions and rate limits',
    doc: 'Lifetime of a session token from login or signup. After it the token is refused with 401.',
    default: '7d',
    parse: parseDuration(60_000, 365 * 86_400_000),
  }),
  RATE_LIMIT_SIGNUP: setting({
    group: 'Sessions and rate limits',
    doc: 'Signups allowed per client IP per window (`count/window`).',
    default: '10/1h',
    parse: parseRateLimit,
  }),
  RATE_LIMIT_LOGIN: setting({
    group: 'Sessions and rate limits',
    doc: 'Login attempts allowed per client IP per window.',
    default: '30/10m',
    parse: parseRateLimit,
  }),
  RATE_LIMIT_LOGIN_FAILURES: setting({
    group: 'Sessions and rate limits',
    doc: 'Wrong passwords allowed for one account from one client IP (or from one browser that signed in to it before) per window; past it that IP, or that browser, gets 429 for this account only. The owner elsewhere is not affected.',
    default: '5/15m',
    parse: parseRateLimit,
  }),
  RATE_LIMIT_LOGIN_ACCOUNT: setting({
    group: 'Sessions and rate limits',
    doc: 'Wrong passwords allowed for one account per window from all the clients it does not know (every IP together). Past it, only browsers that signed in to the account before (they hold its device cookie) may try; guesses spread over many addresses stay at this rate. See docs/security.md.',
    default: '50/1h',
    parse: parseRateLimit,
  }),
  RATE_LIMIT_READS: setting({
    group: 'Sessions and rate limits',
    doc: 'Authenticated reads (GET) allowed per account per window, all its tokens and all server processes together; past it 429 with `Retry-After`.',
    default: '1200/1m',
    parse: parseRateLimit,
  }),
  RATE_LIMIT_WRITES: setting({
    group: 'Sessions and rate limits',
    doc: 'Authenticated writes (POST, PUT, PATCH, DELETE) allowed per account per window, all its tokens and all server processes together; past it 429 with `Retry-After`.',
    default: '120/1m',
    parse: parseRateLimit,
  }),
  TASK_QUOTA: setting({
    group: 'Sessions and rate limits',
    doc: 'Tasks one account may hold. A create past it gets 409 `{"error": …, "limit": N}`; deleting tasks makes room. Exact across server processes.',
    default: '10000',
    parse: parseInteger(1, 10_000_000),
  }),
  RATE_LIMIT_STORE: setting({
    group: 'Sessions and rate limits',
    doc: 'Where rate-limit counters live: `auto` (PostgreSQL when the database is PostgreSQL, so every server process shares them; memory with the embedded database), `postgres` or `memory`.',
    default: 'auto',
    parse: parseEnum(['auto', 'postgres', 'memory'] as const),
  }),
  // Read by docker-compose.yml and the nginx image (docs/deployment.md), listed here so that .env.example and the
  // docs stay the one place an operator looks. The server itself only checks DOMAIN against ALLOWED_HOSTS.
  DOMAIN: setting({
    group: 'Deployment',
    doc: 'The public host name nginx serves (`docker compose` refuses to start without it). It must be allowed by `ALLOWED_HOSTS`; the server refuses to start when it is not.',
    example: 'tasks.example.com',
    parse: parseDomain,
  }),
  TLS_CERT: setting({
    group: 'Deployment',
    doc: "Certificate chain, as a path inside the nginx container. Default: Let's Encrypt's `/etc/letsencrypt/live/<DOMAIN>/fullchain.pem`.",
    example: '/etc/letsencrypt/live/tasks.example.com/fullchain.pem',
    exampleCommented: true,
    parse: parseText,
  }),
  TLS_KEY: setting({
    group: 'Deployment',
    doc: "The certificate's private key, as a path inside the nginx container. Default: `/etc/letsencrypt/live/<DOMAIN>/privkey.pem`.",
    example: '/etc/letsencrypt/live/tasks.example.com/privkey.pem',
    exampleCommented: true,
    parse: parseText,
  }),
  LETSENCRYPT_DIR: setting({
    group: 'Deployment',
    doc: 'Host directory mounted read-only into nginx at `/etc/letsencrypt`.',
    default: '/etc/letsencrypt',
    exampleCommented: true,
    parse: parseText,
  }),
  ACME_WEBROOT: setting({
    group: 'Deployment',
    doc: 'Host directory that `certbot --webroot` writes challenges into; nginx serves it at `/.well-known/acme-challenge/`.',
    default: '/var/www/certbot',
    exampleCommented: true,
    parse: parseText,
  }),
  HTTP_PUBLISH: setting({
    group: 'Deployment',
    doc: 'Host port published for HTTP (redirects to HTTPS and ACME challenges only).',
    default: '80',
    exampleCommented: true,
    parse: parseInteger(1, 65_535),
  }),
  HTTPS_PUBLISH: setting({
    group: 'Deployment',
    doc: 'Host port published for HTTPS.',
    default: '443',
    exampleCommented: true,
    parse: parseInteger(1, 65_535),
  }),
} satisfies Record<string, Setting<unknown>>;

export type SettingName = keyof typeof settings;
export const settingNames = Object.keys(settings) as SettingName[];

type Parsed<S> = S extends { parse: (raw: string) => infer T } ? T : never;

/** The parsed values; settings without a default may be undefined. */
export type SettingValues = {
  [K in SettingName]: (typeof settings)[K] extends { default: string }
    ? Parsed<(typeof settings)[K]>
    : Parsed<(typeof settings)[K]> | undefined;
};

export const groups: Group[] = [
  'Core',
  'Database',
  'HTTP',
  'Sessions and rate limits',
  'Email and accounts',
  'Operations',
  'Deployment',
];
