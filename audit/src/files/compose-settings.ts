/**
 * Judges a compose service's effective environment by the settings rules the server itself uses
 * (config/src/rules.ts, through the loader's non-refusing form `inspectConfig`), so "weak key", "wildcard host" and
 * "placeholder password" mean here exactly what they mean at start-up. Django and Node spellings are read as this
 * project's settings first (DJANGO_DEBUG and NODE_ENV=development as DEBUG, DJANGO_ALLOWED_HOSTS as ALLOWED_HOSTS,
 * CORS_ALLOW_ALL_ORIGINS as a `*` origin, JWT_SECRET as a signing key, DB_PASSWORD or a password inside a mysql://
 * URL as the database password).
 *
 * Only rules one of whose settings the compose setup itself set are reported (EnvEntry.owned, compose-env.ts), and
 * never the rules whose verdict rests on what the compose file does NOT say (a missing key, the embedded database,
 * DOMAIN or PUBLIC_URL against a default host list, PUBLIC_URL missing beside SMTP_URL): a service that sets nothing
 * is not a finding. Datastore services get only the database password rules. PUBLIC_URL and SMTP_URL are read only
 * in a deployment of this server (other applications give those names other meanings).
 */
import { randomBytes } from 'node:crypto';
import { inspectConfig } from '@ironclad/config/load';
import { originProblem } from '@ironclad/config/origins';
import { RULES, type RuleId } from '@ironclad/config/rules';
import { type SettingName, settingNames } from '@ironclad/config/schema';
import { MIN_SECRET_KEY_LENGTH, secretKeyWeakness } from '@ironclad/config/secrets';
import { type Finding, finding } from '../findings.js';
import type { EnvEntry } from './compose-env.js';

const SCHEMA_NAMES = new Set<string>(settingNames);

/** Rules whose verdict would rest on what the compose file leaves unset (defaults of a server it may not run). */
const NOT_FROM_COMPOSE = new Set<RuleId>([
  'config.database.embedded',
  'config.web-concurrency.embedded',
  'config.secret-key.missing',
  // PUBLIC_URL or SMTP_URL may be in the operator's .env, which the checkout does not hold.
  'config.email.public-url-missing',
  'config.email.disabled',
]);

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);

const DEBUG_NAMES = ['DEBUG', 'DJANGO_DEBUG', 'FLASK_DEBUG', 'APP_DEBUG'];
/** `NODE_ENV=development` (and Flask's old FLASK_ENV) is debug mode: stack traces in answers, dev middleware. */
const DEV_MODE_NAMES = ['NODE_ENV', 'FLASK_ENV'];
const HOSTS_NAMES = ['ALLOWED_HOSTS', 'DJANGO_ALLOWED_HOSTS'];
const CORS_ALL_NAMES = [
  'CORS_ALLOW_ALL_ORIGINS',
  'CORS_ORIGIN_ALLOW_ALL',
  'DJANGO_CORS_ALLOW_ALL_ORIGINS',
  'CORS_ALLOW_ALL',
];
const CORS_LIST_NAMES = [
  'CORS_ALLOWED_ORIGINS',
  'DJANGO_CORS_ALLOWED_ORIGINS',
  'CORS_ORIGINS',
  'CORS_ORIGIN',
  'CORS_ALLOW_ORIGIN',
  'CORS_ALLOWED_ORIGIN',
  'ALLOWED_ORIGINS',
  'CORS_ORIGIN_WHITELIST',
];
/** Signing keys judged like SECRET_KEY. Django's own check (security.W009) asks the same 50 characters. */
const DJANGO_KEYS = new Set(['SECRET_KEY', 'DJANGO_SECRET_KEY', 'FLASK_SECRET_KEY']);
/** HMAC keys of Node and other stacks: 32 random characters (256 bits) are enough for them, so length counts from 32. */
const HMAC_KEYS = new Set([
  'SESSION_SECRET',
  'COOKIE_SECRET',
  'JWT_SECRET',
  'JWT_SECRET_KEY',
  'JWT_ACCESS_SECRET',
  'JWT_REFRESH_SECRET',
  'ACCESS_TOKEN_SECRET',
  'REFRESH_TOKEN_SECRET',
  'TOKEN_SECRET',
  'APP_SECRET',
  'AUTH_SECRET',
  'NEXTAUTH_SECRET',
  'SECRET_KEY_BASE',
]);
const HMAC_MIN_LENGTH = 32;
/** Settings passed through under their own name (the compose file may run this very server). */
const NATIVE = [
  'DOMAIN',
  'TRUST_PROXY',
  'WEB_CONCURRENCY',
  'DATA_DIR',
  'SECRET_KEY',
  'SECRET_KEY_FALLBACKS',
  'POSTGRES_DB',
  'POSTGRES_USER',
  'POSTGRES_PASSWORD',
] as const satisfies readonly SettingName[];
/**
 * This server's own settings under names other applications use for other things (Create React App's PUBLIC_URL is a
 * path prefix, another mailer's SMTP_URL has its own options): read only in a deployment of Ironclad Tasks.
 */
