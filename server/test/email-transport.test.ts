/**
 * The mail transport (src/email/) against a real SMTP server on a loopback port (testkit/src/smtp-sink.ts:
 * smtp-server, messages parsed back with mailparser) and real files:
 *
 * - delivery in plain text to a loopback relay, over STARTTLS and over implicit TLS with SMTP_CA_FILE, with AUTH;
 * - what must never be sent: nothing to a relay that does not do STARTTLS, nothing to an untrusted certificate,
 *   no header injection through the subject or the recipient, no second message smuggled in the body;
 * - what the outbox drainer decides from: permanent for a 5xx to the recipient or the message, temporary for 4xx,
 *   a refused connection, a timeout, TLS failures and a refused login; never a credential in an error or the output;
 * - the development outbox: a real .eml, 0600 in a 0700 folder whatever the umask, no user data in its name.
 *
 * The TLS half needs openssl for the throwaway CA (skipped with the reason without it); the rest needs nothing.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSmtpUrl } from '@ironclad/config/email';
import { gateFor } from '@ironclad/testkit/gate';
import { type SmtpSink, type SmtpSinkOptions, startSmtpSink } from '@ironclad/testkit/smtp-sink';
import { simpleParser } from 'mailparser';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import {
  createMailTransport,
  defaultFrom,
  type MailTransport,
  type OutgoingEmail,
  SendError,
} from '../src/email/transport.js';
import { StartupError } from '../src/lifecycle/startup-error.js';

const FROM = { name: 'Ironclad Tasks', address: 'no-reply@tasks.example.com' };
const EMAIL: OutgoingEmail = {
  to: 'ada@example.com',
  subject: 'Reset your password',
  text: 'Open https://tasks.example.com/#reset=icr_abc to choose a new password.',
  html: '<p>Open <a href="https://tasks.example.com/#reset=icr_abc">this link</a>.</p>',
};
/** The relay's credentials: a password with the characters URLs and SMTP treat specially. */
const RELAY = { user: 'relay-user', password: 'p@ss:w0rd/with%special&chars' };

