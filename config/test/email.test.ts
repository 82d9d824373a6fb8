/**
 * The email settings (config/src/email.ts, schema.ts) and their rules (rules.ts, config.email.*) as the loader applies
 * them: PUBLIC_URL, SMTP_URL (a secret: `_FILE`, never echoed, redacted in both spellings) and EMAIL_FROM, parsed and
 * refused; each rule firing exactly when it should, and doing what its effect says with DEBUG off and on. (The same
 * rules against the auditor: audit/test/rules.test.ts.)
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isLoopbackHost, isLoopbackRelay, parseMailbox, parsePublicUrl, parseSmtpUrl } from '../src/email.js';
import { ConfigError, inspectConfig, loadConfig, secretValues } from '../src/load.js';
import { ParseError } from '../src/types.js';

/** Random base64url with letters and digits: a password the fragment scan below can recognise. */
const random = (length: number) => `Zq8${randomBytes(length).toString('base64url')}`.slice(0, length);
const PASSWORD = random(32);

/** Production on PostgreSQL with email configured: no rule finds anything in it. */
const PRODUCTION: Record<string, string | undefined> = {
  POSTGRES_DB: 'tasks',
  POSTGRES_USER: 'tasks',
  POSTGRES_PASSWORD: random(32),
  SECRET_KEY: random(64),
  ALLOWED_HOSTS: 'tasks.example.com',
  TRUST_PROXY: '10.89.0.2',
  PUBLIC_URL: 'https://tasks.example.com',
  SMTP_URL: `smtps://tasks:${PASSWORD}@smtp.example.com:465`,
};

const tempDir = () => mkdtempSync(join(tmpdir(), 'ironclad-email-'));
const inspect = (change: Record<string, string | undefined>, cwd = tempDir()) =>
  inspectConfig({ env: { ...PRODUCTION, ...change }, cwd, dotEnv: false });
const emailFindings = (change: Record<string, string | undefined>) =>
  inspect(change).findings.filter((f) => f.id.startsWith('config.email.'));

/** The value, and every 6-character window of it that mixes letters and digits: none may appear. */
function expectNotEchoed(text: string, secret: string): void {
  expect(text).not.toContain(secret);
  for (let i = 0; i + 6 <= secret.length; i += 1) {
    const piece = secret.slice(i, i + 6);
    if (/[0-9]/.test(piece) && /[A-Za-z]/.test(piece)) expect(text, piece).not.toContain(piece);
  }
}

function parseErrorOf(parse: (raw: string) => unknown, raw: string): ParseError {
  try {
    parse(raw);
  } catch (error) {
    if (error instanceof ParseError) return error;
    throw error;
  }
  throw new Error(`${JSON.stringify(raw)} was accepted`);
}

