/**
 * The security rules for settings: the one table both the loader and the deploy auditor read. Each rule has a stable
 * ID (the auditor reports it as is, and its CHECKS registry and docs/audit.md are derived from this table), a
 * severity (how the auditor ranks it), an effect (what the server does at start), the settings it concerns, a check
 * and a fix. A check is a pure function over values that are already parsed (schema.ts) and over the database
 * description parsed once from DATABASE_URL or the POSTGRES_* parts (database.ts); it returns the messages to report,
 * each naming its setting and never holding a secret's value.
 *
 * The loader refuses to start over `refuse` rules always, over `refuse-unless-debug` rules unless DEBUG is on (then
 * they are warnings), logs `warn` rules as warnings, and does nothing about `audit` rules, which are advice for a
 * production deployment that the server cannot judge from where it stands (development uses the same settings).
 * The auditor judges everything as production: it reports every rule that fires, whatever DEBUG says.
 */

import { isIP } from 'node:net';
import type { DatabaseTarget } from './database.js';
import { isLoopbackHost, isLoopbackRelay } from './email.js';
import { createHostMatcher, hostPatternProblem } from './hosts.js';
import { isLocalOrigin, originProblem } from './origins.js';
import type { SettingName, SettingValues } from './schema.js';
import { isPlaceholderPassword, secretKeyWeakness } from './secrets.js';

