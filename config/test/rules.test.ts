/**
 * The settings' security rules as the loader applies them: the table's shape, keys with whitespace, DATABASE_URL
 * parsed once into the description the rules judge, the structured results the auditor reads, and the generated
 * table in docs/configuration.md. (Each rule against the auditor too: audit/test/rules.test.ts.)
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parsePostgresUrl } from '../src/database.js';
import { RULES_END, RULES_START, withRulesTable } from '../src/docs.js';
import { ConfigError, inspectConfig, loadConfig, secretValues } from '../src/load.js';
import { EFFECTS, PARSE_PROBLEM, RULES, SEVERITIES } from '../src/rules.js';
import { settingNames, settings } from '../src/schema.js';

const repoRoot = resolve(import.meta.dirname, '../..');

/** A strong key: 64 URL-safe characters, as `npm run secret` makes. */
const key = () => `Kq7${randomBytes(48).toString('base64url')}`.slice(0, 64);
const KEY = key();
/** Production settings on PostgreSQL that no rule finds anything in. */
const PG = {
  POSTGRES_DB: 'tasks',
  POSTGRES_USER: 'tasks',
  POSTGRES_PASSWORD: `Pw9-${key()}`,
  SECRET_KEY: KEY,
  ALLOWED_HOSTS: 'tasks.example.com',
  // nginx's fixed address in docker-compose.yml: a range would be config.trust-proxy.range.
  TRUST_PROXY: '10.89.0.2',
  // Email reaches people (without SMTP_URL: config.email.disabled), with links to a host ALLOWED_HOSTS allows.
  PUBLIC_URL: 'https://tasks.example.com',
  SMTP_URL: `smtps://tasks:${key()}@smtp.example.com:465`,
};

const tempDir = () => mkdtempSync(join(tmpdir(), 'ironclad-rules-'));
const inspect = (env: Record<string, string | undefined>, cwd = tempDir()) =>
  inspectConfig({ env, cwd, dotEnv: false });

function problemsOf(env: Record<string, string | undefined>, cwd = tempDir()): string[] {
  try {
    loadConfig({ env, cwd, dotEnv: false });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

/** The value and every 4-character window of it that holds a digit or letter mix: none may appear. */
function expectNotEchoed(text: string, secret: string): void {
  expect(text).not.toContain(secret);
  for (let i = 0; i + 6 <= secret.length; i += 1) {
    const piece = secret.slice(i, i + 6);
    if (/[0-9]/.test(piece) && /[A-Za-z]/.test(piece)) expect(text, piece).not.toContain(piece);
  }
}

describe('the rules table', () => {
  it('has unique config.* IDs, known severities and effects, and settings the schema knows', () => {
    const ids = RULES.map((rule) => rule.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).not.toContain(PARSE_PROBLEM.id);
    for (const rule of RULES) {
      expect(rule.id).toMatch(/^config\.[a-z-]+(\.[a-z-]+)?$/);
      expect(SEVERITIES).toContain(rule.severity);
      expect(EFFECTS).toContain(rule.effect);
      expect(rule.settings.length).toBeGreaterThan(0);
      for (const name of rule.settings) expect(settingNames).toContain(name);
      expect(rule.trigger.length).toBeGreaterThan(20);
      expect(rule.fix.length).toBeGreaterThan(10);
    }
  });

  it('DATABASE_URL has one parser, the one the description comes from', () => {
    expect(settings.DATABASE_URL.parse).toBe(parsePostgresUrl);
  });

  it('docs/configuration.md carries the table as generated from the rules', () => {
    const text = readFileSync(join(repoRoot, 'docs/configuration.md'), 'utf8');
    expect(text).toContain(RULES_START);
    expect(text).toContain(RULES_END);
    expect(text).toBe(withRulesTable(text));
    for (const rule of RULES) expect(text).toContain(`\`${rule.id}\``);
  });
});

describe('a SECRET_KEY with whitespace', () => {
  const cases: [string, string, string][] = [
    [
      'npm output captured with the key',
      `> ironclad-tasks@0.1.0 secret\n> node config/dist/cli.js secret\n\n${KEY}`,
      'line break',
    ],
    ['a Windows line ending', `${KEY}\r\n`, 'line break'],
    ['two keys on two lines', `${KEY}\n${key()}`, 'line break'],
    ['a tab', `${KEY.slice(0, 30)}\t${KEY.slice(30)}`, 'tab'],
    ['a space inside', `${KEY.slice(0, 30)} ${KEY.slice(30)}`, 'space'],
    ['a leading space', ` ${KEY}`, 'space'],
    ['a trailing space', `${KEY} `, 'space'],
    ['a no-break space', `${KEY}\u00a0`, 'other whitespace'],
    ['a line separator', `${KEY}\u2028`, 'line break'],
  ];

  it.each(cases)('is refused, with or without DEBUG, naming the kind and not the key: %s', (_name, value, kind) => {
    for (const DEBUG of ['false', 'true']) {
      const problems = problemsOf({ ...PG, SECRET_KEY: value, DEBUG });
      const message = problems.find((problem) => problem.startsWith('SECRET_KEY: contains whitespace'));
      expect(message, problems.join('\n')).toBeDefined();
      expect(message).toContain(`(${kind}`);
      expect(message).toContain('npm run --silent secret');
      expectNotEchoed(problems.join('\n'), KEY);
    }
  });

  it('in a _FILE: the one trailing newline a file ends with is fine; anything more is refused', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'one'), `${KEY}\n`);
    writeFileSync(join(dir, 'two'), `${KEY}\n\n`);
    writeFileSync(join(dir, 'banner'), `> ironclad-tasks@0.1.0 secret\n${KEY}\n`);
    const env = { ...PG, SECRET_KEY: undefined };
    expect(loadConfig({ env: { ...env, SECRET_KEY_FILE: 'one' }, cwd: dir, dotEnv: false }).secretKey).toBe(KEY);
    for (const file of ['two', 'banner']) {
      const problems = problemsOf({ ...env, SECRET_KEY_FILE: file }, dir);
      expect(problems).toEqual([expect.stringMatching(/^SECRET_KEY: contains whitespace \(line break[,)]/)]);
      expectNotEchoed(problems.join('\n'), KEY);
    }
  });

  it('a key without whitespace, such as `npm run secret` prints, is accepted', () => {
    expect(problemsOf(PG)).toEqual([]);
    expect(inspect(PG).findings.map((f) => f.id)).not.toContain('config.secret-key.whitespace');
  });
});