describe('PUBLIC_URL', () => {
  it.each([
    ['https://tasks.example.com', 'https://tasks.example.com', 'tasks.example.com'],
    // Links are `${href}/#reset=...`: no trailing slash, however many were written.
    ['https://tasks.example.com/', 'https://tasks.example.com', 'tasks.example.com'],
    ['https://tasks.example.com/tasks/', 'https://tasks.example.com/tasks', 'tasks.example.com'],
    ['https://tasks.example.com/tasks//', 'https://tasks.example.com/tasks', 'tasks.example.com'],
    ['  https://TASKS.Example.com:443/  ', 'https://tasks.example.com', 'tasks.example.com'],
    ['https://tasks.example.com:8443/app', 'https://tasks.example.com:8443/app', 'tasks.example.com'],
    ['http://localhost:8000', 'http://localhost:8000', 'localhost'],
    ['http://[::1]:8000/', 'http://[::1]:8000', '[::1]'],
  ])('%s is read as %s (host %s)', (raw, href, hostname) => {
    const url = parsePublicUrl(raw);
    expect(url).toEqual({ href, hostname, protocol: new URL(href).protocol });
  });

  it.each([
    ['a query', 'https://tasks.example.com/?next=/admin', 'without a query or fragment'],
    ['an empty query', 'https://tasks.example.com?', 'without a query or fragment'],
    ['a fragment', 'https://tasks.example.com/#reset=x', 'without a query or fragment'],
    ['an empty fragment', 'https://tasks.example.com#', 'without a query or fragment'],
    ['another scheme', 'ftp://tasks.example.com', '(http or https)'],
    ['a script', 'javascript:alert(1)', '(http or https)'],
    ['a file', 'file:///etc/passwd', '(http or https)'],
    ['a host name without a scheme', 'tasks.example.com', 'such as https://tasks.example.com'],
    ['garbage', 'not a url', 'such as https://tasks.example.com'],
    ['a scheme alone', 'https://', 'such as https://tasks.example.com'],
  ])('%s is refused, repeating the value (no secret in it)', (_name, raw, why) => {
    const result = inspect({ PUBLIC_URL: raw });
    const message = `PUBLIC_URL: must be the origin people open the app at, such as https://tasks.example.com`;
    expect(result.problems).toEqual([expect.stringContaining(message)]);
    expect(result.problems[0]).toContain(why);
    // A value that is no secret is repeated, as every other setting's is (a typo is then easy to see).
    expect(result.problems[0]).toMatch(new RegExp(`\\(got "${raw.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}"\\)$`));
    expect(result.parseProblems).toEqual([{ setting: 'PUBLIC_URL', message: result.problems[0] }]);
    // Unparsed, it is judged by no rule: not "missing" beside SMTP_URL, not a host or http problem.
    expect(result.findings).toEqual([]);
  });

  it.each([
    ['user and password', (pw: string) => `https://admin:${pw}@tasks.example.com`],
    ['a user alone', (pw: string) => `https://${pw}@tasks.example.com`],
    ['a password that breaks the URL', (pw: string) => `https://admin:${pw} x@tasks.example.com/`],
  ])('credentials (%s) are refused without repeating the value', (_name, make) => {
    const raw = make(PASSWORD);
    const error = parseErrorOf(parsePublicUrl, raw);
    expect(error.echo).toBe(false);
    const result = inspect({ PUBLIC_URL: raw });
    expect(result.problems).toHaveLength(1);
    expect(result.problems[0]).toMatch(/^PUBLIC_URL: must be the origin people open the app at/);
    expect(result.problems[0]).not.toContain('(got');
    expectNotEchoed(result.problems.join('\n'), PASSWORD);
  });
});

