/** The configuration loader: every refusal with its exact message, secrets files, .env, and generated docs in sync. */
import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { renderEnvExample, TABLE_END, TABLE_START, withConfigTable } from '@ironclad/config/docs';
import { ConfigError, loadConfig } from '@ironclad/config/load';
import { settingNames, settings } from '@ironclad/config/schema';
import { generateSecretKey, secretKeyWeakness } from '@ironclad/config/secrets';
import { describe, expect, it } from 'vitest';
import { resolveSecretKey } from '../src/lifecycle/secret-key.js';
import { SEED_BEFORE_SETTINGS, STRONG_KEY } from './helpers.js';

const repoRoot = resolve(import.meta.dirname, '../..');
const PG = {
  POSTGRES_DB: 'tasks',
  POSTGRES_USER: 'tasks',
  POSTGRES_PASSWORD: 'Vq8-not-a-placeholder-4kd',
  SECRET_KEY: STRONG_KEY,
};

function load(env: Record<string, string | undefined>, cwd = mkdtempSync(join(tmpdir(), 'ironclad-config-'))) {
  return loadConfig({ env, cwd, dotEnv: true });
}

function problemsOf(env: Record<string, string | undefined>): string[] {
  try {
    load(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('zero configuration', () => {
  it('loads with the embedded database, production posture, and safe defaults', () => {
    const config = load({});
    expect(config.debug).toBe(false);
    expect(config.database.kind).toBe('embedded');
    expect(config.values.HOST).toBe('127.0.0.1');
    expect(config.values.PORT).toBe(8000);
    expect(config.values.ALLOWED_HOSTS).toEqual(['localhost', '127.0.0.1', '[::1]']);
    expect(config.values.CORS_ALLOWED_ORIGINS).toEqual([]);
    expect(config.values.TRUST_PROXY).toBe(false);
    expect(config.values.TOKEN_TTL).toBe(7 * 86_400_000);
    expect(config.secretKey).toBeUndefined();
    expect(config.warnings).toEqual([]);
  });

  it('generates a strong key once into DATA_DIR with owner-only permissions, then reuses it', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'ironclad-key-'));
    const config = load({}, cwd);
    const first = resolveSecretKey(config);
    expect(first.origin).toBe('generated');
    expect(secretKeyWeakness(first.key)).toBeUndefined();
    const path = join(cwd, 'data', 'secret_key');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(cwd, 'data')).mode & 0o077).toBe(0);
    chmodSync(path, 0o644);
    const second = resolveSecretKey(load({}, cwd));
    expect(second).toMatchObject({ key: first.key, origin: 'stored' });
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('refuses a stored key that has become weak', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'ironclad-key-'));
    resolveSecretKey(load({}, cwd));
    writeFileSync(join(cwd, 'data', 'secret_key'), 'short\n');
    expect(() => resolveSecretKey(load({}, cwd))).toThrow(/secret_key is too short/);
  });
});