const NATIVE_IRONCLAD = ['PUBLIC_URL', 'SMTP_URL'] as const satisfies readonly SettingName[];

/** Words of a variable name that say "database" (DB_PASSWORD, SQL_PASSWORD, MYSQL_PASSWORD, PGPASSWORD). */
const DATABASE_WORDS = new Set([
  'DB',
  'DATABASE',
  'SQL',
  'PG',
  'PGPASSWORD',
  'POSTGRES',
  'POSTGRESQL',
  'MYSQL',
  'MARIADB',
  'MONGO',
  'MONGODB',
  'REDIS',
]);
const PASSWORD_SUFFIXES = ['_PASSWORD', '_PASSWD', '_PASS', 'PGPASSWORD'];
const URL_SCHEMES = new Set([
  'postgres',
  'postgresql',
  'postgis',
  'mysql',
  'mysql2',
  'mariadb',
  'mongodb',
  'mongodb+srv',
  'redis',
  'rediss',
  'amqp',
  'amqps',
]);
/** Datastores whose image runs without a password on purpose (reachable only on the private network). */
const PASSWORDLESS_BY_DESIGN = new Set(['redis', 'valkey', 'keydb', 'dragonfly', 'memcached']);

export interface ServiceContext {
  service: string;
  composeFile: string;
  /** The datastore word of the service's image, or true for one recognised otherwise, or false. */
  datastore: string | boolean;
  /** `--dir`, for the loader's relative paths (never read: `dotEnv: false`). */
  dir: string;
  /** How messages name the environment's owner, when not a compose service (`ConfigMap "web"`). */
  label?: string;
  /** The checkout deploys Ironclad Tasks (app-kind.ts): NATIVE_IRONCLAD settings are read too. */
  ironclad?: boolean;
}

interface Source {
  entry: EnvEntry;
  /** The setting the variable was read as, when its name differs. */
  as?: SettingName;
}

/** Whether the compose setup set this variable: owned, or a name the configuration audit of `.env` does not read. */
function counts(entry: EnvEntry): boolean {
  return entry.owned || !SCHEMA_NAMES.has(entry.name);
}

function words(name: string): string[] {
  return name.toUpperCase().split('_');
}

function listValue(raw: string): string[] {
  let text = raw.trim();
  // A JSON list (pydantic settings): ["a", "b"].
  if (text.startsWith('[') && text.endsWith(']') && text.includes('"')) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (Array.isArray(parsed)) return parsed.map(String);
    } catch {
      // not JSON: read as a plain list
    }
  }
  text = text.replaceAll(';', ',');
  return text
    .split(/[\s,]+/)
    .map((item) => item.trim())
    .filter(Boolean);
}

interface Run {
  env: Record<string, string>;
  sources: Map<SettingName, Source>;
  /** Only these rule IDs (prefixes) are reported from this run. */
  only?: (id: RuleId) => boolean;
}

function strongStandIn(): string {
  return randomBytes(48).toString('base64url');
}