const temporary: string[] = [];
const sinks: SmtpSink[] = [];
const transports: MailTransport[] = [];
afterEach(async () => {
  await Promise.all(transports.splice(0).map((transport) => transport.close()));
  await Promise.all(sinks.splice(0).map((sink) => sink.stop()));
});
afterAll(() => {
  for (const dir of temporary) rmSync(dir, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ironclad-mail-'));
  temporary.push(dir);
  return dir;
}
async function sink(options: SmtpSinkOptions): Promise<SmtpSink> {
  const started = await startSmtpSink(options);
  sinks.push(started);
  return started;
}
/** A transport to `url` as the server makes it from SMTP_URL and SMTP_CA_FILE, with short waits. */
function smtpTo(url: string, caFile?: string, timeoutMs = 3_000): MailTransport {
  const transport = createMailTransport({ smtp: parseSmtpUrl(url), caFile, from: FROM, dataDir: tempDir(), timeoutMs });
  transports.push(transport);
  return transport;
}
/** The SendError a send failed with (fails the test when it delivered). */
async function failure(transport: MailTransport, email: OutgoingEmail = EMAIL): Promise<SendError> {
  const error = await transport.send(email).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(SendError);
  return error as SendError;
}
/** Every spelling of the relay password an error or a log line could carry. */
function expectNoPassword(text: string): void {
  for (const form of [
    RELAY.password,
    encodeURIComponent(RELAY.password),
    Buffer.from(RELAY.password).toString('base64'),
    Buffer.from(`\u0000${RELAY.user}\u0000${RELAY.password}`).toString('base64'),
  ]) {
    expect(text).not.toContain(form);
  }
}

describe('plain text to a loopback relay (smtp://...?tls=none)', () => {
  it('delivers one message with our sender, the recipient, subject, text and HTML', async () => {
    const relay = await sink({ tls: 'none' });
    const transport = smtpTo(relay.url);
    expect(transport.description).toBe(`smtp://127.0.0.1:${relay.port}?tls=none`);
    const { note } = await transport.send(EMAIL);
    const message = await relay.waitForMessage();
    expect(note).toBe(message.messageId);
    expect(message.from?.value).toEqual([{ name: 'Ironclad Tasks', address: 'no-reply@tasks.example.com' }]);
    expect(message.to && !Array.isArray(message.to) ? message.to.value : []).toEqual([
      { name: '', address: 'ada@example.com' },
    ]);
    expect(message.subject).toBe(EMAIL.subject);
    expect(message.text?.trim()).toBe(EMAIL.text);
    expect(message.html).toContain('href="https://tasks.example.com/#reset=icr_abc"');
    const [delivery] = relay.deliveries;
    expect(delivery).toMatchObject({ secure: false, mailFrom: FROM.address, rcptTo: ['ada@example.com'] });
  });

  it('logs in when the relay asks, and a wrong password is a temporary error that holds no password', async () => {
    const relay = await sink({ tls: 'none', auth: RELAY });
    await smtpTo(relay.url).send(EMAIL);
    await relay.waitForMessage();
    expect(relay.deliveries[0]?.user).toBe(RELAY.user);

    const output: string[] = [];
    const capture = (chunk: unknown) => {
      output.push(String(chunk));
      return true;
    };
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(capture);
    let error: SendError;
    try {
      const wrong = relay.url.replace(encodeURIComponent(RELAY.password), encodeURIComponent(`${RELAY.password}x`));
      error = await failure(smtpTo(wrong));
    } finally {
      stdout.mockRestore();
      stderr.mockRestore();
    }
    expect(error.permanent).toBe(false);
    expect(error.message).toContain('535');
    expect(error.message).toContain('check the user and password in SMTP_URL');
    expectNoPassword(error.message);
    expect(error.message).not.toContain('w0rd');
    expect(JSON.stringify(error)).not.toContain('w0rd');
    // nodemailer's own logger stays silent: nothing of the session reached the output.
    expect(output.join('')).toBe('');
    expect(relay.messages).toHaveLength(1);
  });

  it('a relay that echoes the credentials in its refusal does not get them into the error', async () => {
    // A hostile or careless relay repeats what it got: the AUTH PLAIN line (base64) and the password itself.
    const sockets: Socket[] = [];
    const echoing: Server = createServer((socket) => {
      sockets.push(socket);
      socket.on('error', () => {});
      socket.write('220 echo.example ESMTP\r\n');
      socket.on('data', (chunk) => {
        const line = chunk.toString().trim();
        if (/^EHLO /i.test(line)) socket.write('250-echo.example\r\n250 AUTH PLAIN\r\n');
        else if (/^AUTH PLAIN /i.test(line)) {
          const sent = line.slice('AUTH PLAIN '.length);
          const decoded = Buffer.from(sent, 'base64').toString().split('\u0000').pop();
          socket.write(`535 5.7.8 refused ${sent} (${decoded})\r\n`);
        } else socket.write('221 bye\r\n');
      });
    });
    await new Promise<void>((resolve) => echoing.listen(0, '127.0.0.1', resolve));
    const port = (echoing.address() as { port: number }).port;
    try {
      const url = `smtp://${RELAY.user}:${encodeURIComponent(RELAY.password)}@127.0.0.1:${port}?tls=none`;
      const error = await failure(smtpTo(url));
      expect(error.message).toContain('535 5.7.8 refused [redacted] ([redacted])');
      expectNoPassword(error.message);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => echoing.close(resolve));
    }
  });

  it('a 5xx to the recipient (unknown mailbox) is permanent', async () => {
    const relay = await sink({ tls: 'none', rejectRecipients: /^nobody@/ });
    const error = await failure(smtpTo(relay.url), { ...EMAIL, to: 'nobody@example.com' });
    expect(error.permanent).toBe(true);
    expect(error.message).toContain('550');
    expect(relay.messages).toHaveLength(0);
  });

  it('a 5xx to the message is permanent, a 4xx temporary', async () => {
    const refusing = await sink({ tls: 'none', failWith: 'permanent' });
    const permanent = await failure(smtpTo(refusing.url));
    expect(permanent.permanent).toBe(true);
    expect(permanent.message).toContain('554');

    const deferring = await sink({ tls: 'none', failWith: 'temporary' });
    const temporary = await failure(smtpTo(deferring.url));
    expect(temporary.permanent).toBe(false);
    expect(temporary.message).toContain('451');
  });

  it('a refused connection is temporary; the relay restarted on the same port gets the next message', async () => {
    const relay = await sink({ tls: 'none' });
    const transport = smtpTo(relay.url);
    await relay.stop();
    const error = await failure(transport);
    expect(error.permanent).toBe(false);
    expect(error.message).toContain(`smtp://127.0.0.1:${relay.port}?tls=none`);
    expect(error.message).toContain('ECONNREFUSED');

    const again = await sink({ tls: 'none', port: relay.port });
    await transport.send(EMAIL);
    expect((await again.waitForMessage()).subject).toBe(EMAIL.subject);
  });

  it('a relay that accepts the connection and never greets is a temporary timeout, within the configured wait', async () => {
    const sockets: Socket[] = [];
    const silent: Server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const port = (silent.address() as { port: number }).port;
    try {
      const started = Date.now();
      const error = await failure(smtpTo(`smtp://127.0.0.1:${port}?tls=none`, undefined, 500));
      expect(error.permanent).toBe(false);
      expect(error.message).toContain('ETIMEDOUT');
      expect(Date.now() - started).toBeLessThan(3_000);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('a relay that drips its answers a line at a time is given up at the whole-send deadline (temporary)', async () => {
    // Each line comes before the socket's inactivity timeout, so only the deadline of the whole send ends this.
    const timers: NodeJS.Timeout[] = [];
    const sockets: Socket[] = [];
    const dripping: Server = createServer((socket) => {
      sockets.push(socket);
      socket.write('220 slow.example ESMTP\r\n');
      socket.once('data', () => timers.push(setInterval(() => socket.write('250-still thinking\r\n'), 100)));
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => dripping.listen(0, '127.0.0.1', resolve));
    const port = (dripping.address() as { port: number }).port;
    try {
      const started = Date.now();
      const error = await failure(smtpTo(`smtp://127.0.0.1:${port}?tls=none`, undefined, 500));
      const elapsed = Date.now() - started;
      expect(error.permanent).toBe(false);
      expect(error.message).toContain('EABORT');
      expect(elapsed).toBeGreaterThanOrEqual(1_900);
      expect(elapsed).toBeLessThan(4_000);
    } finally {
      for (const timer of timers) clearInterval(timer);
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => dripping.close(resolve));
    }
  });
});

describe('what is never sent', () => {
  it('a subject with a line break is refused (permanent), not written as a second header', async () => {
    const relay = await sink({ tls: 'none' });
    const transport = smtpTo(relay.url);
    for (const subject of [
      'Hello\r\nBcc: eve@evil.example',
      'Hello\nBcc: eve@evil.example',
      'Hello\rX: y',
      'a\u0000b',
    ]) {
      const error = await failure(transport, { ...EMAIL, subject });
      expect(error.permanent).toBe(true);
      expect(error.message).toContain('subject');
    }
    expect(relay.messages).toHaveLength(0);
  });

  it('a recipient that is not one plain address is refused (permanent): no line break, second address or name', async () => {
    const relay = await sink({ tls: 'none' });
    const transport = smtpTo(relay.url);
    for (const to of [
      'ada@example.com\r\nBcc: eve@evil.example',
      'ada@example.com\nX: y',
      'ada@example.com, eve@evil.example',
      'ada@example.com;eve@evil.example',
      'Ada <ada@example.com>',
      '"eve@evil.example" <ada@example.com>',
      'ada@example.com eve@evil.example',
      'no-at-sign',
      `${'a'.repeat(250)}@example.com`,
    ]) {
      const error = await failure(transport, { ...EMAIL, to });
      expect(error.permanent).toBe(true);
      expect(error.message).not.toContain('ada@');
    }
    expect(relay.messages).toHaveLength(0);
  });

  it('non-ASCII subjects and names are encoded by nodemailer and read back the same', async () => {
    const relay = await sink({ tls: 'none' });
    const transport = createMailTransport({
      smtp: parseSmtpUrl(relay.url),
      from: { name: 'Tâches « Ironclad »', address: 'no-reply@tasks.example.com' },
      dataDir: tempDir(),
      timeoutMs: 3_000,
    });
    transports.push(transport);
    const subject = 'Réinitialisez votre mot de passe — 重置密码';
    await transport.send({ ...EMAIL, subject });
    const message = await relay.waitForMessage();
    expect(message.subject).toBe(subject);
    expect(message.from?.value[0]?.name).toBe('Tâches « Ironclad »');
    const headers = relay.deliveries[0]?.raw.split('\r\n\r\n', 1)[0] ?? '';
    expect(headers).toMatch(/^Subject: =\?UTF-8\?/m);
    expect(/[^\x20-\x7e\r\n\t]/.test(headers)).toBe(false);
  });

  it('a body with a lone "." line and SMTP commands stays one message (dot-stuffed, no smuggling)', async () => {
    const relay = await sink({ tls: 'none' });
    const text = 'first line\r\n.\r\nMAIL FROM:<eve@evil.example>\r\nRCPT TO:<victim@example.com>\r\nDATA\r\n\n.\nlast';
    await smtpTo(relay.url).send({ ...EMAIL, text });
    const message = await relay.waitForMessage();
    expect(message.text).toContain('MAIL FROM:<eve@evil.example>');
    expect(message.text).toContain('last');
    // Give a smuggled second message the time to arrive: none does.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(relay.messages).toHaveLength(1);
    expect(relay.deliveries[0]?.rcptTo).toEqual(['ada@example.com']);
  });
});

describe('SMTP_CA_FILE is read at start', () => {
  it('a missing file, a file without a certificate and a broken certificate are one-line start-up errors', () => {
    const dir = tempDir();
    const make = (caFile: string) =>
      createMailTransport({ smtp: parseSmtpUrl('smtps://relay.example.com'), caFile, from: FROM, dataDir: dir });
    const missing = join(dir, 'missing.pem');
    expect(() => make(missing)).toThrow(StartupError);
    expect(() => make(missing)).toThrow(`SMTP_CA_FILE ${missing} cannot be read (ENOENT)`);
    const empty = join(dir, 'empty.pem');
    writeFileSync(empty, 'not a certificate\n');
    expect(() => make(empty)).toThrow('holds no PEM certificate');
    const broken = join(dir, 'broken.pem');
    writeFileSync(broken, '-----BEGIN CERTIFICATE-----\nMIIBnotbase64atall\n-----END CERTIFICATE-----\n');
    expect(() => make(broken)).toThrow('certificate 1 of 1 cannot be parsed');
    expect(() => make(dir)).toThrow('cannot be read (EISDIR)');
  });

  it('describes the relay without its credentials', () => {
    const transport = createMailTransport({
      smtp: parseSmtpUrl(`smtps://${RELAY.user}:${encodeURIComponent(RELAY.password)}@Smtp.Example.com`),
      from: FROM,
      dataDir: tempDir(),
    });
    expect(transport.description).toBe('smtps://smtp.example.com:465');
    expect(
      createMailTransport({ smtp: parseSmtpUrl('smtp://[::1]:2525?tls=none'), from: FROM, dataDir: '/x' }).description,
    ).toBe('smtp://[::1]:2525?tls=none');
  });
});

const openssl = await gateFor('email transport over TLS', ['openssl']);

openssl.describe('TLS: STARTTLS and implicit, certificates always verified', () => {
  it('delivers over STARTTLS with SMTP_CA_FILE and AUTH', async () => {
    const relay = await sink({ tls: 'starttls', auth: RELAY });
    expect(relay.url).toMatch(/^smtp:\/\/relay-user:/);
    const transport = smtpTo(relay.url, relay.caFile);
    expect(transport.description).toBe(`smtp://127.0.0.1:${relay.port}`);
    await transport.send(EMAIL);
    await relay.waitForMessage();
    expect(relay.deliveries[0]).toMatchObject({ secure: true, user: RELAY.user });
  });

  it('delivers over implicit TLS (smtps://) with SMTP_CA_FILE', async () => {
    const relay = await sink({ tls: 'implicit', auth: RELAY });
    const transport = smtpTo(relay.url, relay.caFile);
    expect(transport.description).toBe(`smtps://127.0.0.1:${relay.port}`);
    await transport.send(EMAIL);
    await relay.waitForMessage();
    expect(relay.deliveries[0]).toMatchObject({ secure: true, user: RELAY.user });
  });

  it('sends nothing to a relay without STARTTLS (smtp:// requires it): a temporary error', async () => {
    const plain = await sink({ tls: 'none', auth: RELAY });
    const url = plain.url.replace('?tls=none', '');
    const error = await failure(smtpTo(url, plain.caFile));
    expect(error.permanent).toBe(false);
    expect(error.message).toContain('ETLS');
    expect(error.message).toContain('STARTTLS is required');
    expectNoPassword(error.message);
    expect(plain.messages).toHaveLength(0);
  });

  it('a relay that hides STARTTLS from EHLO still gets the message only over TLS', async () => {
    // A middlebox that strips STARTTLS from the capability list (the classic downgrade) does not get plain text:
    // nodemailer's requireTLS issues STARTTLS anyway, and the message goes only if the upgrade happens.
    const relay = await sink({ tls: 'starttls', hideStartTls: true });
    await smtpTo(relay.url, relay.caFile).send(EMAIL);
    await relay.waitForMessage();
    expect(relay.deliveries[0]?.secure).toBe(true);
  });

  it('refuses a certificate it cannot verify (no SMTP_CA_FILE): temporary, nothing sent, over both TLS kinds', async () => {
    for (const tls of ['starttls', 'implicit'] as const) {
      const relay = await sink({ tls, auth: RELAY });
      const error = await failure(smtpTo(relay.url));
      expect(error.permanent).toBe(false);
      expect(error.message).toMatch(/certificate/i);
      expect(error.message).toContain('SMTP_CA_FILE adds a private certificate authority');
      expectNoPassword(error.message);
      expect(relay.messages).toHaveLength(0);
    }
  });

  it("reads a CA bundle of several certificates whole (public CAs first, the relay's last)", async () => {
    const relay = await sink({ tls: 'starttls' });
    const pem = readFileSync(relay.caFile as string, 'utf8');
    const dir = tempDir();
    const bundle = join(dir, 'bundle.pem');
    const { rootCertificates } = await import('node:tls');
    writeFileSync(bundle, `${rootCertificates.slice(0, 3).join('\n')}\n${pem}`);
    await smtpTo(relay.url, bundle).send(EMAIL);
    await relay.waitForMessage();
  });
});

describe('the development outbox: .eml files in DATA_DIR/outbox', () => {
  it('writes a real message, 0600 in a 0700 folder whatever the umask, named by time and chance only', async () => {
    const dataDir = tempDir();
    const outbox = join(dataDir, 'outbox');
    // A folder someone made readable for all is narrowed back to the owner.
    mkdirSync(outbox, { mode: 0o755 });
    const transport = createMailTransport({ from: FROM, dataDir });
    transports.push(transport);
    expect(transport.description).toBe(`files in ${outbox}`);
    const umask = process.umask(0);
    let note: string;
    try {
      ({ note } = await transport.send(EMAIL));
    } finally {
      process.umask(umask);
    }
    const files = readdirSync(outbox);
    expect(files).toHaveLength(1);
    const name = files[0] as string;
    expect(note).toBe(join(outbox, name));
    expect(name).toMatch(/^\d{8}T\d{6}\.\d{3}Z-[0-9a-f]{12}\.eml$/);
    expect(name).not.toContain('ada');
    expect(statSync(outbox).mode & 0o777).toBe(0o700);
    expect(statSync(note).mode & 0o777).toBe(0o600);

    const raw = readFileSync(note);
    expect(raw.toString('latin1')).toContain('\r\n');
    const message = await simpleParser(raw);
    expect(message.subject).toBe(EMAIL.subject);
    expect(message.from?.text).toBe('"Ironclad Tasks" <no-reply@tasks.example.com>');
    expect(message.to && !Array.isArray(message.to) ? message.to.text : '').toBe('ada@example.com');
    expect(message.text?.trim()).toBe(EMAIL.text);
    expect(message.html).toContain('#reset=icr_abc');
    expect(message.messageId).toMatch(/^<.+@tasks\.example\.com>$/);
  });

  it('creates the folder when missing, never overwrites, refuses what SMTP refuses, and says why it cannot write', async () => {
    const dataDir = join(tempDir(), 'data');
    const transport = createMailTransport({ from: FROM, dataDir });
    transports.push(transport);
    const notes = await Promise.all([transport.send(EMAIL), transport.send(EMAIL), transport.send(EMAIL)]);
    expect(new Set(notes.map((sent) => sent.note)).size).toBe(3);
    expect(readdirSync(join(dataDir, 'outbox'))).toHaveLength(3);

    const injected = await failure(transport, { ...EMAIL, subject: 'a\r\nBcc: eve@evil.example' });
    expect(injected.permanent).toBe(true);

    const blocked = tempDir();
    writeFileSync(join(blocked, 'outbox'), 'a file where the folder should be');
    const error = await failure(createMailTransport({ from: FROM, dataDir: blocked }));
    expect(error.permanent).toBe(false);
    expect(error.message).toContain(`cannot write the email to ${join(blocked, 'outbox')}`);
  });
});

describe('defaultFrom', () => {
  it('is no-reply at the host of PUBLIC_URL, or localhost', () => {
    expect(defaultFrom(undefined)).toEqual({ name: 'Ironclad Tasks', address: 'no-reply@localhost' });
    expect(
      defaultFrom({ href: 'https://tasks.example.com/app', protocol: 'https:', hostname: 'tasks.example.com' }),
    ).toEqual({ name: 'Ironclad Tasks', address: 'no-reply@tasks.example.com' });
    expect(defaultFrom({ href: 'http://127.0.0.1:8000', protocol: 'http:', hostname: '127.0.0.1' }).address).toBe(
      'no-reply@localhost',
    );
    expect(defaultFrom({ href: 'http://[::1]:8000', protocol: 'http:', hostname: '[::1]' }).address).toBe(
      'no-reply@localhost',
    );
  });
});
