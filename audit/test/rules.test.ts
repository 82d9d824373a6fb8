/**
 * The settings' security rules (@ironclad/config/rules) are one table read by two consumers: the loader, which
 * refuses or warns at start, and the auditor, which reports findings under the same IDs. For every rule, settings
 * that trigger it and near misses that do not are run through both; they must agree on the ID, the messages, the
 * location and the severity, and the loader must act as the rule's effect says. The CHECKS registry (and so
 * docs/audit.md) must hold exactly the rules plus the auditor's own two configuration checks.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, inspectConfig, loadConfig } from '@ironclad/config/load';
import { type Effect, PARSE_PROBLEM, RULES, type RuleId } from '@ironclad/config/rules';
import { STRONG_KEY } from '@ironclad/testkit/accounts';
import { REPO } from '@ironclad/testkit/gate';
import { afterAll, describe, expect, it } from 'vitest';
import { auditConfig } from '../src/config-checks.js';
import { CHECKS } from '../src/findings.js';
import { CLEAN_PRODUCTION, randomKey, removeTempDirs, tempDir } from './fixtures.js';

afterAll(removeTempDirs);

type Env = Record<string, string | undefined>;

/** Production on PostgreSQL with nothing for any rule to find. */
const CLEAN: Env = { ...CLEAN_PRODUCTION };
const EMBEDDED: Env = {
  POSTGRES_DB: undefined,
  POSTGRES_USER: undefined,
  POSTGRES_PASSWORD: undefined,
  DB_HOST: undefined,
  DATA_DIR: 'memory://',
};
const [KEY_A, KEY_B] = [randomKey(64), randomKey(64)];

/**
 * For each rule: what the server does at start (pinned here, so that a change of posture is a visible decision),
 * settings (over CLEAN; undefined removes one) that trigger it, and near misses that do not.
 */