export const SEVERITIES = ['info', 'warning', 'error', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const EFFECTS = ['refuse', 'refuse-unless-debug', 'warn', 'audit'] as const;
/** What the server does at start when the rule fires (see the file comment). */
export type Effect = (typeof EFFECTS)[number];

/** What a check sees: the parsed settings and the database they describe. */
export interface RuleInput {
  readonly values: SettingValues;
  readonly database: DatabaseTarget;
}

export interface Rule<Id extends string = string> {
  readonly id: Id;
  readonly severity: Severity;
  readonly effect: Effect;
  /**
   * The settings the rule reads; the first is where its findings are located (for the auditor's `ID@SETTING`
   * silencing). A rule is not evaluated when one of them could not be parsed: that is already a refusal.
   */
  readonly settings: readonly [SettingName, ...SettingName[]];
  /** What triggers it, one sentence for the docs (docs/audit.md, docs/configuration.md). */
  readonly trigger: string;
  readonly fix: string;
  /** Messages for what is wrong, or undefined / [] when nothing is. Pure; never a secret's value. */
  readonly check: (input: RuleInput) => readonly string[] | undefined;
}

// Keeps each rule's literal ID, so that RuleId is the union of them.
function rule<const Id extends string>(definition: Rule<Id>): Rule<Id> {
  return definition;
}

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** The whitespace in a key, named by kind (never the key itself). */
function whitespaceIn(key: string): string | undefined {
  const kinds: string[] = [];
  if (/[\n\r\u2028\u2029\v\f]/.test(key)) kinds.push('line break');
  if (/\t/.test(key)) kinds.push('tab');
  if (/ /.test(key)) kinds.push('space');
  if (/[^\S\n\r\u2028\u2029\v\f\t ]/.test(key)) kinds.push('other whitespace');
  return kinds.length > 0 ? kinds.join(', ') : undefined;
}

const WHITESPACE_ADVICE =
  'a key is one word of visible characters, so something else was captured or pasted with it; use exactly the one line `npm run --silent secret` prints';

/** In the order the loader reports them (its messages are compared verbatim by the tests and the start-up log). */
export const RULES = [
  rule({
    id: 'config.debug',
    severity: 'critical',
    // DEBUG is how development is chosen, so the server starts, and says so; in production it is critical.
    effect: 'warn',
    settings: ['DEBUG'],
    trigger: '`DEBUG` is on: production refusals become warnings and 500 answers carry error detail.',
    fix: 'Set DEBUG=false (or remove it) on every server others can reach.',
    check: ({ values }) =>
      values.DEBUG ? ['DEBUG is on: production refusals are only warnings and 500 answers carry detail'] : undefined,
  }),

  // --- Hosts ---
  rule({
    id: 'config.allowed-hosts.empty',
    severity: 'error',
    effect: 'refuse',
    settings: ['ALLOWED_HOSTS'],
    trigger: '`ALLOWED_HOSTS` lists no host, so every request is refused.',
    fix: 'List your domains: ALLOWED_HOSTS=tasks.example.com',
    check: ({ values }) =>
      values.ALLOWED_HOSTS.length === 0 ? ['ALLOWED_HOSTS: lists no host, so every request would be refused'] : [],
  }),
  rule({
    id: 'config.allowed-hosts.invalid',
    severity: 'error',
    effect: 'refuse',
    settings: ['ALLOWED_HOSTS'],
    trigger:
      'An `ALLOWED_HOSTS` entry is not a host name, `.domain` pattern or bracketed IPv6 address (it has a port, a scheme or bad grammar).',
    fix: 'List host names only, without scheme or port: ALLOWED_HOSTS=tasks.example.com,.example.org',
    check: ({ values }) =>
      values.ALLOWED_HOSTS.flatMap((host) => {
        const problem = hostPatternProblem(host);
        return problem ? [`ALLOWED_HOSTS: ${problem}`] : [];
      }),
  }),
  rule({
    id: 'config.allowed-hosts.wildcard',
    severity: 'critical',
    effect: 'refuse-unless-debug',
    settings: ['ALLOWED_HOSTS'],
    trigger: '`ALLOWED_HOSTS` contains `*`, so any Host header is accepted (Host header attacks, cache poisoning).',
    fix: 'List your domains: ALLOWED_HOSTS=tasks.example.com',
    check: ({ values }) =>
      values.ALLOWED_HOSTS.includes('*')
        ? ['ALLOWED_HOSTS: contains "*", which accepts any Host header; list your domains']
        : [],
  }),
  rule({
    id: 'config.allowed-hosts.domain',
    severity: 'error',
    effect: 'refuse',
    settings: ['ALLOWED_HOSTS', 'DOMAIN'],
    trigger:
      '`DOMAIN` (the host name nginx serves) is not allowed by `ALLOWED_HOSTS`, so every request through nginx would be refused.',
    fix: 'Add DOMAIN to ALLOWED_HOSTS (or a .parent-domain pattern that covers it).',
    // Behind nginx every request carries Host: DOMAIN; a list that does not allow it would refuse them all.
    check: ({ values }) =>
      values.DOMAIN !== undefined && !createHostMatcher(values.ALLOWED_HOSTS)(values.DOMAIN)
        ? [`ALLOWED_HOSTS: does not allow DOMAIN (${values.DOMAIN}), so every request through nginx would be refused`]
        : [],
  }),
  rule({
    id: 'config.allowed-hosts.local-only',
    severity: 'info',
    // The default, and right for development and for a server reached only through a local proxy.
    effect: 'audit',
    settings: ['ALLOWED_HOSTS'],
    trigger: '`ALLOWED_HOSTS` names only localhost and loopback addresses: a public domain would be refused.',
    fix: 'Add the public domain the proxy forwards, e.g. ALLOWED_HOSTS=tasks.example.com',
    check: ({ values }) => {
      const hosts = values.ALLOWED_HOSTS;
      const local = hosts.length > 0 && hosts.every((host) => LOCAL_HOSTS.has(host.toLowerCase().replace(/\.$/, '')));
      return local
        ? ['ALLOWED_HOSTS: names only localhost and loopback addresses, so a public domain would be refused']
        : [];
    },
  }),

  // --- Origins: never a wildcard, whatever the mode ---
  rule({
    id: 'config.cors.wildcard',
    severity: 'critical',
    effect: 'refuse',
    settings: ['CORS_ALLOWED_ORIGINS'],
    trigger: '`CORS_ALLOWED_ORIGINS` contains `*`: every website could call the API.',
    fix: 'List exact origins: CORS_ALLOWED_ORIGINS=https://tasks.example.com (or leave it empty).',
    check: ({ values }) =>
      values.CORS_ALLOWED_ORIGINS.filter((origin) => origin === '*').map(
        (origin) => `CORS_ALLOWED_ORIGINS: ${originProblem(origin)}`,
      ),
  }),
  rule({
    id: 'config.cors.null',
    severity: 'critical',
    effect: 'refuse',
    settings: ['CORS_ALLOWED_ORIGINS'],
    trigger: '`CORS_ALLOWED_ORIGINS` contains `null`, the origin any sandboxed frame or local file can claim.',
    fix: 'Remove `null`; list exact https origins only.',
    check: ({ values }) =>
      values.CORS_ALLOWED_ORIGINS.filter((origin) => origin.toLowerCase() === 'null').map(
        (origin) => `CORS_ALLOWED_ORIGINS: ${originProblem(origin)}`,
      ),
  }),
  rule({
    id: 'config.cors.malformed',
    severity: 'error',
    effect: 'refuse',
    settings: ['CORS_ALLOWED_ORIGINS'],
    trigger: 'A `CORS_ALLOWED_ORIGINS` entry is not an exact `scheme://host[:port]` http(s) origin.',
    fix: 'Write each origin as scheme://host[:port] with no path or trailing slash.',
    check: ({ values }) =>
      values.CORS_ALLOWED_ORIGINS.filter((origin) => origin !== '*' && origin.toLowerCase() !== 'null').flatMap(
        (origin) => {
          const problem = originProblem(origin);
          return problem ? [`CORS_ALLOWED_ORIGINS: ${problem}`] : [];
        },
      ),
  }),
  rule({
    id: 'config.cors.insecure-origin',
    severity: 'warning',
    effect: 'warn',
    settings: ['CORS_ALLOWED_ORIGINS'],
    trigger: 'A `CORS_ALLOWED_ORIGINS` entry is a plain-HTTP origin that is not localhost.',
    fix: 'Use the https:// origin of the page.',
    check: ({ values }) =>
      values.CORS_ALLOWED_ORIGINS.filter(
        (origin) => !originProblem(origin) && origin.startsWith('http:') && !isLocalOrigin(origin),
      ).map((origin) => `CORS_ALLOWED_ORIGINS: "${origin}" is not HTTPS`),
  }),
  rule({
    id: 'config.cors.local-origin',
    severity: 'info',
    // Normal in development (the Vite dev server's origin), a leftover in production.
    effect: 'audit',
    settings: ['CORS_ALLOWED_ORIGINS'],
    trigger: 'A `CORS_ALLOWED_ORIGINS` entry is a localhost origin, a development leftover in production.',
    fix: 'Remove localhost origins from the production configuration.',
    check: ({ values }) =>
      values.CORS_ALLOWED_ORIGINS.filter((origin) => !originProblem(origin) && isLocalOrigin(origin)).map(
        (origin) => `CORS_ALLOWED_ORIGINS: "${origin}" is a localhost origin, a development leftover in production`,
      ),
  }),

  // --- Database ---
  rule({
    id: 'config.database.embedded',
    severity: 'warning',
    // The zero-configuration start: right for one machine and for development.
    effect: 'audit',
    settings: ['DATABASE_URL', 'POSTGRES_DB', 'DATA_DIR'],
    trigger: 'No PostgreSQL is configured, so the embedded single-process database (PGlite) would be used.',
    fix: 'Set POSTGRES_DB (and POSTGRES_USER, POSTGRES_PASSWORD, DB_HOST) or DATABASE_URL.',
    check: ({ database }) =>
      database.kind === 'embedded'
        ? ['DATABASE_URL: neither it nor POSTGRES_DB is set, so the embedded single-process database would be used']
        : [],
  }),
  rule({
    id: 'config.database.password-placeholder',
    severity: 'critical',
    effect: 'refuse-unless-debug',
    settings: ['POSTGRES_PASSWORD', 'DATABASE_URL'],
    trigger:
      'The database password (`POSTGRES_PASSWORD`, or the one in `DATABASE_URL`) is a known placeholder (`password`, `your-db-password`, ...).',
    fix: 'Set a long random POSTGRES_PASSWORD (e.g. from `npm run secret`) in the database and the server.',
    check: ({ database }) =>
      database.kind === 'postgres' && database.password && isPlaceholderPassword(database.password)
        ? ['POSTGRES_PASSWORD: is a known placeholder value; set a strong password']
        : [],
  }),
  rule({
    id: 'config.database.password-equals-user',
    severity: 'critical',
    effect: 'refuse-unless-debug',
    settings: ['POSTGRES_PASSWORD', 'POSTGRES_USER', 'DATABASE_URL'],
    trigger: 'The database password equals the database user name.',
    fix: 'Set a long random POSTGRES_PASSWORD.',
    check: ({ database }) =>
      database.kind === 'postgres' &&
      database.password &&
      !isPlaceholderPassword(database.password) &&
      database.password === database.user
        ? ['POSTGRES_PASSWORD: equals the user name; set a strong password']
        : [],
  }),
  rule({
    id: 'config.database.password-empty',
    severity: 'warning',
    // Legitimate where the database trusts its network (a socket, pg_hba trust on a private network); the server
    // cannot tell, so it does not act.
    effect: 'audit',
    settings: ['POSTGRES_PASSWORD', 'DATABASE_URL'],
    trigger: 'PostgreSQL is configured without a password (the database must then trust its network).',
    fix: 'Set POSTGRES_PASSWORD (or POSTGRES_PASSWORD_FILE) and require password authentication.',
    check: ({ database }) =>
      database.kind === 'postgres' && !database.password
        ? [
            `POSTGRES_PASSWORD: no database password is set${database.from === 'DATABASE_URL' ? ' (DATABASE_URL holds none)' : ''}, so the database must trust every client on its network`,
          ]
        : [],
  }),

  // --- Signing keys ---
  rule({
    id: 'config.secret-key.missing',
    severity: 'error',
    effect: 'refuse',
    settings: ['SECRET_KEY'],
    trigger:
      'PostgreSQL is configured without a `SECRET_KEY` (only the embedded database generates and keeps its own).',
    fix: 'Generate a key with `npm run secret` and give it as SECRET_KEY or SECRET_KEY_FILE.',
    check: ({ values, database }) =>
      database.kind === 'postgres' && values.SECRET_KEY === undefined
        ? ['SECRET_KEY: is not set; it is required with PostgreSQL (make one with `npm run secret`)']
        : [],
  }),
  rule({
    id: 'config.secret-key.whitespace',
    severity: 'error',
    // A key with a space, tab or line break was pasted or captured with something else (build output, a second
    // line); one process may read it trimmed and another not. Never right, DEBUG or not.
    effect: 'refuse',
    settings: ['SECRET_KEY'],
    trigger:
      "`SECRET_KEY` contains whitespace: a space, tab or line break (e.g. npm's own lines, captured by `$(npm run secret)` without `--silent`). One trailing newline of a `_FILE` is stripped first.",
    fix: 'Set SECRET_KEY to the one line `npm run --silent secret` prints, and nothing else.',
    check: ({ values }) => {
      const kinds = values.SECRET_KEY === undefined ? undefined : whitespaceIn(values.SECRET_KEY);
      return kinds ? [`SECRET_KEY: contains whitespace (${kinds}); ${WHITESPACE_ADVICE}`] : [];
    },
  }),
  rule({
    id: 'config.secret-key.weak',
    severity: 'critical',
    effect: 'refuse-unless-debug',
    settings: ['SECRET_KEY'],
    trigger: '`SECRET_KEY` is a placeholder, shorter than 50 characters or has fewer than 5 distinct characters.',
    fix: 'Generate a key with `npm run secret` and give it as SECRET_KEY or SECRET_KEY_FILE.',
    check: ({ values }) => {
      const weakness = values.SECRET_KEY === undefined ? undefined : secretKeyWeakness(values.SECRET_KEY);
      return weakness ? [`SECRET_KEY: ${weakness}; make one with \`npm run secret\``] : [];
    },
  }),
  rule({
    id: 'config.secret-key-fallback.whitespace',
    severity: 'error',
    effect: 'refuse',
    settings: ['SECRET_KEY_FALLBACKS'],
    trigger:
      'An entry of `SECRET_KEY_FALLBACKS` contains whitespace inside it (spaces around the commas are separators and ignored).',
    fix: 'Give each previous key exactly as it was, comma-separated, with nothing captured around it.',
    check: ({ values }) =>
      (values.SECRET_KEY_FALLBACKS ?? []).flatMap((key, index) => {
        const kinds = whitespaceIn(key);
        return kinds
          ? [`SECRET_KEY_FALLBACKS: entry ${index + 1} contains whitespace (${kinds}); ${WHITESPACE_ADVICE}`]
          : [];
      }),
  }),
  rule({
    id: 'config.secret-key-fallback.weak',
    severity: 'critical',
    effect: 'refuse-unless-debug',
    settings: ['SECRET_KEY_FALLBACKS'],
    trigger: 'An entry of `SECRET_KEY_FALLBACKS` is weak by the same rules as `SECRET_KEY`.',
    fix: 'Drop the weak entry; tokens signed under it stop working, which is the point.',
    check: ({ values }) =>
      (values.SECRET_KEY_FALLBACKS ?? []).flatMap((key, index) => {
        const weakness = secretKeyWeakness(key);
        return weakness ? [`SECRET_KEY_FALLBACKS: entry ${index + 1} ${weakness}`] : [];
      }),
  }),
  rule({
    id: 'config.secret-key-fallback.same-as-key',
    severity: 'info',
    // Harmless (the current key is always accepted), only untidy.
    effect: 'audit',
    settings: ['SECRET_KEY_FALLBACKS', 'SECRET_KEY'],
    trigger: 'An entry of `SECRET_KEY_FALLBACKS` equals `SECRET_KEY`.',
    fix: 'Remove it from SECRET_KEY_FALLBACKS; the current key is always accepted.',
    check: ({ values }) =>
      (values.SECRET_KEY_FALLBACKS ?? []).flatMap((key, index) =>
        key === values.SECRET_KEY && !secretKeyWeakness(key)
          ? [`SECRET_KEY_FALLBACKS: entry ${index + 1} is the current SECRET_KEY`]
          : [],
      ),
  }),

  // --- Processes ---
  rule({
    id: 'config.web-concurrency.embedded',
    severity: 'error',
    effect: 'refuse',
    settings: ['WEB_CONCURRENCY'],
    trigger: '`WEB_CONCURRENCY` is above 1 with the embedded database, which only one process may open.',
    fix: 'Use PostgreSQL to run several processes, or set WEB_CONCURRENCY=1.',
    check: ({ values, database }) =>
      values.WEB_CONCURRENCY > 1 && database.kind === 'embedded'
        ? [
            'WEB_CONCURRENCY: must be 1 with the embedded database, which only one process may open; use PostgreSQL to run several',
          ]
        : [],
  }),

  // --- Proxy ---
  rule({
    id: 'config.trust-proxy.any',
    severity: 'warning',
    // One decision for `true` and a hop count. A hop count trusts the first n senders by position, not by address
    // (app.ts: `hop < n`), so the one that connects is always believed: for a client that reaches the server directly
    // it is the same as `true`. Both start with a warning, not a refusal (a deployment where nothing but the proxy
    // can reach the server is sound, and the server cannot see that), and the auditor reports both as this ID.
    effect: 'warn',
    settings: ['TRUST_PROXY'],
    trigger:
      '`TRUST_PROXY` is `true` or a hop count: forwarded headers are believed by position, from whoever connects, not from a named proxy; a client that reaches the server directly can forge its address, scheme and host.',
    fix: "List the proxy's exact addresses: TRUST_PROXY=10.89.0.2 (nginx in docker-compose.yml) or 127.0.0.1.",
    check: ({ values }) => {
      const trust = values.TRUST_PROXY;
      if (trust === true) {
        return ['TRUST_PROXY: is true, so any client can forge its address; list the proxy addresses instead'];
      }
      if (typeof trust === 'number') {
        return [
          `TRUST_PROXY: is a hop count (${trust}), which trusts whoever connects, so any client that reaches the server directly can forge its address; list the proxy addresses instead`,
        ];
      }
      return [];
    },
  }),
  rule({
    id: 'config.cookies.not-secure',
    severity: 'warning',
    // The default, right without a proxy (development, a plain-HTTP test); the server cannot tell a proxy is in front.
    effect: 'audit',
    settings: ['TRUST_PROXY'],
    trigger:
      '`TRUST_PROXY` is off: behind the TLS-terminating proxy every request looks like plain HTTP, so the session cookie is sent without `Secure` (it is always `HttpOnly` and `SameSite=Strict`).',
    fix: "Set TRUST_PROXY to the proxy's address (10.89.0.2 for nginx in docker-compose.yml, 127.0.0.1 for a proxy on the same machine).",
    check: ({ values }) =>
      values.TRUST_PROXY === false
        ? [
            'TRUST_PROXY: is off, so behind an HTTPS proxy every request looks like plain HTTP and the session cookie would be sent without Secure',
          ]
        : [],
  }),
  rule({
    id: 'config.trust-proxy.range',
    severity: 'warning',
    // A range is sound only when every host in it is a proxy, which the server cannot see from where it stands; and
    // development behind a local proxy uses the same settings. So: advice for production, reported by the auditor.
    effect: 'audit',
    settings: ['TRUST_PROXY'],
    trigger:
      '`TRUST_PROXY` names a range (`uniquelocal`, `linklocal`, `loopback` or a CIDR wider than one address) rather than the proxy: any host in it that can reach the server (another container on the network, another local process) can forge its client address and escape the per-address rate limits.',
    fix: "List the proxy's exact addresses: TRUST_PROXY=10.89.0.2 (nginx's fixed address in docker-compose.yml), or 127.0.0.1 for a proxy on the same machine.",
    check: ({ values }) => {
      const trust = values.TRUST_PROXY;
      if (!Array.isArray(trust)) return [];
      const ranges = trust.filter((entry) => {
        const [address, prefix] = entry.split('/');
        if (prefix === undefined) return isIP(address ?? '') === 0;
        return Number(prefix) < (isIP(address ?? '') === 6 ? 128 : 32);
      });
      return ranges.length > 0
        ? [
            `TRUST_PROXY: ${ranges.join(', ')} trusts every host in a range, so any of them that can reach the server can forge its client address; list the proxy's exact addresses instead`,
          ]
        : [];
    },
  }),
  // --- Email: links never come from the request, mail never travels in clear ---
  rule({
    id: 'config.email.public-url-missing',
    severity: 'error',
    effect: 'refuse-unless-debug',
    settings: ['PUBLIC_URL', 'SMTP_URL'],
    trigger:
      '`SMTP_URL` is set but `PUBLIC_URL` is not, so the links in password-reset emails would have no trustworthy origin.',
    fix: 'Set PUBLIC_URL to the address people open the app at: PUBLIC_URL=https://tasks.example.com',
    check: ({ values }) =>
      values.SMTP_URL !== undefined && values.PUBLIC_URL === undefined
        ? ['PUBLIC_URL: is not set while SMTP_URL is, so reset links would have no trustworthy origin']
        : [],
  }),
  rule({
    id: 'config.email.public-url-host',
    severity: 'critical',
    effect: 'refuse-unless-debug',
    settings: ['PUBLIC_URL', 'ALLOWED_HOSTS'],
    trigger:
      "`PUBLIC_URL`'s host is not allowed by `ALLOWED_HOSTS`, so the links in emails would send people to a host this server refuses, or to someone else's.",
    fix: 'Make PUBLIC_URL the public address (https://tasks.example.com) and list its host in ALLOWED_HOSTS.',
    check: ({ values }) =>
      values.PUBLIC_URL !== undefined && !createHostMatcher(values.ALLOWED_HOSTS)(values.PUBLIC_URL.hostname)
        ? [`PUBLIC_URL: its host (${values.PUBLIC_URL.hostname}) is not allowed by ALLOWED_HOSTS`]
        : [],
  }),
  rule({
    id: 'config.email.public-url-http',
    severity: 'error',
    effect: 'refuse-unless-debug',
    settings: ['PUBLIC_URL'],
    trigger:
      '`PUBLIC_URL` is plain `http://` on a host other than localhost: reset links would carry their token over an unencrypted connection.',
    fix: 'Use the https:// address: PUBLIC_URL=https://tasks.example.com',
    check: ({ values }) =>
      values.PUBLIC_URL !== undefined &&
      values.PUBLIC_URL.protocol === 'http:' &&
      !isLoopbackHost(values.PUBLIC_URL.hostname)
        ? [`PUBLIC_URL: is plain http on ${values.PUBLIC_URL.hostname}; reset links would travel unencrypted`]
        : [],
  }),
  rule({
    id: 'config.email.smtp-plaintext',
    severity: 'critical',
    effect: 'refuse-unless-debug',
    settings: ['SMTP_URL'],
    trigger:
      '`SMTP_URL` asks for plain-text SMTP (`?tls=none`) to a relay that is not on loopback: the relay password and every reset link would cross the network in clear.',
    fix: 'Use smtps://host:465 (implicit TLS) or smtp://host:587 (STARTTLS, required); keep ?tls=none for a relay on 127.0.0.1.',
    check: ({ values }) =>
      values.SMTP_URL !== undefined && values.SMTP_URL.tls === 'none' && !isLoopbackRelay(values.SMTP_URL.host)
        ? [
            `SMTP_URL: sends in plain text (?tls=none) to ${values.SMTP_URL.host}, which is not loopback; the password and reset links would travel in clear`,
          ]
        : [],
  }),
  rule({
    id: 'config.email.disabled',
    severity: 'warning',
    // The zero-configuration start writes emails to files for the developer; the server says so at start, and in
    // production the auditor reports it.
    effect: 'audit',
    settings: ['SMTP_URL'],
    trigger:
      '`SMTP_URL` is not set: no email reaches anyone, so people who forget their password cannot reset it (emails are written to files in `DATA_DIR/outbox/`).',
    fix: 'Set SMTP_URL to your mail relay (smtps://user:password@smtp.example.com:465) and PUBLIC_URL to the public address.',
    check: ({ values }) =>
      values.SMTP_URL === undefined
        ? ['SMTP_URL: is not set, so no email reaches anyone and password reset by email is disabled']
        : [],
  }),
] as const;

export type RuleId = (typeof RULES)[number]['id'];

/**
 * A variable that could not be read or parsed: the loader refuses to start, whatever DEBUG says, and no rule judges
 * that setting. The auditor reports each as this ID, located at the variable the loader names.
 */
export const PARSE_PROBLEM = {
  id: 'config.refused',
  severity: 'error',
  trigger:
    "A variable could not be read or parsed (a malformed number, duration or URL, an unreadable `_FILE`, `NAME` and `NAME_FILE` both set, the seed's `CORS_ALLOW_ALL_ORIGINS`), so the server would refuse to start; the message says which and why.",
  fix: 'Correct the variable named in the message; `node server/dist/cli.js check-config` shows the same refusal.',
} as const satisfies { id: string; severity: Severity; trigger: string; fix: string };

export interface ParseProblem {
  /** The variable as written in the environment (`PORT`, `SECRET_KEY_FILE`, `CORS_ALLOW_ALL_ORIGINS`). */
  readonly setting: string;
  /** The loader's message, which starts with that variable's name. */
  readonly message: string;
}

/** What the loader did about a finding. */
export type Outcome = 'refused' | 'warned' | 'reported';

export interface RuleFinding {
  readonly id: RuleId;
  readonly setting: SettingName;
  readonly message: string;
  readonly severity: Severity;
  readonly effect: Effect;
  readonly outcome: Outcome;
}

export function outcomeOf(effect: Effect, debug: boolean): Outcome {
  switch (effect) {
    case 'refuse':
      return 'refused';
    case 'refuse-unless-debug':
      return debug ? 'warned' : 'refused';
    case 'warn':
      return 'warned';
    case 'audit':
      return 'reported';
  }
}

/**
 * Runs every rule, in table order, over parsed settings. `unparsed` names the settings whose value could not be
 * parsed: rules reading one of them are skipped (their parse problem is the finding).
 */
export function evaluateRules(
  input: RuleInput,
  options: { debug: boolean; unparsed?: ReadonlySet<string> },
): RuleFinding[] {
  const findings: RuleFinding[] = [];
  for (const current of RULES as readonly Rule<RuleId>[]) {
    if (current.settings.some((name) => options.unparsed?.has(name))) continue;
    for (const message of current.check(input) ?? []) {
      findings.push({
        id: current.id,
        setting: current.settings[0],
        message,
        severity: current.severity,
        effect: current.effect,
        outcome: outcomeOf(current.effect, options.debug),
      });
    }
  }
  return findings;
}