/** The main run: every setting read under its own or a Django/Node name. */
function settingsRun(env: Map<string, EnvEntry>, ironclad: boolean): Run {
  const run: Run = { env: {}, sources: new Map() };
  const set = (setting: SettingName, value: string, entry: EnvEntry) => {
    run.env[setting] = value;
    run.sources.set(setting, entry.name === setting ? { entry } : { entry, as: setting });
  };
  const defined = (name: string) => {
    const entry = env.get(name);
    return entry?.value === undefined ? undefined : entry;
  };

  // DEBUG: the most dangerous reading wins (any "on"), and one the compose setup set over one it repeats.
  const debugs: { value: string; entry: EnvEntry }[] = [];
  for (const name of DEBUG_NAMES) {
    const entry = defined(name);
    const word = entry?.value?.trim().toLowerCase() ?? '';
    if (entry && (TRUE_WORDS.has(word) || FALSE_WORDS.has(word))) {
      debugs.push({ value: TRUE_WORDS.has(word) ? 'true' : 'false', entry });
    }
  }
  for (const name of DEV_MODE_NAMES) {
    const entry = defined(name);
    if (entry && entry.value?.trim().toLowerCase() === 'development') debugs.push({ value: 'true', entry });
  }
  const debug =
    debugs.find((d) => d.value === 'true' && counts(d.entry)) ??
    debugs.find((d) => d.value === 'true') ??
    debugs.find((d) => counts(d.entry)) ??
    debugs[0];
  if (debug) set('DEBUG', debug.value, debug.entry);

  const hosts = HOSTS_NAMES.map(defined).filter((entry) => entry !== undefined);
  const hostsEntry = hosts.find(counts) ?? hosts[0];
  if (hostsEntry?.value !== undefined) set('ALLOWED_HOSTS', listValue(hostsEntry.value).join(','), hostsEntry);

  const allowAll = CORS_ALL_NAMES.map(defined).find((entry) =>
    TRUE_WORDS.has(entry?.value?.trim().toLowerCase() ?? ''),
  );
  if (allowAll) set('CORS_ALLOWED_ORIGINS', '*', allowAll);
  else {
    for (const name of CORS_LIST_NAMES) {
      const entry = defined(name);
      if (entry?.value === undefined) continue;
      const origins = listValue(entry.value);
      // Other stacks accept other syntaxes (regexes, trailing slashes); only this server's own variable is held to
      // its exact-origin grammar. `*` and `null` mean the same everywhere.
      const kept =
        name === 'CORS_ALLOWED_ORIGINS'
          ? origins
          : origins.filter((origin) => origin === '*' || origin.toLowerCase() === 'null' || !originProblem(origin));
      if (kept.length > 0) set('CORS_ALLOWED_ORIGINS', kept.join(','), entry);
      break;
    }
  }

  for (const name of ironclad ? [...NATIVE, ...NATIVE_IRONCLAD] : NATIVE) {
    const entry = defined(name);
    if (entry?.value !== undefined) set(name, entry.value, entry);
    // A secret given as a file is in the container, not here: judged strong, so that no rule fires for want of it.
    else if (defined(`${name}_FILE`) && (name === 'SECRET_KEY' || name === 'POSTGRES_PASSWORD')) {
      run.env[name] = strongStandIn();
    }
  }
  const url = defined('DATABASE_URL');
  if (url?.value !== undefined && schemeOf(url.value)?.startsWith('postgres')) {
    set('DATABASE_URL', url.value, url);
  } else if (defined('DATABASE_URL_FILE')) {
    run.env.DATABASE_URL = `postgres://app:${strongStandIn()}@db/app`;
  }
  // A password or user without a database name: still PostgreSQL (the server would use the embedded database
  // otherwise and never read them); not "set by compose", so the embedded-database rule stays quiet.
  if (
    (run.env.POSTGRES_PASSWORD !== undefined || run.env.POSTGRES_USER !== undefined) &&
    run.env.POSTGRES_DB === undefined &&
    run.env.DATABASE_URL === undefined
  ) {
    run.env.POSTGRES_DB = 'app';
  }
  // DOMAIN is judged against ALLOWED_HOSTS only when both are said somewhere (else it is nginx's, not this server's).
  if (run.sources.has('DOMAIN') && !run.sources.has('ALLOWED_HOSTS')) delete run.env.DOMAIN;
  // So is PUBLIC_URL (ALLOWED_HOSTS may be in the operator's .env); whether it is https is judged all the same.
  if (run.sources.has('PUBLIC_URL') && !run.sources.has('ALLOWED_HOSTS')) {
    run.only = (id) => id !== 'config.email.public-url-host';
  }
  return run;
}