describe('SMTP_URL', () => {
  it.each([
    ['smtps://', `smtps://tasks:${PASSWORD}@smtp.example.com`, 'implicit', 465],
    ['smtp:// (STARTTLS, required)', `smtp://tasks:${PASSWORD}@smtp.example.com`, 'starttls', 587],
    ['?tls=none (plain text)', 'smtp://127.0.0.1?tls=none', 'none', 25],
    ['an explicit port', `smtps://tasks:${PASSWORD}@smtp.example.com:2465`, 'implicit', 2465],
    ['an explicit port with STARTTLS', `smtp://tasks:${PASSWORD}@smtp.example.com:2525`, 'starttls', 2525],
    ['an explicit port in plain text', 'smtp://localhost:1025?tls=none', 'none', 1025],
  ])('%s: TLS and default port', (_name, raw, tls, port) => {
    expect(parseSmtpUrl(raw)).toMatchObject({ tls, port, url: raw });
  });

  it('the host is lower-cased and an IPv6 address loses its brackets; user and password are percent-decoded', () => {
    const password = `p@ss:w/d %#?${random(20)}`;
    const raw = `smtp://no%2Dreply%40tasks.example.com:${encodeURIComponent(password)}@SMTP.Example.COM:587`;
    expect(parseSmtpUrl(raw)).toEqual({
      url: raw,
      tls: 'starttls',
      host: 'smtp.example.com',
      port: 587,
      user: 'no-reply@tasks.example.com',
      password,
    });
    expect(parseSmtpUrl('smtp://[::1]:2525?tls=none')).toMatchObject({ host: '::1', port: 2525, tls: 'none' });
    // Neither user nor password: a relay that takes mail from this address without a login.
    expect(parseSmtpUrl('smtps://relay.internal')).toEqual({
      url: 'smtps://relay.internal',
      tls: 'implicit',
      host: 'relay.internal',
      port: 465,
    });
  });

  it.each([
    ['an unknown option', (pw: string) => `smtp://tasks:${pw}@smtp.example.com?secure=false`, 'the only option'],
    ['tls=none with smtps://', (pw: string) => `smtps://tasks:${pw}@smtp.example.com?tls=none`, 'only with smtp://'],
    ['another tls= value', (pw: string) => `smtp://tasks:${pw}@smtp.example.com?tls=starttls`, 'only with smtp://'],
    ['a path', (pw: string) => `smtp://tasks:${pw}@smtp.example.com/relay`, '(no path)'],
    ['a fragment', (pw: string) => `smtp://tasks:${pw}@smtp.example.com#x`, '(no fragment)'],
    ['another scheme', (pw: string) => `https://tasks:${pw}@smtp.example.com`, 'must look like'],
    ['no host', (pw: string) => `smtp:tasks:${pw}`, '(no host)'],
    ['port 0', (pw: string) => `smtp://tasks:${pw}@smtp.example.com:0`, 'from 1 to 65535'],
    ['a port out of range', (pw: string) => `smtps://tasks:${pw}@smtp.example.com:65536`, 'must look like'],
    ['a stray %', (pw: string) => `smtp://tasks:${pw}%zz@smtp.example.com`, 'not valid percent-encoding'],
    ['an unencoded "/" in the password', (pw: string) => `smtp://tasks:${pw}/x@smtp.example.com`, 'must look like'],
    ['an unencoded "#" in the password', (pw: string) => `smtp://tasks:${pw}#x@smtp.example.com`, 'must look like'],
    ['garbage around it', (pw: string) => `relay is smtp://tasks:${pw}@smtp.example.com`, 'must look like'],
  ])('%s is one refusal that never repeats the password, judged by no rule', (_name, make, why) => {
    const password = random(28);
    const raw = make(password);
    const result = inspect({ SMTP_URL: raw });
    expect(result.problems).toEqual([
      expect.stringMatching(/^SMTP_URL: must look like smtps:\/\/user:password@mail\.example\.com:465 /),
    ]);
    expect(result.problems[0]).toContain(why);
    expect(result.parseProblems.map((p) => p.setting)).toEqual(['SMTP_URL']);
    expect(result.findings).toEqual([]);
    expectNotEchoed(result.problems.join('\n'), password);
    // Nor through DEBUG's warnings, nor the refusal the server prints.
    const debug = inspect({ SMTP_URL: raw, DEBUG: 'true' });
    expectNotEchoed([...debug.problems, ...debug.config.warnings].join('\n'), password);
    expect(() => loadConfig({ env: { ...PRODUCTION, SMTP_URL: raw }, cwd: tempDir(), dotEnv: false })).toThrow(
      ConfigError,
    );
  });

  it('is read from SMTP_URL_FILE (one trailing newline stripped); both, or an unreadable file, are refused', () => {
    const dir = tempDir();
    const raw = `smtps://tasks:${PASSWORD}@smtp.example.com:465`;
    writeFileSync(join(dir, 'smtp_url'), `${raw}\n`);
    const fromFile = inspect({ SMTP_URL: undefined, SMTP_URL_FILE: 'smtp_url' }, dir);
    expect(fromFile.problems).toEqual([]);
    expect(fromFile.findings).toEqual([]);
    expect(fromFile.config.sources.SMTP_URL).toBe('file');
    expect(fromFile.config.values.SMTP_URL).toMatchObject({ url: raw, password: PASSWORD, tls: 'implicit' });
    expect(secretValues(fromFile.config)).toEqual(expect.arrayContaining([raw, PASSWORD]));

    const both = inspect({ SMTP_URL_FILE: 'smtp_url' }, dir);
    expect(both.problems).toEqual(['SMTP_URL and SMTP_URL_FILE are both set; keep one']);
    const missing = inspect({ SMTP_URL: undefined, SMTP_URL_FILE: 'nope' }, dir);
    expect(missing.problems).toEqual(['SMTP_URL_FILE: cannot read "nope" (ENOENT)']);
    // An empty file is no relay, like an empty variable.
    writeFileSync(join(dir, 'empty'), '\n');
    const empty = inspect({ SMTP_URL: undefined, SMTP_URL_FILE: 'empty' }, dir);
    expect(empty.findings.map((f) => f.id)).toEqual(['config.email.disabled']);
    // A malformed file is refused like a malformed variable, without its content.
    writeFileSync(join(dir, 'bad'), `smtps://tasks:${PASSWORD}@smtp.example.com?tls=none\n`);
    const bad = inspect({ SMTP_URL: undefined, SMTP_URL_FILE: 'bad' }, dir);
    expect(bad.problems).toHaveLength(1);
    expectNotEchoed(bad.problems.join('\n'), PASSWORD);
  });

  it('secretValues holds the URL and its password, decoded and as written, for the redaction', () => {
    const password = `${random(24)}/+:@`;
    const encoded = encodeURIComponent(password);
    const url = `smtp://tasks:${encoded}@smtp.example.com:587`;
    const values = secretValues(inspect({ SMTP_URL: url }).config);
    expect(values).toEqual(expect.arrayContaining([url, password, encoded]));
    // The user is no secret; a URL without a password is still one (it says where mail goes, and may hold a token).
    expect(values).not.toContain('tasks');
    const bare = secretValues(inspect({ SMTP_URL: 'smtps://relay.internal' }).config);
    expect(bare).toContain('smtps://relay.internal');
  });
});

