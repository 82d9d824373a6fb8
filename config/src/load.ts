/**
 * Reads the whole configuration once, from the environment (and `<NAME>_FILE`
 * secret files, and `.env` in the working directory), checks all of it, and
 * either returns a typed Config or throws one ConfigError listing every
 * problem. Secret values never appear in a message.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { createHostMatcher, hostPatternProblem } from './hosts.js';
import { isLocalOrigin, originProblem } from './origins.js';
import { type SettingName, type SettingValues, settingNames, settings } from './schema.js';
import { isPlaceholderPassword, secretKeyWeakness } from './secrets.js';
import { ParseError, type Setting } from './types.js';

export type DatabaseConfig =
  | { kind: 'embedded'; dataDir: string }
  | {
      kind: 'postgres';
      connectionString?: string;
      host?: string;
      port?: number;
      user?: string;
      password?: string;
      database?: string;
    };

export interface Config {
  readonly values: SettingValues;
  readonly debug: boolean;
  readonly database: DatabaseConfig;
  /** Undefined only with the embedded database, where one is generated (see secret-key.ts). */
  readonly secretKey: string | undefined;
  readonly secretKeyFallbacks: string[];
  /** Problems tolerated (DEBUG on, or advisory only); logged at start-up. */
  readonly warnings: string[];
  /** Where each setting came from, for the audit and the start-up log (never the value). */
  readonly sources: Record<SettingName, 'env' | 'file' | '.env' | 'default'>;
}

/** DATA_DIR value that keeps the embedded database in memory (tests, throwaway demos). */
export const MEMORY_DATA_DIR = 'memory://';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(
      `Refusing to start: ${problems.length} configuration problem${problems.length === 1 ? '' : 's'}.\n` +
        problems.map((problem) => `  - ${problem}`).join('\n'),
    );
    this.name = 'ConfigError';
  }
}

export interface LoadOptions {
  env?: Record<string, string | undefined>;
  /** Directory whose `.env` is read and against which relative paths resolve. */
  cwd?: string;
  /** Read `<cwd>/.env` when present. Default true. */
  dotEnv?: boolean;
}

/** Variables of the seed's system that this one deliberately does not support. */
const RETIRED: Record<string, string> = {
  CORS_ALLOW_ALL_ORIGINS:
    'is not supported: a wildcard CORS policy lets any website call the API; list origins in CORS_ALLOWED_ORIGINS',
};

function readDotEnv(cwd: string): Record<string, string> {
  const path = resolve(cwd, '.env');
  if (!existsSync(path)) return {};
  const parsed = parseEnv(readFileSync(path, 'utf8'));
  return Object.fromEntries(Object.entries(parsed).filter((entry): entry is [string, string] => entry[1] != null));
}

function stripOneNewline(text: string): string {
  if (text.endsWith('\r\n')) return text.slice(0, -2);
  if (text.endsWith('\n')) return text.slice(0, -1);
  return text;
}