describe('production refusals (DEBUG unset or false)', () => {
  // The seed's insecure "before" settings, one at a time and all together.
  it.each([
    [
      { ALLOWED_HOSTS: '0.0.0.0,localhost,*' },
      'ALLOWED_HOSTS: contains "*", which accepts any Host header; list your domains',
    ],
    [
      { CORS_ALLOWED_ORIGINS: '*' },
      'CORS_ALLOWED_ORIGINS: "*" would let every website call the API; list the exact origins instead',
    ],
    [
      { DOMAIN: 'tasks.example.com', ALLOWED_HOSTS: 'localhost' },
      'ALLOWED_HOSTS: does not allow DOMAIN (tasks.example.com), so every request through nginx would be refused',
    ],
    [
      { DOMAIN: 'https://tasks.example.com' },
      'DOMAIN: must be a host name such as tasks.example.com (no scheme, port, path or wildcard) (got "https://tasks.example.com")',
    ],
    [
      { CORS_ALLOWED_ORIGINS: 'null' },
      'CORS_ALLOWED_ORIGINS: "null" is the origin of sandboxed frames and local files, which any page can produce; list exact origins',
    ],
    [
      { CORS_ALLOWED_ORIGINS: 'https://app.example.com/' },
      'CORS_ALLOWED_ORIGINS: "https://app.example.com/" is not an exact origin (no path, trailing slash, query, user or default port; lower case); did you mean "https://app.example.com"?',
    ],
    [
      { CORS_ALLOWED_ORIGINS: 'app.example.com' },
      'CORS_ALLOWED_ORIGINS: "app.example.com" is not an origin; write it as scheme://host[:port], e.g. https://tasks.example.com',
    ],
    [
      { CORS_ALLOWED_ORIGINS: 'ftp://files.example.com' },
      'CORS_ALLOWED_ORIGINS: "ftp://files.example.com" is not an http(s) origin',
    ],
    [
      { CORS_ALLOWED_ORIGIN: 'x', CORS_ALLOW_ALL_ORIGINS: 'True' },
      'CORS_ALLOW_ALL_ORIGINS is not supported: a wildcard CORS policy lets any website call the API; list origins in CORS_ALLOWED_ORIGINS',
    ],
    [
      { SECRET_KEY: 'local-dev-secret-key' },
      'SECRET_KEY: is a known placeholder value; make one with `npm run secret`',
    ],
    [
      { SECRET_KEY: 'your-long-random-secret-key-here' },
      'SECRET_KEY: is a known placeholder value; make one with `npm run secret`',
    ],
    [
      { SECRET_KEY: 'x'.repeat(49).replace(/x/g, (_, i) => 'abcdefghij'[i % 10] as string) },
      'SECRET_KEY: is too short (49 characters; at least 50 needed); make one with `npm run secret`',
    ],
    [
      { SECRET_KEY: 'abcd'.repeat(20) },
      'SECRET_KEY: has too few distinct characters (at least 5 needed); make one with `npm run secret`',
    ],
    [{ SECRET_KEY_FALLBACKS: `${STRONG_KEY},changeme` }, 'SECRET_KEY_FALLBACKS: entry 2 is a known placeholder value'],
    [
      { ...PG, POSTGRES_PASSWORD: 'password' },
      'POSTGRES_PASSWORD: is a known placeholder value; set a strong password',
    ],
    [
      { ...PG, POSTGRES_PASSWORD: 'your-db-password' },
      'POSTGRES_PASSWORD: is a known placeholder value; set a strong password',
    ],
    [{ ...PG, POSTGRES_PASSWORD: 'tasks' }, 'POSTGRES_PASSWORD: equals the user name; set a strong password'],
    [
      { DATABASE_URL: 'postgres://cp_user:password@db:5432/task_db', SECRET_KEY: STRONG_KEY },
      'POSTGRES_PASSWORD: is a known placeholder value; set a strong password',
    ],
    [
      { POSTGRES_DB: 'task_db' },
      'SECRET_KEY: is not set; it is required with PostgreSQL (make one with `npm run secret`)',
    ],
  ])('%o is refused', (env, message) => {
    expect(problemsOf(env)).toContain(message);
  });

  it('reports every problem at once, in one message, naming each variable', () => {
    const env = { ...SEED_BEFORE_SETTINGS, DB_PORT: 'not-a-port' };
    let error: unknown;
    try {
      load(env);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    expect(message).toMatch(/^Refusing to start: 5 configuration problems\.\n/);
    for (const name of ['SECRET_KEY', 'ALLOWED_HOSTS', 'CORS_ALLOWED_ORIGINS', 'POSTGRES_PASSWORD', 'DB_PORT']) {
      expect(message).toContain(`  - ${name}`);
    }
    expect(message).toContain('DB_PORT: must be a whole number from 1 to 65535 (got "not-a-port")');
  });

  it('never puts a secret value into a message', () => {
    const secretish = 'S3cr3t-VALUE-that-must-not-leak';
    const problems = problemsOf({
      SECRET_KEY: secretish,
      SECRET_KEY_FALLBACKS: secretish,
      DATABASE_URL: `not a url ${secretish}`,
    });
    expect(problems.length).toBeGreaterThanOrEqual(3);
    expect(problems.join('\n')).not.toContain(secretish);
    expect(problems.join('\n')).not.toContain('S3cr3t');
    expect(problems).toContain('DATABASE_URL: is not a postgres://user:password@host:port/database URL');
  });

  it('with DEBUG on the same settings start, with warnings (except what is never acceptable)', () => {
    const config = load({ DEBUG: 'True', ALLOWED_HOSTS: '*', SECRET_KEY: 'local-dev-secret-key' });
    expect(config.debug).toBe(true);
    expect(config.warnings).toEqual([
      'DEBUG is on: production refusals are only warnings and 500 answers carry detail',
      'ALLOWED_HOSTS: contains "*", which accepts any Host header; list your domains',
      'SECRET_KEY: is a known placeholder value; make one with `npm run secret`',
    ]);
    expect(problemsOf({ DEBUG: 'true', CORS_ALLOWED_ORIGINS: '*' })).toHaveLength(1);
  });

  it('accepts a proper production configuration', () => {
    const config = load({
      ...PG,
      ALLOWED_HOSTS: 'tasks.example.com,.example.org',
      CORS_ALLOWED_ORIGINS: 'https://tasks.example.com,http://localhost:5173',
      TRUST_PROXY: '10.0.0.0/8,loopback',
      DB_HOST: 'db',
    });
    expect(config.database).toEqual({
      kind: 'postgres',
      host: 'db',
      port: 5432,
      user: 'tasks',
      password: PG.POSTGRES_PASSWORD,
      database: 'tasks',
    });
    expect(config.values.TRUST_PROXY).toEqual(['10.0.0.0/8', 'loopback']);
    expect(config.warnings).toEqual([]);
  });

  it('DATABASE_URL wins over the POSTGRES_* parts', () => {
    const url = 'postgres://app:Xk29-strong-pass@db.internal:6432/app?sslmode=require';
    const config = load({ ...PG, DATABASE_URL: url });
    expect(config.database).toEqual({ kind: 'postgres', connectionString: url });
  });

  it.each([
    [
      'ALLOWED_HOSTS',
      'example.com:8000',
      'ALLOWED_HOSTS: "example.com:8000" carries a port or scheme; list host names only',
    ],
    ['ALLOWED_HOSTS', 'exa mple.com', 'ALLOWED_HOSTS: "exa mple.com" is not a valid host name'],
    ['ALLOWED_HOSTS', ',', 'ALLOWED_HOSTS: lists no host, so every request would be refused'],
    ['DEBUG', 'maybe', 'DEBUG: must be true or false (got "maybe")'],
    ['PORT', '70000', 'PORT: must be a whole number from 0 to 65535 (got "70000")'],
    ['TOKEN_TTL', '10x', 'TOKEN_TTL: must be a duration such as 30s, 15m, 12h or 7d (got "10x")'],
    ['RATE_LIMIT_LOGIN', '10', 'RATE_LIMIT_LOGIN: must look like 10/15m (attempts per window) (got "10")'],
    ['LOG_LEVEL', 'loud', 'LOG_LEVEL: must be one of: fatal, error, warn, info, debug, trace, silent (got "loud")'],
    [
      'WEB_CONCURRENCY',
      '2',
      'WEB_CONCURRENCY: must be 1 with the embedded database, which only one process may open; use PostgreSQL to run several',
    ],
    ['HOST', 'example.com', 'HOST: must be an IP address or localhost (got "example.com")'],
    [
      'TRUST_PROXY',
      '10.0.0.0/33',
      'TRUST_PROXY: must be false, true, a number of proxy hops, or a comma-separated list of proxy addresses/CIDRs (or loopback, linklocal, uniquelocal) (got "10.0.0.0/33")',
    ],
  ])('%s=%s is refused with a clear message', (name, value, message) => {
    expect(problemsOf({ [name]: value })).toEqual([message]);
  });

  it('warns about TRUST_PROXY=true and plain-HTTP remote origins', () => {
    const config = load({ TRUST_PROXY: 'true', CORS_ALLOWED_ORIGINS: 'http://app.example.com' });
    expect(config.warnings).toEqual([
      'CORS_ALLOWED_ORIGINS: "http://app.example.com" is not HTTPS',
      'TRUST_PROXY: is true, so any client can forge its address; list the proxy addresses instead',
    ]);
  });
});

describe('DOMAIN (the deployment’s host name)', () => {
  it('is accepted when ALLOWED_HOSTS allows it, exactly or through a .domain pattern', () => {
    for (const hosts of ['tasks.example.com', '.example.com', 'localhost,TASKS.example.com.']) {
      const env = { DOMAIN: 'tasks.example.com', ALLOWED_HOSTS: hosts, DATA_DIR: 'memory://', DEBUG: 'true' };
      const config = loadConfig({ env, dotEnv: false });
      expect(config.values.DOMAIN).toBe('tasks.example.com');
    }
  });
});

describe('where values come from', () => {
  it('an empty string counts as unset', () => {
    const config = load({ PORT: '', ALLOWED_HOSTS: '', SECRET_KEY: '', POSTGRES_DB: '' });
    expect(config.values.PORT).toBe(8000);
    expect(config.values.ALLOWED_HOSTS).toEqual(['localhost', '127.0.0.1', '[::1]']);
    expect(config.database.kind).toBe('embedded');
  });

  it('reads <NAME>_FILE, stripping one trailing newline', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ironclad-secrets-'));
    writeFileSync(join(dir, 'key'), `${STRONG_KEY}\n`);
    writeFileSync(join(dir, 'password'), 'pass-with-newline\n\n');
    const config = load({
      ...PG,
      SECRET_KEY: undefined,
      POSTGRES_PASSWORD: undefined,
      SECRET_KEY_FILE: join(dir, 'key'),
      POSTGRES_PASSWORD_FILE: join(dir, 'password'),
    });
    expect(config.secretKey).toBe(STRONG_KEY);
    expect(config.database).toMatchObject({ password: 'pass-with-newline\n' });
    expect(config.sources.SECRET_KEY).toBe('file');
  });

  it('refuses both NAME and NAME_FILE, unreadable files, and _FILE for non-secrets', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'ironclad-secrets-')), 'value');
    writeFileSync(file, '8080\n');
    const problems = problemsOf({
      SECRET_KEY: STRONG_KEY,
      SECRET_KEY_FILE: file,
      POSTGRES_PASSWORD_FILE: '/nonexistent/secret',
      PORT_FILE: file,
    });
    expect(problems).toEqual([
      'SECRET_KEY and SECRET_KEY_FILE are both set; keep one',
      'POSTGRES_PASSWORD_FILE: cannot read "/nonexistent/secret" (ENOENT)',
      'PORT_FILE: PORT cannot be read from a file; set PORT itself',
    ]);
  });

  it('reads .env from the working directory; real environment variables win', () => {
    const cwd = mkdtempSync(join(tmpdir(), 'ironclad-dotenv-'));
    writeFileSync(
      join(cwd, '.env'),
      'PORT=9001\nLOG_LEVEL=debug\n# a comment\nALLOWED_HOSTS="a.example.com,b.example.com"\n',
    );
    const config = load({ PORT: '9002' }, cwd);
    expect(config.values.PORT).toBe(9002);
    expect(config.values.LOG_LEVEL).toBe('debug');
    expect(config.values.ALLOWED_HOSTS).toEqual(['a.example.com', 'b.example.com']);
    expect(config.sources.LOG_LEVEL).toBe('.env');
    expect(config.sources.PORT).toBe('env');
  });
});