function schemeOf(url: string): string | undefined {
  const at = url.indexOf('://');
  return at > 0 ? url.slice(0, at).toLowerCase() : undefined;
}

/** The user name that goes with a password variable (MYSQL_PASSWORD: MYSQL_USER; MYSQL_ROOT_PASSWORD: root). */
function userFor(name: string, env: Map<string, EnvEntry>, datastore: string | boolean): string | undefined {
  const suffix = PASSWORD_SUFFIXES.find((end) => name.endsWith(end)) ?? '';
  const prefix = name.slice(0, name.length - suffix.length);
  for (const candidate of [`${prefix}_USER`, `${prefix}_USERNAME`, `${prefix}_USR`, `${prefix}USER`]) {
    const value = env.get(candidate)?.value;
    if (value !== undefined) return value;
  }
  if (words(prefix).includes('ROOT')) return 'root';
  if (name === 'PGPASSWORD') return env.get('PGUSER')?.value;
  if (datastore === 'postgres' || datastore === 'postgresql' || datastore === 'postgis') return 'postgres';
  if (name === 'ELASTIC_PASSWORD') return 'elastic';
  return undefined;
}

function isPasswordName(name: string): boolean {
  return !name.endsWith('_FILE') && PASSWORD_SUFFIXES.some((end) => name.endsWith(end));
}

/** One run per database password variable other than POSTGRES_PASSWORD of an application (judged in the main run). */
function passwordRuns(env: Map<string, EnvEntry>, datastore: string | boolean): Run[] {
  const runs: Run[] = [];
  const onlyPassword = (id: RuleId) =>
    id === 'config.database.password-placeholder' || id === 'config.database.password-equals-user';
  for (const entry of env.values()) {
    if (entry.value === undefined || !isPasswordName(entry.name)) continue;
    if (!datastore && (entry.name === 'POSTGRES_PASSWORD' || !words(entry.name).some((w) => DATABASE_WORDS.has(w))))
      continue;
    const user = userFor(entry.name, env, datastore);
    runs.push({
      env: { POSTGRES_DB: 'app', POSTGRES_PASSWORD: entry.value, ...(user ? { POSTGRES_USER: user } : {}) },
      sources: new Map([
        ['POSTGRES_PASSWORD', entry.name === 'POSTGRES_PASSWORD' ? { entry } : { entry, as: 'POSTGRES_PASSWORD' }],
      ]),
      only: onlyPassword,
    });
  }
  // NEO4J_AUTH=neo4j/password: user and password in one variable.
  const neo4j = env.get('NEO4J_AUTH');
  const slash = neo4j?.value?.indexOf('/') ?? -1;
  if (neo4j?.value !== undefined && slash > 0) {
    runs.push({
      env: {
        POSTGRES_DB: 'app',
        POSTGRES_USER: neo4j.value.slice(0, slash),
        POSTGRES_PASSWORD: neo4j.value.slice(slash + 1),
      },
      sources: new Map([['POSTGRES_PASSWORD', { entry: neo4j, as: 'POSTGRES_PASSWORD' }]]),
      only: onlyPassword,
    });
  }
  return runs;
}

/** Connection URLs of other schemes (mysql://, mongodb://, redis://), read for their password as DATABASE_URL is. */
function urlRuns(env: Map<string, EnvEntry>): Run[] {
  const runs: Run[] = [];
  for (const entry of env.values()) {
    const value = entry.value;
    if (value === undefined || entry.name.endsWith('_FILE')) continue;
    const scheme = schemeOf(value);
    if (!scheme || !URL_SCHEMES.has(scheme)) continue;
    if (entry.name === 'DATABASE_URL' && scheme.startsWith('postgres')) continue; // the main run's
    runs.push({
      env: { DATABASE_URL: `postgres://${value.slice(value.indexOf('://') + 3)}` },
      sources: new Map([['DATABASE_URL', entry.name === 'DATABASE_URL' ? { entry } : { entry, as: 'DATABASE_URL' }]]),
      only: (id) => id === 'config.database.password-placeholder' || id === 'config.database.password-equals-user',
    });
  }
  return runs;
}