describe('EMAIL_FROM', () => {
  it.each([
    ['no-reply@tasks.example.com', { address: 'no-reply@tasks.example.com' }],
    ['Ironclad Tasks <no-reply@tasks.example.com>', { name: 'Ironclad Tasks', address: 'no-reply@tasks.example.com' }],
    ['  Tasks   <no-reply@tasks.example.com>  ', { name: 'Tasks', address: 'no-reply@tasks.example.com' }],
    ['<no-reply@tasks.example.com>', { address: 'no-reply@tasks.example.com' }],
    ["o'brien+tasks@example.com", { address: "o'brien+tasks@example.com" }],
    [`${'N'.repeat(78)} <a@example.com>`, { name: 'N'.repeat(78), address: 'a@example.com' }],
  ])('%s', (raw, mailbox) => {
    expect(parseMailbox(raw)).toEqual(mailbox);
    expect(inspect({ EMAIL_FROM: raw }).problems).toEqual([]);
  });

  it.each([
    ['a CR LF header injection in the name', 'Tasks\r\nBcc: victim@example.org <no-reply@tasks.example.com>'],
    ['a LF header injection after the address', 'no-reply@tasks.example.com\nBcc: victim@example.org'],
    ['a CR alone', 'Tasks\r<no-reply@tasks.example.com>'],
    ['a NUL', 'Tasks\u0000 <no-reply@tasks.example.com>'],
  ])('%s is refused, and the refusal stays one line (the value is not repeated)', (_name, raw) => {
    const error = parseErrorOf(parseMailbox, raw);
    expect(error.message).toContain('(no control characters)');
    expect(error.echo).toBe(false);
    const { problems } = inspect({ EMAIL_FROM: raw });
    expect(problems).toEqual([
      'EMAIL_FROM: must be an email address, optionally with a name: Ironclad Tasks <no-reply@tasks.example.com> (no control characters)',
    ]);
  });

  it.each([
    ['quotes in the name', '"Tasks" <no-reply@tasks.example.com>'],
    ['a bracket in the name', 'Tasks <b> <no-reply@tasks.example.com>'],
    ['a lone < in the name', 'Ta<sks <no-reply@tasks.example.com>'],
    ['a backslash in the name', 'Tasks\\ <no-reply@tasks.example.com>'],
    ['a missing >', 'Tasks <no-reply@tasks.example.com'],
    ['text after >', 'Tasks <no-reply@tasks.example.com> x'],
    ['a > without <', 'no-reply@tasks.example.com>'],
    ['two addresses', 'a@example.com, b@example.com'],
    ['no @', 'Tasks <no-reply>'],
    ['no address', 'Tasks <>'],
    ['a space in the address', 'no reply@tasks.example.com'],
    ['an over-long name', `${'N'.repeat(79)} <a@example.com>`],
    ['an over-long local part', `${'l'.repeat(65)}@example.com`],
    ['an over-long domain', `a@${'d'.repeat(254)}.com`],
    ['a domain starting with a dot', 'a@.example.com'],
  ])('%s is refused, the value repeated (it holds no secret)', (_name, raw) => {
    const { problems } = inspect({ EMAIL_FROM: raw });
    expect(problems).toEqual([
      `EMAIL_FROM: must be an email address, optionally with a name: Ironclad Tasks <no-reply@tasks.example.com> (got "${raw}")`,
    ]);
  });
});