describe('secrets', () => {
  it('npm run secret makes keys that pass the checks and differ each time', () => {
    const keys = new Set(Array.from({ length: 20 }, generateSecretKey));
    expect(keys.size).toBe(20);
    for (const key of keys) {
      expect(key).toMatch(/^[A-Za-z0-9_-]{64}$/);
      expect(secretKeyWeakness(key)).toBeUndefined();
    }
  });
});

describe('generated documentation', () => {
  it('.env.example is exactly what the schema generates', () => {
    expect(readFileSync(join(repoRoot, '.env.example'), 'utf8')).toBe(renderEnvExample());
  });

  it('.env.example names every setting and holds no secret value', () => {
    const example = renderEnvExample();
    for (const name of settingNames) expect(example).toMatch(new RegExp(`^(# )?${name}=`, 'm'));
    for (const line of example.split('\n')) {
      const match = /^(?:# )?([A-Z_]+)=(.*?)(\s+#.*)?$/.exec(line);
      if (!match) continue;
      const definition = settings[match[1] as keyof typeof settings];
      if (!('secret' in definition && definition.secret) || match[2] === '') continue;
      // A connection URL (DATABASE_URL, SMTP_URL) is shown for its shape: commented out, its password a placeholder.
      expect(line, line).toMatch(/^# /);
      expect(new URL(match[2] as string).password, line).toBe('change-me');
    }
  });

  it.each(['README.md', 'docs/configuration.md'])(
    'the configuration table in %s is what the schema generates',
    (file) => {
      const text = readFileSync(join(repoRoot, file), 'utf8');
      expect(text).toContain(TABLE_START);
      expect(text).toContain(TABLE_END);
      expect(text).toBe(withConfigTable(text));
    },
  );
});
