/**
 * Reads the whole configuration once, from the environment (and `<NAME>_FILE`
 * secret files, and `.env` in the working directory), checks all of it, and
 * either returns a typed Config or throws one ConfigError listing every
 * problem. Secret values never appear in a message.
 *
 * Two kinds of problem: a variable that cannot be read or parsed (always
 * refused), and the security rules of rules.ts, evaluated over the parsed
 * values; each rule's effect and DEBUG decide whether its messages refuse
 * the start, become warnings, or are left to the deploy auditor.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';
import type { DatabaseTarget } from './database.js';
import { evaluateRules, type ParseProblem, type RuleFinding } from './rules.js';
import { type SettingName, type SettingValues, settingNames, settings } from './schema.js';
import { ParseError, type Setting } from './types.js';

export type { DatabaseTarget } from './database.js';

/** The driver's options (server/src/db/connect.ts passes them to node-postgres as they are). */
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
  /** The same database described by its parts, parsed once (DATABASE_URL or POSTGRES_*), for the rules and the audit. */
  readonly databaseTarget: DatabaseTarget;
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

/** The loader's whole evaluation, for the deploy audit. */
export interface Inspection {
  /** The configuration as far as it could be read. */
  readonly config: Config;
  /** What loadConfig refuses to start over, in its order: the parse problems, then the refusing rules' messages. */
  readonly problems: string[];
  /** The variables that could not be read or parsed (all refused, whatever DEBUG says), with the variable named. */
  readonly parseProblems: ParseProblem[];
  /**
   * Every security rule that fired (rules.ts), judged as production: the same whatever DEBUG says, with what the
   * loader did about each (`outcome`) under the DEBUG it was given.
   */
  readonly findings: RuleFinding[];
}

/** Every secret value a configuration holds (schema-marked settings, each fallback, the database password). */
export function secretValues(config: Config): string[] {
  const found: string[] = [];
  for (const name of settingNames) {
    const definition: Setting<unknown> = settings[name];
    if (!definition.secret) continue;
    const value = config.values[name] as unknown;
    if (typeof value === 'string') found.push(value);
    else if (Array.isArray(value)) found.push(...value.filter((v): v is string => typeof v === 'string'));
  }
  if (config.values.DATABASE_URL) found.push(config.values.DATABASE_URL.url);
  const smtp = config.values.SMTP_URL;
  if (smtp?.password !== undefined) {
    // The password decoded and as written (percent-encoded): an error or a log line may carry either spelling.
    found.push(smtp.url, smtp.password, new URL(smtp.url).password);
  } else if (smtp) found.push(smtp.url);
  const target = config.databaseTarget;
  if (target.kind === 'postgres' && target.password) found.push(target.password);
  return [...new Set(found)].filter((value) => value.length > 0);
}

function describeDatabase(values: SettingValues, unparsed: ReadonlySet<string>, cwd: string): DatabaseTarget {
  const url = values.DATABASE_URL;
  if (url) {
    const { user, password, host, port, database } = url;
    return { kind: 'postgres', from: 'DATABASE_URL', user, password, host, port, database };
  }
  // Given but unusable: still PostgreSQL (its parse problem refuses the start), described by nothing.
  if (unparsed.has('DATABASE_URL')) return { kind: 'postgres', from: 'DATABASE_URL' };
  if (values.POSTGRES_DB !== undefined) {
    return {
      kind: 'postgres',
      from: 'POSTGRES_DB',
      user: values.POSTGRES_USER,
      password: values.POSTGRES_PASSWORD,
      host: values.DB_HOST,
      port: values.DB_PORT,
      database: values.POSTGRES_DB,
    };
  }
  const dataDir = values.DATA_DIR ?? './data';
  return { kind: 'embedded', dataDir: dataDir === MEMORY_DATA_DIR ? dataDir : resolve(cwd, dataDir) };
}

/** The driver's options for the target: DATABASE_URL is given to node-postgres as written. */
function driverOptions(target: DatabaseTarget, values: SettingValues): DatabaseConfig {
  if (target.kind === 'embedded') return target;
  if (target.from === 'DATABASE_URL') {
    return values.DATABASE_URL ? { kind: 'postgres', connectionString: values.DATABASE_URL.url } : { kind: 'postgres' };
  }
  const { host, port, user, password, database } = target;
  return { kind: 'postgres', host, port, user, password, database };
}

/**
 * The loader's whole evaluation without the refusal: the configuration as far as it could be read,
 * and the problems `loadConfig` would refuse to start over, with the structured parse problems and
 * rule findings behind them. For the deploy audit, which must report an insecure configuration
 * rather than stop at it; the server itself only ever uses loadConfig.
 */
export function inspectConfig(options: LoadOptions = {}): Inspection {
  const cwd = options.cwd ?? process.cwd();
  const processEnv = options.env ?? process.env;
  const fromDotEnv = options.dotEnv === false ? {} : readDotEnv(cwd);
  const parseProblems: ParseProblem[] = [];
  const refuse = (setting: string, message: string) => parseProblems.push({ setting, message });
  /** Settings with a value that did not parse: no rule judges them. */
  const unparsed = new Set<SettingName>();

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
      refuse(`${name}_FILE`, `${name}_FILE: ${name} cannot be read from a file; set ${name} itself`);
    } else if (fileVar && direct) {
      refuse(name, `${name} and ${name}_FILE are both set; keep one`);
    } else if (fileVar) {
      try {
        raw = stripOneNewline(readFileSync(resolve(cwd, fileVar.value), 'utf8'));
        source = 'file';
        if (raw === '') raw = undefined;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
        refuse(`${name}_FILE`, `${name}_FILE: cannot read "${fileVar.value}" (${code})`);
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
      const shown = definition.secret || !error.echo ? '' : ` (got "${raw}")`;
      refuse(name, `${name}: ${error.message}${shown}`);
      unparsed.add(name);
    }
  }

  for (const [name, why] of Object.entries(RETIRED)) {
    if (lookup(name)) refuse(name, `${name} ${why}`);
  }

  const typed = values as SettingValues;
  const debug = typed.DEBUG ?? false;
  const databaseTarget = describeDatabase(typed, unparsed, cwd);
  const findings = evaluateRules({ values: typed, database: databaseTarget }, { debug, unparsed });

  const problems = parseProblems.map((problem) => problem.message);
  const warnings: string[] = [];
  for (const finding of findings) {
    if (finding.outcome === 'refused') problems.push(finding.message);
    else if (finding.outcome === 'warned') warnings.push(finding.message);
  }

  return {
    config: {
      values: typed,
      debug,
      database: driverOptions(databaseTarget, typed),
      databaseTarget,
      secretKey: typed.SECRET_KEY,
      secretKeyFallbacks: typed.SECRET_KEY_FALLBACKS ?? [],
      warnings,
      sources,
    },
    problems,
    parseProblems,
    findings,
  };
}