describe('loopback, for links and for plain-text relays', () => {
  it('a link may use any *.localhost name (browsers resolve those to loopback); a plain-text relay only localhost', () => {
    for (const host of ['localhost', 'LOCALHOST', '127.0.0.1', '127.8.9.10', '::1', '[::1]']) {
      expect(isLoopbackHost(host), host).toBe(true);
      expect(isLoopbackRelay(host), host).toBe(true);
    }
    expect(isLoopbackHost('tasks.localhost')).toBe(true);
    expect(isLoopbackRelay('mail.localhost')).toBe(false);
    for (const host of [
      'smtp.example.com',
      '128.0.0.1',
      '0.0.0.0',
      '10.0.0.1',
      '127.example.com',
      'localhost.',
      '::',
    ]) {
      expect(isLoopbackHost(host), host).toBe(false);
      expect(isLoopbackRelay(host), host).toBe(false);
    }
  });
});

describe('the email rules, as the loader applies them', () => {
  const cases: [string, Record<string, string | undefined>, string[]][] = [
    ['production with email configured', {}, []],
    ['without SMTP_URL (and with or without PUBLIC_URL)', { SMTP_URL: undefined }, ['config.email.disabled']],
    ['without either', { SMTP_URL: undefined, PUBLIC_URL: undefined }, ['config.email.disabled']],
    ['SMTP_URL without PUBLIC_URL', { PUBLIC_URL: undefined }, ['config.email.public-url-missing']],
    ['PUBLIC_URL on another host', { PUBLIC_URL: 'https://tasks.example.net' }, ['config.email.public-url-host']],
    ['PUBLIC_URL over http', { PUBLIC_URL: 'http://tasks.example.com' }, ['config.email.public-url-http']],
    [
      'PUBLIC_URL over http on another host: both',
      { PUBLIC_URL: 'http://tasks.example.net' },
      ['config.email.public-url-host', 'config.email.public-url-http'],
    ],
    [
      'PUBLIC_URL on another host without SMTP: still a finding (the development links would go there too)',
      { PUBLIC_URL: 'https://tasks.example.net', SMTP_URL: undefined },
      ['config.email.public-url-host', 'config.email.disabled'],
    ],
    [
      'plain text to a relay across the network',
      { SMTP_URL: `smtp://tasks:${PASSWORD}@smtp.example.com?tls=none` },
      ['config.email.smtp-plaintext'],
    ],
    ['plain text to 127.0.0.1', { SMTP_URL: `smtp://tasks:${PASSWORD}@127.0.0.1:25?tls=none` }, []],
    ['plain text to ::1', { SMTP_URL: 'smtp://[::1]:25?tls=none' }, []],
    ['plain text to localhost', { SMTP_URL: 'smtp://localhost:1025?tls=none' }, []],
    ['plain text to a name', { SMTP_URL: 'smtp://relay?tls=none' }, ['config.email.smtp-plaintext']],
    [
      'plain text to a *.localhost name',
      { SMTP_URL: 'smtp://mail.localhost?tls=none' },
      ['config.email.smtp-plaintext'],
    ],
    ['STARTTLS to a relay across the network', { SMTP_URL: `smtp://tasks:${PASSWORD}@smtp.example.com` }, []],
    // ALLOWED_HOSTS patterns as the Host check applies them: a leading dot allows the domain and its subdomains.
    ['a .example.com pattern allows a subdomain', { ALLOWED_HOSTS: '.example.com' }, []],
    [
      'a .example.com pattern allows the domain itself',
      { ALLOWED_HOSTS: '.example.com', PUBLIC_URL: 'https://example.com' },
      [],
    ],
    [
      'a .example.com pattern does not allow a look-alike domain',
      { ALLOWED_HOSTS: '.example.com', PUBLIC_URL: 'https://tasks.example.com.attacker.example' },
      ['config.email.public-url-host'],
    ],
    [
      'a .example.com pattern does not allow example.org',
      { ALLOWED_HOSTS: '.example.com', PUBLIC_URL: 'https://tasks.example.org' },
      ['config.email.public-url-host'],
    ],
    // The port and path are not the host.
    ['a port in PUBLIC_URL', { PUBLIC_URL: 'https://tasks.example.com:8443/tasks' }, []],
    [
      'a port in PUBLIC_URL on a host not allowed',
      { PUBLIC_URL: 'https://tasks.example.net:8443' },
      ['config.email.public-url-host'],
    ],
    ['an allowed IPv6 host', { ALLOWED_HOSTS: '[::1]', PUBLIC_URL: 'http://[::1]:8000' }, []],
    ['a wildcard host allows it (the wildcard is its own finding)', { ALLOWED_HOSTS: '*' }, []],
  ];

  it.each(cases)('%s', (_name, change, ids) => {
    expect(emailFindings(change).map((f) => f.id)).toEqual(ids);
    // Production judgment, the same whatever DEBUG says.
    expect(emailFindings({ ...change, DEBUG: 'true' }).map((f) => f.id)).toEqual(ids);
  });

  it('messages name the setting and the host, never the relay password', () => {
    const messages = [
      ...emailFindings({ SMTP_URL: `smtp://tasks:${PASSWORD}@smtp.example.com?tls=none` }),
      ...emailFindings({ PUBLIC_URL: undefined }),
      ...emailFindings({ PUBLIC_URL: 'http://tasks.example.net' }),
    ].map((f) => f.message);
    expect(messages).toEqual([
      'SMTP_URL: sends in plain text (?tls=none) to smtp.example.com, which is not loopback; the password and reset links would travel in clear',
      'PUBLIC_URL: is not set while SMTP_URL is, so reset links would have no trustworthy origin',
      'PUBLIC_URL: its host (tasks.example.net) is not allowed by ALLOWED_HOSTS',
      'PUBLIC_URL: is plain http on tasks.example.net; reset links would travel unencrypted',
    ]);
    for (const message of messages) expectNotEchoed(message, PASSWORD);
  });

  it.each([
    ['config.email.public-url-missing', { PUBLIC_URL: undefined }],
    ['config.email.public-url-host', { PUBLIC_URL: 'https://tasks.example.net' }],
    ['config.email.public-url-http', { PUBLIC_URL: 'http://tasks.example.com' }],
    ['config.email.smtp-plaintext', { SMTP_URL: `smtp://tasks:${PASSWORD}@relay?tls=none` }],
  ])('%s refuses the start without DEBUG and is a start-up warning with it', (id, change) => {
    const production = inspect(change);
    const [finding] = production.findings.filter((f) => f.id === id);
    expect(finding).toMatchObject({ effect: 'refuse-unless-debug', outcome: 'refused' });
    expect(production.problems).toEqual([finding?.message]);
    expect(production.config.warnings).toEqual([]);
    expect(() => loadConfig({ env: { ...PRODUCTION, ...change }, cwd: tempDir(), dotEnv: false })).toThrow(ConfigError);

    const debug = inspect({ ...change, DEBUG: 'true' });
    expect(debug.findings.find((f) => f.id === id)).toMatchObject({ outcome: 'warned' });
    expect(debug.problems).toEqual([]);
    expect(debug.config.warnings).toContain(finding?.message);
    expect(() =>
      loadConfig({ env: { ...PRODUCTION, ...change, DEBUG: 'true' }, cwd: tempDir(), dotEnv: false }),
    ).not.toThrow();
  });

  it('config.email.disabled is for the auditor only: the server starts without SMTP, neither refusing nor warning', () => {
    for (const DEBUG of ['false', 'true']) {
      const result = inspect({ SMTP_URL: undefined, DEBUG });
      expect(result.findings.find((f) => f.id === 'config.email.disabled')).toMatchObject({
        severity: 'warning',
        effect: 'audit',
        outcome: 'reported',
        setting: 'SMTP_URL',
      });
      expect(result.problems).toEqual([]);
      expect(result.config.warnings.filter((w) => w.startsWith('SMTP_URL'))).toEqual([]);
    }
    // The zero-configuration start (embedded database, no email) still starts with nothing to say.
    expect(loadConfig({ env: {}, cwd: tempDir(), dotEnv: false }).warnings).toEqual([]);
  });

  it('a malformed PUBLIC_URL beside SMTP_URL is its own refusal, not also "missing"', () => {
    const result = inspect({ PUBLIC_URL: 'tasks.example.com' });
    expect(result.parseProblems.map((p) => p.setting)).toEqual(['PUBLIC_URL']);
    expect(result.findings).toEqual([]);
  });
});