describe('SECRET_KEY_FALLBACKS with whitespace', () => {
  const [a, b] = [key(), key()];

  it('spaces around the commas are separators', () => {
    const config = loadConfig({
      env: { ...PG, SECRET_KEY_FALLBACKS: ` ${a} ,\t${b} ` },
      cwd: tempDir(),
      dotEnv: false,
    });
    expect(config.secretKeyFallbacks).toEqual([a, b]);
  });

  it.each([
    ['a line break', `${a}\n${b}`, 'entry 1', 'line break'],
    ['a tab inside the second', `${a},${b.slice(0, 20)}\t${b.slice(20)}`, 'entry 2', 'tab'],
    ['a space inside the second', `${a},${b.slice(0, 20)} ${b.slice(20)}`, 'entry 2', 'space'],
  ])('is refused in every mode, naming the entry and not the key: %s', (_name, value, entry, kind) => {
    for (const DEBUG of ['false', 'true']) {
      const problems = problemsOf({ ...PG, SECRET_KEY_FALLBACKS: value, DEBUG });
      expect(problems).toContainEqual(
        expect.stringMatching(new RegExp(`^SECRET_KEY_FALLBACKS: ${entry} contains whitespace \\(${kind}\\); `)),
      );
      expectNotEchoed(problems.join('\n'), a);
      expectNotEchoed(problems.join('\n'), b);
    }
  });
});