const EXAMPLES: Record<RuleId, { start: Effect; triggers: Env[]; clean: Env[] }> = {
  'config.debug': {
    start: 'warn',
    triggers: [{ DEBUG: 'true' }, { DEBUG: 'on' }],
    clean: [{ DEBUG: 'false' }],
  },
  'config.allowed-hosts.empty': {
    start: 'refuse',
    triggers: [{ ALLOWED_HOSTS: ',' }],
    clean: [{ ALLOWED_HOSTS: 'tasks.example.com' }],
  },
  'config.allowed-hosts.invalid': {
    start: 'refuse',
    triggers: [
      { ALLOWED_HOSTS: 'tasks.example.com:443' },
      { ALLOWED_HOSTS: 'https://tasks.example.com' },
      { ALLOWED_HOSTS: 'tasks.example.com,exa mple.com' },
    ],
    clean: [{ ALLOWED_HOSTS: 'tasks.example.com,.example.org,[::1]' }],
  },
  'config.allowed-hosts.wildcard': {
    start: 'refuse-unless-debug',
    triggers: [{ ALLOWED_HOSTS: 'tasks.example.com,*' }],
    clean: [{ ALLOWED_HOSTS: '.example.com' }],
  },
  'config.allowed-hosts.domain': {
    start: 'refuse',
    triggers: [{ DOMAIN: 'other.example.com' }, { ALLOWED_HOSTS: 'localhost', DOMAIN: 'tasks.example.com' }],
    clean: [{ DOMAIN: 'tasks.example.com' }, { ALLOWED_HOSTS: '.example.com', DOMAIN: 'www.example.com' }],
  },
  'config.allowed-hosts.local-only': {
    start: 'audit',
    triggers: [{ ALLOWED_HOSTS: 'localhost,127.0.0.1,[::1]' }],
    clean: [{ ALLOWED_HOSTS: 'localhost,tasks.example.com' }],
  },
  'config.cors.wildcard': {
    start: 'refuse',
    triggers: [{ CORS_ALLOWED_ORIGINS: '*' }],
    clean: [{ CORS_ALLOWED_ORIGINS: '' }],
  },
  'config.cors.null': {
    start: 'refuse',
    triggers: [{ CORS_ALLOWED_ORIGINS: 'https://tasks.example.com,null' }, { CORS_ALLOWED_ORIGINS: 'NULL' }],
    clean: [{ CORS_ALLOWED_ORIGINS: 'https://null.example.com' }],
  },
  'config.cors.malformed': {
    start: 'refuse',
    triggers: [
      { CORS_ALLOWED_ORIGINS: 'https://tasks.example.com/' },
      { CORS_ALLOWED_ORIGINS: 'tasks.example.com' },
      { CORS_ALLOWED_ORIGINS: 'ftp://files.example.com' },
    ],
    clean: [{ CORS_ALLOWED_ORIGINS: 'https://tasks.example.com:8443' }],
  },
  'config.cors.insecure-origin': {
    start: 'warn',
    triggers: [{ CORS_ALLOWED_ORIGINS: 'http://tasks.example.com' }],
    clean: [{ CORS_ALLOWED_ORIGINS: 'https://tasks.example.com' }],
  },
  'config.cors.local-origin': {
    start: 'audit',
    triggers: [{ CORS_ALLOWED_ORIGINS: 'http://localhost:5173' }, { CORS_ALLOWED_ORIGINS: 'https://127.0.0.1' }],
    clean: [{ CORS_ALLOWED_ORIGINS: 'https://localhost.example.com' }],
  },
  'config.database.embedded': {
    start: 'audit',
    triggers: [EMBEDDED],
    clean: [{}],
  },
  'config.database.password-placeholder': {
    start: 'refuse-unless-debug',
    triggers: [
      { POSTGRES_PASSWORD: 'your-db-password' },
      { DATABASE_URL: 'postgres://tasks:pass%77ord@db/tasks' },
      { DATABASE_URL: 'postgres://tasks@db/tasks?password=changeme' },
    ],
    clean: [
      { POSTGRES_PASSWORD: 'passwordless-Xq9-long' },
      // Decodes to "pass%77ord", not "password".
      { DATABASE_URL: 'postgres://tasks:pass%2577ord@db/tasks' },
    ],
  },
  'config.database.password-equals-user': {
    start: 'refuse-unless-debug',
    triggers: [
      { POSTGRES_USER: 'taskowner', POSTGRES_PASSWORD: 'taskowner' },
      { DATABASE_URL: 'postgres://ta%73ks:tas%6bs@db/x' },
    ],
    clean: [{ POSTGRES_USER: 'taskowner', POSTGRES_PASSWORD: 'taskowner-9Xq' }],
  },
  'config.database.password-empty': {
    start: 'audit',
    triggers: [{ POSTGRES_PASSWORD: undefined }, { DATABASE_URL: 'postgres://tasks@db/tasks' }],
    clean: [{ DATABASE_URL: `postgres://tasks:${randomKey(24)}@db/tasks` }],
  },
  'config.secret-key.missing': {
    start: 'refuse',
    triggers: [{ SECRET_KEY: undefined }, { SECRET_KEY: '' }],
    // The embedded database generates its own.
    clean: [{ ...EMBEDDED, SECRET_KEY: undefined }],
  },
  'config.secret-key.whitespace': {
    start: 'refuse',
    triggers: [
      { SECRET_KEY: `> ironclad-tasks@0.1.0 secret\n> node config/dist/cli.js secret\n\n${KEY_A}` },
      { SECRET_KEY: `${KEY_A}\t` },
      { SECRET_KEY: `${KEY_A.slice(0, 32)} ${KEY_A.slice(32)}` },
    ],
    clean: [{ SECRET_KEY: KEY_A }],
  },
  'config.secret-key.weak': {
    start: 'refuse-unless-debug',
    triggers: [{ SECRET_KEY: 'changeme' }, { SECRET_KEY: randomKey(20) }, { SECRET_KEY: 'ab'.repeat(40) }],
    clean: [{ SECRET_KEY: randomKey(50) }],
  },
  'config.secret-key-fallback.whitespace': {
    start: 'refuse',
    triggers: [{ SECRET_KEY_FALLBACKS: `${KEY_A}\n${KEY_B}` }, { SECRET_KEY_FALLBACKS: `${KEY_A},${KEY_B} x` }],
    clean: [{ SECRET_KEY_FALLBACKS: ` ${KEY_A} , ${KEY_B} ` }],
  },
  'config.secret-key-fallback.weak': {
    start: 'refuse-unless-debug',
    triggers: [{ SECRET_KEY_FALLBACKS: `${KEY_A},changeme` }],
    clean: [{ SECRET_KEY_FALLBACKS: KEY_A }],
  },
  'config.secret-key-fallback.same-as-key': {
    start: 'audit',
    triggers: [{ SECRET_KEY_FALLBACKS: `${KEY_A},${STRONG_KEY}` }],
    clean: [{ SECRET_KEY_FALLBACKS: KEY_A }],
  },
  'config.web-concurrency.embedded': {
    start: 'refuse',
    triggers: [{ ...EMBEDDED, WEB_CONCURRENCY: '2' }],
    clean: [{ WEB_CONCURRENCY: '4' }, { ...EMBEDDED, WEB_CONCURRENCY: '1' }],
  },
  // The decision: a hop count is judged as `true` (it believes whoever connects), by the loader and the auditor alike.
  'config.trust-proxy.any': {
    start: 'warn',
    triggers: [{ TRUST_PROXY: 'true' }, { TRUST_PROXY: '1' }, { TRUST_PROXY: '3' }],
    clean: [{ TRUST_PROXY: 'loopback,10.0.0.0/8' }, { TRUST_PROXY: '0' }],
  },
  'config.cookies.not-secure': {
    start: 'audit',
    triggers: [{ TRUST_PROXY: 'false' }, { TRUST_PROXY: undefined }],
    clean: [{ TRUST_PROXY: 'uniquelocal' }],
  },
  'config.trust-proxy.range': {
    start: 'audit',
    triggers: [
      { TRUST_PROXY: 'uniquelocal' },
      { TRUST_PROXY: 'loopback' },
      { TRUST_PROXY: '10.89.0.2,10.0.0.0/8' },
      { TRUST_PROXY: 'fd00::/64' },
    ],
    clean: [
      { TRUST_PROXY: '10.89.0.2' },
      { TRUST_PROXY: '127.0.0.1,::1' },
      { TRUST_PROXY: '10.89.0.2/32' },
      { TRUST_PROXY: 'true' },
      { TRUST_PROXY: 'false' },
    ],
  },
  'config.email.public-url-missing': {
    start: 'refuse-unless-debug',
    triggers: [{ PUBLIC_URL: undefined }, { PUBLIC_URL: '' }],
    // Without a relay no link is ever sent: nothing to build one from.
    clean: [{ PUBLIC_URL: undefined, SMTP_URL: undefined }],
  },
  'config.email.public-url-host': {
    start: 'refuse-unless-debug',
    triggers: [
      { PUBLIC_URL: 'https://tasks.example.net' },
      // The host, not a prefix of it: a look-alike under someone else's domain is not allowed.
      { PUBLIC_URL: 'https://tasks.example.com.attacker.example' },
      { ALLOWED_HOSTS: '.example.com', PUBLIC_URL: 'https://tasks.notexample.com' },
      { ALLOWED_HOSTS: 'tasks.example.com', PUBLIC_URL: 'https://www.tasks.example.com:8443' },
    ],
    clean: [
      // A port and a path prefix are not part of the host ALLOWED_HOSTS judges.
      { PUBLIC_URL: 'https://tasks.example.com:8443/tasks/' },
      { PUBLIC_URL: 'https://TASKS.example.com' },
      { ALLOWED_HOSTS: '.example.com', PUBLIC_URL: 'https://tasks.example.com' },
      { ALLOWED_HOSTS: '.example.com', PUBLIC_URL: 'https://example.com:8443' },
      { ALLOWED_HOSTS: 'localhost,[::1]', PUBLIC_URL: 'http://[::1]:8000' },
    ],
  },
  'config.email.public-url-http': {
    start: 'refuse-unless-debug',
    triggers: [{ PUBLIC_URL: 'http://tasks.example.com' }, { PUBLIC_URL: 'http://tasks.example.com:8080/tasks' }],
    clean: [
      { PUBLIC_URL: 'https://tasks.example.com' },
      { ALLOWED_HOSTS: 'localhost', PUBLIC_URL: 'http://localhost:8000' },
      { ALLOWED_HOSTS: '127.0.0.1', PUBLIC_URL: 'http://127.0.0.1:8000' },
      { ALLOWED_HOSTS: '[::1]', PUBLIC_URL: 'http://[::1]:8000' },
    ],
  },
  'config.email.smtp-plaintext': {
    start: 'refuse-unless-debug',
    triggers: [
      { SMTP_URL: `smtp://tasks:${KEY_A}@smtp.example.com:25?tls=none` },
      // A relay container on the compose network is across a network too.
      { SMTP_URL: 'smtp://relay:25?tls=none' },
      { SMTP_URL: `smtp://tasks:${KEY_B}@10.89.0.9:2525?tls=none` },
      // Resolved by the server through DNS, not by a browser: only `localhost` itself counts as loopback.
      { SMTP_URL: 'smtp://mail.localhost:25?tls=none' },
    ],
    clean: [
      { SMTP_URL: `smtp://tasks:${KEY_A}@127.0.0.1:25?tls=none` },
      { SMTP_URL: 'smtp://[::1]:2525?tls=none' },
      { SMTP_URL: 'smtp://localhost?tls=none' },
      // TLS, implicit or STARTTLS (required), to any relay.
      { SMTP_URL: `smtp://tasks:${KEY_A}@smtp.example.com:587` },
      { SMTP_URL: `smtps://tasks:${KEY_A}@smtp.example.com` },
    ],
  },
  'config.email.disabled': {
    start: 'audit',
    triggers: [{ SMTP_URL: undefined }, { SMTP_URL: '', PUBLIC_URL: undefined }],
    clean: [{}, { SMTP_URL: `smtp://tasks:${KEY_A}@127.0.0.1:25?tls=none` }],
  },
};