/** One run per signing key under a Django or Node name. */
function keyRuns(env: Map<string, EnvEntry>): Run[] {
  const runs: Run[] = [];
  for (const entry of env.values()) {
    const value = entry.value;
    if (value === undefined || entry.name === 'SECRET_KEY') continue;
    if (!DJANGO_KEYS.has(entry.name) && !HMAC_KEYS.has(entry.name)) continue;
    // An HMAC key of 32+ characters whose only weakness is this server's 50-character minimum is strong enough.
    if (
      HMAC_KEYS.has(entry.name) &&
      value.length >= HMAC_MIN_LENGTH &&
      value.length < MIN_SECRET_KEY_LENGTH &&
      secretKeyWeakness(value.repeat(2)) === undefined
    ) {
      continue;
    }
    // Whitespace matters to this server's key handling; a Node HMAC secret with a space is only weak, if anything.
    const django = DJANGO_KEYS.has(entry.name);
    runs.push({
      env: { SECRET_KEY: value },
      sources: new Map([['SECRET_KEY', { entry, as: 'SECRET_KEY' }]]),
      only: (id) => id === 'config.secret-key.weak' || (django && id === 'config.secret-key.whitespace'),
    });
  }
  return runs;
}

/** Datastores told to accept connections without a password. */
function passwordlessRuns(env: Map<string, EnvEntry>, datastore: string | boolean): Run[] {
  if (typeof datastore === 'string' && PASSWORDLESS_BY_DESIGN.has(datastore)) return [];
  const runs: Run[] = [];
  for (const entry of env.values()) {
    const value = entry.value?.trim().toLowerCase() ?? '';
    const trust = entry.name === 'POSTGRES_HOST_AUTH_METHOD' && value === 'trust';
    const empty = entry.name.includes('ALLOW_EMPTY') && entry.name.includes('PASSWORD') && TRUE_WORDS.has(value);
    if (!trust && !empty) continue;
    runs.push({
      env: { POSTGRES_DB: 'app' },
      sources: new Map([['POSTGRES_PASSWORD', { entry, as: 'POSTGRES_PASSWORD' }]]),
      only: (id) => id === 'config.database.password-empty',
    });
  }
  return runs;
}

/** The settings-rule findings for one service. */
export function judgeEnvironment(context: ServiceContext, env: Map<string, EnvEntry>): Finding[] {
  const runs = context.datastore
    ? [...passwordRuns(env, context.datastore), ...passwordlessRuns(env, context.datastore)]
    : [settingsRun(env, context.ironclad ?? false), ...keyRuns(env), ...passwordRuns(env, false), ...urlRuns(env)];
  const findings: Finding[] = [];
  const seen = new Set<string>();
  for (const run of runs) {
    let fired: ReturnType<typeof inspectConfig>['findings'];
    try {
      fired = inspectConfig({ env: run.env, dotEnv: false, cwd: context.dir }).findings;
    } catch {
      continue; // a value the loader cannot even inspect: its own parse problem, not this audit's
    }
    for (const result of fired) {
      if (NOT_FROM_COMPOSE.has(result.id) || (run.only && !run.only(result.id))) continue;
      const rule = RULES.find((candidate) => candidate.id === result.id);
      const source = rule?.settings
        .map((name) => run.sources.get(name))
        .find((s) => s !== undefined && counts(s.entry));
      if (!source) continue;
      const key = `${result.id}\0${source.entry.name}\0${result.message}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const named = source.as ? `${source.entry.name} read as ${source.as}` : source.entry.name;
      findings.push(
        finding(
          result.id,
          `${context.label ?? `service "${context.service}"`} in ${context.composeFile}: ${result.message} (${named}, ${source.entry.how})`,
          source.entry.where,
        ),
      );
    }
  }
  return findings;
}