describe('DATABASE_URL, parsed once', () => {
  it('into the description the rules, the auditor and the redaction read; the driver gets the URL as written', () => {
    const password = `p@ss:w/d-${key()}`;
    const url = `postgres://ta%73ks:${encodeURIComponent(password)}@db.internal:6432/app?sslmode=require`;
    const { config } = inspect({ ...PG, DATABASE_URL: url });
    expect(config.databaseTarget).toEqual({
      kind: 'postgres',
      from: 'DATABASE_URL',
      user: 'tasks',
      password,
      host: 'db.internal',
      port: 6432,
      database: 'app',
    });
    expect(config.database).toEqual({ kind: 'postgres', connectionString: url });
    expect(secretValues(config)).toEqual(expect.arrayContaining([url, password, KEY]));
  });

  it('the POSTGRES_* parts make the same description', () => {
    const { config } = inspect({ ...PG, DB_HOST: 'db', DB_PORT: '6432' });
    expect(config.databaseTarget).toEqual({
      kind: 'postgres',
      from: 'POSTGRES_DB',
      user: 'tasks',
      password: PG.POSTGRES_PASSWORD,
      host: 'db',
      port: 6432,
      database: 'tasks',
    });
  });

  it.each([
    ['a percent-encoded placeholder', 'postgres://tasks:pass%77ord@db/tasks', 'config.database.password-placeholder'],
    [
      'a percent-encoded password equal to the user',
      'postgres://ta%73ks:tas%6bs@db/x',
      'config.database.password-equals-user',
    ],
    [
      'a ?password= (node-postgres uses it over the URL)',
      'postgres://tasks@db/tasks?password=changeme',
      'config.database.password-placeholder',
    ],
    [
      'a ?user= equal to the password',
      'postgres://x:Ops-owner-7@db/tasks?user=Ops-owner-7',
      'config.database.password-equals-user',
    ],
  ])('judges the password the driver will use: %s', (_name, url, id) => {
    const { findings, problems } = inspect({ ...PG, DATABASE_URL: url });
    expect(findings.map((f) => f.id)).toEqual([id]);
    expect(problems).toHaveLength(1);
  });

  it.each([
    [
      'not a URL',
      'not a url Zx81-secret-ish',
      'DATABASE_URL: is not a postgres://user:password@host:port/database URL',
    ],
    [
      'another scheme',
      'mysql://u:Zx81-secret-ish@db/x',
      'DATABASE_URL: is not a postgres://user:password@host:port/database URL',
    ],
    [
      'a stray % in the password',
      'postgres://u:Zx81%secret-ish@db/x',
      'DATABASE_URL: has a malformed percent-encoding (a "%" not followed by two hex digits) in its user, password, host or database; write a literal "%" as %25',
    ],
    [
      'a ?port= that is no port',
      'postgres://u:Zx81-secret-ish@db/x?port=5432x',
      'DATABASE_URL: is not a postgres://user:password@host:port/database URL (its port must be a whole number from 1 to 65535)',
    ],
  ])('%s is one refusal, never echoed, judged by no rule', (_name, url, message) => {
    const result = inspect({ ...PG, DATABASE_URL: url });
    expect(result.problems).toEqual([message]);
    expect(result.parseProblems).toEqual([{ setting: 'DATABASE_URL', message }]);
    // Still PostgreSQL (so the key stays required), but nothing to judge a password by.
    expect(result.config.databaseTarget).toEqual({ kind: 'postgres', from: 'DATABASE_URL' });
    expect(result.findings).toEqual([]);
    expect(result.problems.join('\n')).not.toContain('Zx81');
    expect(problemsOf({ DATABASE_URL: url })).toEqual([
      message,
      'SECRET_KEY: is not set; it is required with PostgreSQL (make one with `npm run secret`)',
    ]);
  });
});

describe('what inspectConfig gives the auditor', () => {
  it('parse problems name their variable as data, in the order of the refusal', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'value'), '8080\n');
    const result = inspect(
      {
        SECRET_KEY: KEY,
        SECRET_KEY_FILE: 'value',
        POSTGRES_PASSWORD_FILE: '/nonexistent/secret',
        PORT_FILE: 'value',
        DB_PORT: 'not-a-port',
        CORS_ALLOW_ALL_ORIGINS: 'True',
      },
      dir,
    );
    expect(result.parseProblems.map((p) => p.setting)).toEqual([
      'SECRET_KEY',
      'POSTGRES_PASSWORD_FILE',
      'DB_PORT',
      'PORT_FILE',
      'CORS_ALLOW_ALL_ORIGINS',
    ]);
    expect(result.problems).toEqual(result.parseProblems.map((p) => p.message));
  });

  it('rule findings are the same with DEBUG on or off (production judgment); only what the loader did differs', () => {
    const env = {
      ...PG,
      ALLOWED_HOSTS: '*',
      CORS_ALLOWED_ORIGINS: 'http://app.example.com,null',
      POSTGRES_PASSWORD: 'password',
      TRUST_PROXY: '2',
    };
    const production = inspect(env);
    const debug = inspect({ ...env, DEBUG: 'true' });
    const strip = ({ outcome: _outcome, ...rest }: (typeof production.findings)[number]) => rest;
    expect(debug.findings.filter((f) => f.id !== 'config.debug').map(strip)).toEqual(production.findings.map(strip));
    expect(production.findings.map((f) => `${f.id} ${f.outcome}`)).toEqual([
      'config.allowed-hosts.wildcard refused',
      'config.cors.null refused',
      'config.cors.insecure-origin warned',
      'config.database.password-placeholder refused',
      'config.trust-proxy.any warned',
    ]);
    expect(debug.findings.map((f) => `${f.id} ${f.outcome}`)).toEqual([
      'config.debug warned',
      'config.allowed-hosts.wildcard warned',
      'config.cors.null refused',
      'config.cors.insecure-origin warned',
      'config.database.password-placeholder warned',
      'config.trust-proxy.any warned',
    ]);
    expect(debug.problems).toEqual([
      'CORS_ALLOWED_ORIGINS: "null" is the origin of sandboxed frames and local files, which any page can produce; list exact origins',
    ]);
  });

  it('a rule never judges a setting that did not parse', () => {
    // TRUST_PROXY unparsed: neither "off" (cookies.not-secure) nor "any" is said about it.
    const result = inspect({ ...PG, TRUST_PROXY: '10.0.0.0/33', WEB_CONCURRENCY: 'many' });
    expect(result.parseProblems.map((p) => p.setting)).toEqual(['WEB_CONCURRENCY', 'TRUST_PROXY']);
    expect(result.findings).toEqual([]);
  });
});
