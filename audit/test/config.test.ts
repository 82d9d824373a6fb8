import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfig } from '@ironclad/config/load';
import { SEED_BEFORE_SETTINGS, STRONG_KEY } from '@ironclad/testkit/accounts';
import { afterAll, describe, expect, it } from 'vitest';
import { auditConfig } from '../src/config-checks.js';
import { CHECKS, type CheckId } from '../src/findings.js';
import { CLEAN_PRODUCTION, randomKey, removeTempDirs, tempDir } from './fixtures.js';

afterAll(removeTempDirs);

/** A production configuration with nothing to report. */
const CLEAN: Record<string, string> = { ...CLEAN_PRODUCTION };

function audit(env: Record<string, string>, cwd = tempDir()) {
  return auditConfig({ env, cwd });
}
const ids = (env: Record<string, string>) => audit(env).findings.map((f) => f.id);

describe('config audit', () => {
  const fired = new Set<string>();
  const expectOnly = (env: Record<string, string>, expected: CheckId[]) => {
    const found = ids(env);
    for (const id of found) fired.add(id);
    expect(found.sort()).toEqual([...expected].sort());
  };

  it('a production configuration comes out clean (and the server itself would start with it)', () => {
    expect(ids(CLEAN)).toEqual([]);
    expect(() => loadConfig({ env: CLEAN, dotEnv: false })).not.toThrow();
  });

  // Every refusal is covered by a specific finding here, so no generic config.refused is added.
  it("reports the seed's before settings instead of dying on the loader's refusal", () => {
    expect(() => loadConfig({ env: SEED_BEFORE_SETTINGS, dotEnv: false })).toThrow(/Refusing to start/);
    const found = audit(SEED_BEFORE_SETTINGS).findings;
    for (const f of found) fired.add(f.id);
    expect(found.map((f) => f.id).sort()).toEqual(
      [
        'config.allowed-hosts.wildcard',
        'config.cookies.not-secure',
        'config.cors.wildcard',
        'config.database.password-placeholder',
        'config.secret-key.weak',
        // The seed sent no email either: nobody who forgot a password could get back in.
        'config.email.disabled',
      ].sort(),
    );
  });

  it.each<[string, Record<string, string>, CheckId[]]>([
    ['DEBUG on', { DEBUG: 'true' }, ['config.debug']],
    ['a short key', { SECRET_KEY: randomKey(20) }, ['config.secret-key.weak']],
    ['a low-variety key', { SECRET_KEY: 'ab'.repeat(40) }, ['config.secret-key.weak']],
    ['a placeholder key', { SECRET_KEY: 'your-long-random-secret-key-here' }, ['config.secret-key.weak']],
    ['a weak fallback', { SECRET_KEY_FALLBACKS: `${STRONG_KEY}x,changeme` }, ['config.secret-key-fallback.weak']],
    ['the key as its own fallback', { SECRET_KEY_FALLBACKS: STRONG_KEY }, ['config.secret-key-fallback.same-as-key']],
    ['a wildcard host', { ALLOWED_HOSTS: 'tasks.example.com,*' }, ['config.allowed-hosts.wildcard']],
    // Hosts that no longer allow PUBLIC_URL's (tasks.example.com): its reset links would point at a refused host.
    ['no host', { ALLOWED_HOSTS: ',' }, ['config.allowed-hosts.empty', 'config.email.public-url-host']],
    [
      'loopback hosts only',
      { ALLOWED_HOSTS: 'localhost,127.0.0.1' },
      ['config.allowed-hosts.local-only', 'config.email.public-url-host'],
    ],
    ['a CORS wildcard', { CORS_ALLOWED_ORIGINS: '*' }, ['config.cors.wildcard']],
    ['a null origin', { CORS_ALLOWED_ORIGINS: 'null' }, ['config.cors.null']],
    ['a malformed origin', { CORS_ALLOWED_ORIGINS: 'https://tasks.example.com/' }, ['config.cors.malformed']],
    ['a plain-HTTP origin', { CORS_ALLOWED_ORIGINS: 'http://tasks.example.com' }, ['config.cors.insecure-origin']],
    ['a localhost origin', { CORS_ALLOWED_ORIGINS: 'http://localhost:5173' }, ['config.cors.local-origin']],
    ['TRUST_PROXY off', { TRUST_PROXY: 'false' }, ['config.cookies.not-secure']],
    ['TRUST_PROXY true', { TRUST_PROXY: 'true' }, ['config.trust-proxy.any']],
    ['TRUST_PROXY a hop count', { TRUST_PROXY: '1' }, ['config.trust-proxy.any']],
    ['TRUST_PROXY a private range', { TRUST_PROXY: 'uniquelocal' }, ['config.trust-proxy.range']],
    ['a placeholder DB password', { POSTGRES_PASSWORD: 'your-db-password' }, ['config.database.password-placeholder']],
    [
      'the DB password = user',
      { POSTGRES_USER: 'taskowner', POSTGRES_PASSWORD: 'taskowner' },
      ['config.database.password-equals-user'],
    ],
    ['no DB password', { POSTGRES_PASSWORD: '' }, ['config.database.password-empty']],
    ['a malformed duration (a refusal with no specific check)', { DB_QUERY_TIMEOUT: 'soon' }, ['config.refused']],
    [
      'an ALLOWED_HOSTS entry with a port',
      { ALLOWED_HOSTS: 'tasks.example.com:443' },
      ['config.allowed-hosts.invalid', 'config.email.public-url-host'],
    ],
    ['a DOMAIN that ALLOWED_HOSTS does not allow', { DOMAIN: 'other.example.com' }, ['config.allowed-hosts.domain']],
    // The refusal used to be hidden behind the info finding on the same setting: the audit passed, the server refused.
    [
      'a DOMAIN behind loopback-only hosts',
      { ALLOWED_HOSTS: 'localhost', DOMAIN: 'tasks.example.com' },
      ['config.allowed-hosts.local-only', 'config.allowed-hosts.domain', 'config.email.public-url-host'],
    ],
    ['PostgreSQL without a key', { SECRET_KEY: '' }, ['config.secret-key.missing']],
    [
      'a key captured with build output',
      { SECRET_KEY: `> ironclad-tasks@0.1.0 secret\n${STRONG_KEY}` },
      ['config.secret-key.whitespace'],
    ],
    [
      'a fallback with a tab inside',
      { SECRET_KEY_FALLBACKS: `${randomKey(60)}\t${randomKey(8)}` },
      ['config.secret-key-fallback.whitespace'],
    ],
    [
      'a wildcard host hides no other refusal',
      { ALLOWED_HOSTS: '*,tasks.example.com:80' },
      ['config.allowed-hosts.wildcard', 'config.allowed-hosts.invalid'],
    ],
    [
      'a DATABASE_URL password given as ?password= (node-postgres uses it)',
      { DATABASE_URL: 'postgres://tasks@db:5432/tasks?password=changeme' },
      ['config.database.password-placeholder'],
    ],
    [
      'a malformed DATABASE_URL is one refusal, not also an empty password',
      { DATABASE_URL: 'postgres://tasks:%zz@db/tasks' },
      ['config.refused'],
    ],
    ['no SMTP_URL: password reset by email is disabled', { SMTP_URL: '' }, ['config.email.disabled']],
    ['SMTP_URL without PUBLIC_URL', { PUBLIC_URL: '' }, ['config.email.public-url-missing']],
    [
      'a PUBLIC_URL on a host ALLOWED_HOSTS does not allow',
      { PUBLIC_URL: 'https://tasks.example.net' },
      ['config.email.public-url-host'],
    ],
    ['a plain-HTTP PUBLIC_URL', { PUBLIC_URL: 'http://tasks.example.com' }, ['config.email.public-url-http']],
    [
      'plain-text SMTP to a relay across the network',
      { SMTP_URL: `smtp://tasks:${randomKey(24)}@smtp.example.com:25?tls=none` },
      ['config.email.smtp-plaintext'],
    ],
    // Refused as written (smtps:// is TLS already): one refusal, and no email rule judges what did not parse.
    [
      'a malformed SMTP_URL',
      { SMTP_URL: `smtps://tasks:${randomKey(24)}@smtp.example.com?tls=none` },
      ['config.refused'],
    ],
  ])('%s', (_name, change, expected) => {
    expectOnly({ ...CLEAN, ...change }, expected);
  });

  it('the embedded database in production', () => {
    const env = { ...CLEAN };
    for (const name of ['POSTGRES_DB', 'POSTGRES_USER', 'POSTGRES_PASSWORD', 'DB_HOST']) delete env[name];
    expectOnly({ ...env, DATA_DIR: 'memory://' }, ['config.database.embedded']);
  });

  it('several processes on the embedded database', () => {
    const env: Record<string, string> = { ...CLEAN, WEB_CONCURRENCY: '2', DATA_DIR: 'memory://' };
    for (const name of ['POSTGRES_DB', 'POSTGRES_USER', 'POSTGRES_PASSWORD', 'DB_HOST']) delete env[name];
    expectOnly(env, ['config.database.embedded', 'config.web-concurrency.embedded']);
  });

  it('DATABASE_URL passwords are judged like POSTGRES_PASSWORD', () => {
    const env = { ...CLEAN, DATABASE_URL: 'postgres://tasks:password@db:5432/tasks' };
    expectOnly(env, ['config.database.password-placeholder']);
    expectOnly({ ...CLEAN, DATABASE_URL: `postgres://tasks:${randomKey(24)}@db:5432/tasks` }, []);
  });

  it('sees what the server sees: .env in the audited directory and *_FILE secrets', () => {
    const dir = tempDir();
    const keyFile = join(dir, 'secret_key');
    writeFileSync(keyFile, 'changeme\n');
    writeFileSync(join(dir, '.env'), 'DEBUG=true\nSECRET_KEY_FILE=./secret_key\n');
    const env = { ...CLEAN };
    delete env.SECRET_KEY;
    const found = audit(env, dir).findings.map((f) => f.id);
    expect(found).toEqual(expect.arrayContaining(['config.debug', 'config.secret-key.weak']));
    writeFileSync(join(dir, '.env'), 'SECRET_KEY_FILE=./missing\n');
    const refused = audit(env, dir).findings;
    expect(refused.map((f) => `${f.id} ${f.message}`)).toEqual([
      'config.refused the server would refuse to start: SECRET_KEY_FILE: cannot read "./missing" (ENOENT)',
      // A refusal with its own rule now has its own ID (it used to be config.refused); the message is the loader's.
      'config.secret-key.missing SECRET_KEY: is not set; it is required with PostgreSQL (make one with `npm run secret`)',
    ]);
  });

  it('collects every secret value (schema-marked settings, fallbacks, the DATABASE_URL password) for redaction', () => {
    const password = randomKey(30);
    const fallback = randomKey(60);
    const { secretValues } = audit({
      ...CLEAN,
      SECRET_KEY_FALLBACKS: fallback,
      DATABASE_URL: `postgres://tasks:${password}@db/tasks`,
    });
    expect(secretValues).toEqual(expect.arrayContaining([STRONG_KEY, fallback, password]));
  });

  it('no finding message carries a secret value', () => {
    const key = `django-insecure-${randomKey(30)}`;
    const all = audit({ ...SEED_BEFORE_SETTINGS, SECRET_KEY: key, SECRET_KEY_FALLBACKS: 'abc' }).findings;
    const text = JSON.stringify(all);
    expect(text).not.toContain(key.slice(16, 22));
    expect(text).not.toContain('local-dev');
  });

  it('every config check ID fired on some fixture above', () => {
    const configIds = Object.keys(CHECKS).filter((id) => id.startsWith('config.'));
    // config.hsts.weak guards the API's own helmet settings (security-headers.ts); no env can trigger it.
    expect(configIds.filter((id) => !fired.has(id) && id !== 'config.hsts.weak')).toEqual([]);
  });
});