export function loadConfig(options: LoadOptions = {}): Config {
  const { config, problems } = inspectConfig(options);
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/**
 * The loader's whole evaluation without the refusal: the configuration as far as it could be read,
 * and the problems `loadConfig` would refuse to start over. For the deploy audit, which must report
 * an insecure configuration rather than stop at it; the server itself only ever uses loadConfig.
 */
export function inspectConfig(options: LoadOptions = {}): { config: Config; problems: string[] } {
  const cwd = options.cwd ?? process.cwd();
  const processEnv = options.env ?? process.env;
  const fromDotEnv = options.dotEnv === false ? {} : readDotEnv(cwd);
  const problems: string[] = [];
  const warnings: string[] = [];

  // An empty string counts as unset, wherever it comes from.
  const lookup = (name: string): { value: string; source: '.env' | 'env' } | undefined => {
    const real = processEnv[name];
    if (real !== undefined && real !== '') return { value: real, source: 'env' };
    const dot = fromDotEnv[name];
    if (dot !== undefined && dot !== '') return { value: dot, source: '.env' };
    return undefined;
  };

  const values: Record<string, unknown> = {};
  const sources = {} as Config['sources'];
  for (const name of settingNames) {
    const definition: Setting<unknown> = settings[name];
    const direct = lookup(name);
    const fileVar = lookup(`${name}_FILE`);
    let raw: string | undefined;
    let source: Config['sources'][SettingName] = 'default';
    if (fileVar && !definition.file) {
      problems.push(`${name}_FILE: ${name} cannot be read from a file; set ${name} itself`);
    } else if (fileVar && direct) {
      problems.push(`${name} and ${name}_FILE are both set; keep one`);
    } else if (fileVar) {
      try {
        raw = stripOneNewline(readFileSync(resolve(cwd, fileVar.value), 'utf8'));
        source = 'file';
        if (raw === '') raw = undefined;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
        problems.push(`${name}_FILE: cannot read "${fileVar.value}" (${code})`);
      }
    } else if (direct) {
      raw = direct.value;
      source = direct.source;
    }
    if (raw === undefined) raw = definition.default;
    sources[name] = raw === undefined ? 'default' : source;
    if (raw === undefined) {
      values[name] = undefined;
      continue;
    }
    try {
      values[name] = definition.parse(raw);
    } catch (error) {
      if (!(error instanceof ParseError)) throw error;
      const shown = definition.secret ? '' : ` (got "${raw}")`;
      problems.push(`${name}: ${error.message}${shown}`);
    }
  }

  for (const [name, why] of Object.entries(RETIRED)) {
    if (lookup(name)) problems.push(`${name} ${why}`);
  }

  const typed = values as SettingValues;
  const debug = typed.DEBUG ?? false;
  // With DEBUG off these are fatal; with it on, warnings.
  const insecure = (problem: string) => (debug ? warnings : problems).push(problem);

  if (debug) warnings.push('DEBUG is on: production refusals are only warnings and 500 answers carry detail');

  // Hosts
  const hosts = typed.ALLOWED_HOSTS ?? [];
  if (hosts.length === 0) problems.push('ALLOWED_HOSTS: lists no host, so every request would be refused');
  for (const host of hosts) {
    const problem = hostPatternProblem(host);
    if (problem) problems.push(`ALLOWED_HOSTS: ${problem}`);
  }
  if (hosts.includes('*')) insecure('ALLOWED_HOSTS: contains "*", which accepts any Host header; list your domains');
  // Behind nginx every request carries Host: DOMAIN; a list that does not allow it would refuse them all.
  if (typed.DOMAIN !== undefined && !createHostMatcher(hosts)(typed.DOMAIN)) {
    problems.push(
      `ALLOWED_HOSTS: does not allow DOMAIN (${typed.DOMAIN}), so every request through nginx would be refused`,
    );
  }

  // Origins: never a wildcard, whatever the mode.
  for (const origin of typed.CORS_ALLOWED_ORIGINS ?? []) {
    const problem = originProblem(origin);
    if (problem) problems.push(`CORS_ALLOWED_ORIGINS: ${problem}`);
    else if (!debug && origin.startsWith('http:') && !isLocalOrigin(origin)) {
      warnings.push(`CORS_ALLOWED_ORIGINS: "${origin}" is not HTTPS`);
    }
  }

  // Database
  let database: DatabaseConfig;
  let dbUser: string | undefined;
  let dbPassword: string | undefined;
  if (typed.DATABASE_URL !== undefined) {
    let url: URL | undefined;
    try {
      url = new URL(typed.DATABASE_URL);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') || !url.hostname) {
      problems.push('DATABASE_URL: is not a postgres://user:password@host:port/database URL');
    } else {
      dbUser = decodeURIComponent(url.username);
      dbPassword = decodeURIComponent(url.password);
    }
    database = { kind: 'postgres', connectionString: typed.DATABASE_URL };
  } else if (typed.POSTGRES_DB !== undefined) {
    dbUser = typed.POSTGRES_USER;
    dbPassword = typed.POSTGRES_PASSWORD;
    database = {
      kind: 'postgres',
      host: typed.DB_HOST,
      port: typed.DB_PORT,
      user: typed.POSTGRES_USER,
      password: typed.POSTGRES_PASSWORD,
      database: typed.POSTGRES_DB,
    };
  } else {
    const dataDir = typed.DATA_DIR ?? './data';
    database = { kind: 'embedded', dataDir: dataDir === MEMORY_DATA_DIR ? dataDir : resolve(cwd, dataDir) };
  }
  if (database.kind === 'postgres' && dbPassword) {
    if (isPlaceholderPassword(dbPassword))
      insecure('POSTGRES_PASSWORD: is a known placeholder value; set a strong password');
    else if (dbUser && dbPassword === dbUser)
      insecure('POSTGRES_PASSWORD: equals the user name; set a strong password');
  }

  // Signing keys
  const secretKey = typed.SECRET_KEY;
  if (secretKey === undefined) {
    if (database.kind === 'postgres') {
      problems.push('SECRET_KEY: is not set; it is required with PostgreSQL (make one with `npm run secret`)');
    }
  } else {
    const weakness = secretKeyWeakness(secretKey);
    if (weakness) insecure(`SECRET_KEY: ${weakness}; make one with \`npm run secret\``);
  }
  const fallbacks = typed.SECRET_KEY_FALLBACKS ?? [];
  fallbacks.forEach((key, index) => {
    const weakness = secretKeyWeakness(key);
    if (weakness) insecure(`SECRET_KEY_FALLBACKS: entry ${index + 1} ${weakness}`);
  });

  if ((typed.WEB_CONCURRENCY ?? 1) > 1 && database.kind === 'embedded') {
    problems.push(
      'WEB_CONCURRENCY: must be 1 with the embedded database, which only one process may open; use PostgreSQL to run several',
    );
  }

  if (typed.TRUST_PROXY === true && !debug) {
    warnings.push('TRUST_PROXY: is true, so any client can forge its address; list the proxy addresses instead');
  }

  return {
    config: {
      values: typed,
      debug,
      database,
      secretKey,
      secretKeyFallbacks: fallbacks,
      warnings,
      sources,
    },
    problems,
  };
}