function envOf(change: Env, debug?: boolean): Record<string, string> {
  const env: Env = { ...CLEAN, ...change };
  if (debug !== undefined) env.DEBUG = String(debug);
  return Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

const dir = tempDir();
const loader = (env: Record<string, string>) => inspectConfig({ env, cwd: dir, dotEnv: false });
const auditor = (env: Record<string, string>) => auditConfig({ env, cwd: dir, dotEnv: false });

function refusals(env: Record<string, string>): string[] {
  try {
    loadConfig({ env, cwd: dir, dotEnv: false });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

const emitted = new Set<string>();

describe.each(RULES.map((rule) => [rule.id, rule] as const))('%s', (id, rule) => {
  const examples = EXAMPLES[id];

  it.each(examples.triggers.map((change) => [JSON.stringify(change), change]))(
    'fires on %s, in the loader and the auditor alike',
    (_name, change) => {
      const env = envOf(change);
      const fromLoader = loader(env).findings.filter((f) => f.id === id);
      const fromAuditor = auditor(env).findings.filter((f) => f.id === id);
      for (const f of loader(env).findings) emitted.add(f.id);
      expect(fromLoader.length).toBeGreaterThan(0);
      // The same messages, at the rule's first setting, with the rule's severity: one judgment, two readers.
      expect(fromAuditor.map((f) => f.message)).toEqual(fromLoader.map((f) => f.message));
      for (const f of fromLoader) expect(f).toMatchObject({ setting: rule.settings[0], severity: rule.severity });
      for (const f of fromAuditor) expect(f).toMatchObject({ location: rule.settings[0], severity: rule.severity });
      // No message carries a secret's value, nor a line of one (placeholders such as "changeme" are too short to
      // tell apart from the words of a message).
      const secrets = auditor(env)
        .secretValues.flatMap((value) => [value, ...value.split(/\s+/)])
        .filter((value) => value.length >= 16);
      for (const f of fromLoader) for (const secret of secrets) expect(f.message).not.toContain(secret);
    },
  );

  it.each(examples.triggers.map((change) => [JSON.stringify(change), change]))(
    `the server acts on %s as its effect says (${examples.start})`,
    (_name, change) => {
      expect(rule.effect).toBe(examples.start);
      // DEBUG as the example says, else both postures.
      const postures = change.DEBUG !== undefined ? [undefined] : [false, true];
      for (const debug of postures) {
        const env = envOf(change, debug);
        const messages = loader(env)
          .findings.filter((f) => f.id === id)
          .map((f) => f.message);
        const problems = refusals(env);
        const warnings = loader(env).config.warnings;
        const on = debug ?? env.DEBUG !== 'false';
        const expected =
          examples.start === 'refuse' || (examples.start === 'refuse-unless-debug' && !on)
            ? 'refused'
            : examples.start === 'audit'
              ? 'none'
              : 'warned';
        for (const message of messages) {
          expect(problems.includes(message), `${message} refused (DEBUG ${on})`).toBe(expected === 'refused');
          expect(warnings.includes(message), `${message} warned (DEBUG ${on})`).toBe(expected === 'warned');
        }
      }
    },
  );

  it.each(examples.clean.map((change) => [JSON.stringify(change), change]))(
    'does not fire on %s, in either',
    (_name, change) => {
      const env = envOf(change);
      expect(loader(env).findings.map((f) => f.id)).not.toContain(id);
      expect(auditor(env).findings.map((f) => f.id)).not.toContain(id);
    },
  );
});

describe('one registry', () => {
  const configIds = Object.keys(CHECKS).filter((id) => id.startsWith('config.'));
  const AUDITOR_OWN = [PARSE_PROBLEM.id, 'config.hsts.weak'];

  it('the config.* checks are the rules, plus config.refused and config.hsts.weak, with the rules’ severity and fix', () => {
    expect([...configIds].sort()).toEqual([...RULES.map((rule) => rule.id), ...AUDITOR_OWN].sort());
    for (const rule of RULES) {
      expect(CHECKS[rule.id]).toEqual({ severity: rule.severity, trigger: rule.trigger, fix: rule.fix });
    }
    expect(CHECKS[PARSE_PROBLEM.id].severity).toBe(PARSE_PROBLEM.severity);
  });

  it('every rule has its examples above, and every example its rule', () => {
    expect(Object.keys(EXAMPLES).sort()).toEqual(RULES.map((rule) => rule.id).sort());
  });

  it('every rule ID the loader emitted above is a check, and every rule was emitted', () => {
    expect([...emitted].filter((id) => !(id in CHECKS))).toEqual([]);
    expect(RULES.map((rule) => rule.id).filter((id) => !emitted.has(id))).toEqual([]);
  });

  it('docs/audit.md lists the configuration checks exactly as CHECKS has them', () => {
    const doc = readFileSync(join(REPO, 'docs/audit.md'), 'utf8');
    const section = doc.slice(doc.indexOf('## Configuration checks'), doc.indexOf('## File checks'));
    const rows = section.split('\n').filter((line) => line.startsWith('| `'));
    const expected = configIds.map((id) => {
      const check = CHECKS[id as keyof typeof CHECKS];
      return `| \`${id}\` | ${check.severity} | ${check.trigger} | ${check.fix} |`;
    });
    expect(rows.join('\n')).toBe(expected.join('\n'));
  });
});

describe('parse problems', () => {
  it('are config.refused, located at the variable the loader names (structured, not read from the message)', () => {
    const findings = auditor(
      envOf({
        DB_PORT: 'not-a-port',
        SECRET_KEY_FILE: '/nonexistent/key',
        CORS_ALLOW_ALL_ORIGINS: 'True',
        PORT_FILE: 'x',
      }),
    ).findings;
    expect(findings.map((f) => `${f.id}@${f.location}`)).toEqual([
      'config.refused@SECRET_KEY',
      'config.refused@DB_PORT',
      'config.refused@PORT_FILE',
      'config.refused@CORS_ALLOW_ALL_ORIGINS',
      // Both given, neither used: PostgreSQL is then without a key.
      'config.secret-key.missing@SECRET_KEY',
    ]);
    expect(findings[0]?.message).toBe(
      'the server would refuse to start: SECRET_KEY and SECRET_KEY_FILE are both set; keep one',
    );
  });

  it('a refusal is never hidden behind another finding on the same setting', () => {
    const ids = auditor(envOf({ ALLOWED_HOSTS: '*,tasks.example.com:80', DOMAIN: 'tasks.example.org' })).findings.map(
      (f) => f.id,
    );
    expect(ids).toEqual([
      'config.allowed-hosts.invalid',
      'config.allowed-hosts.wildcard',
      // "*" matches any Host, so DOMAIN passes: the wildcard is the finding.
    ]);
    const loopback = auditor(envOf({ ALLOWED_HOSTS: 'localhost', DOMAIN: 'tasks.example.com' })).findings;
    expect(loopback.map((f) => `${f.id} ${f.severity}`)).toEqual([
      'config.allowed-hosts.domain error',
      'config.allowed-hosts.local-only info',
      // PUBLIC_URL (tasks.example.com) is not allowed either: its own finding, not hidden behind the others.
      'config.email.public-url-host critical',
    ]);
  });
});

describe('DATABASE_URL, parsed once', () => {
  it('the auditor reports and redacts the credentials the loader decoded', () => {
    const password = `p@ss:w/d %${randomKey(24)}`;
    const url = `postgres://ta%73ks:${encodeURIComponent(password)}@db:5432/tasks`;
    const env = envOf({ DATABASE_URL: url });
    const { config } = loader(env);
    expect(config.databaseTarget).toMatchObject({ user: 'tasks', password });
    const audit = auditor(env);
    expect(audit.findings).toEqual([]);
    expect(audit.secretValues).toEqual(expect.arrayContaining([url, password]));
    // A password equal to the decoded user is found by both.
    const same = envOf({ DATABASE_URL: 'postgres://ta%73ks:tasks@db/tasks' });
    expect(loader(same).findings.map((f) => f.id)).toEqual(['config.database.password-equals-user']);
    expect(auditor(same).findings.map((f) => f.id)).toEqual(['config.database.password-equals-user']);
  });
});
