/**
 * Sending through the mail relay of SMTP_URL, with nodemailer (the maintained Node SMTP client: TLS, STARTTLS,
 * AUTH, dot-stuffing and MIME done by a project that has done nothing else for fifteen years; no SMTP by hand).
 *
 * - `smtps://` implicit TLS; `smtp://` STARTTLS, required: a relay that does not upgrade gets nothing, not a
 *   plain-text copy; `?tls=none` plain text (the config rules allow it to a loopback relay only).
 * - The relay's certificate is always verified. SMTP_CA_FILE adds CAs to the ones Node trusts; it is read and
 *   checked once, when the transport is made (at start-up), so a bad file stops the start rather than every send.
 * - Not pooled: each send opens its own connection. Our volume is a few messages per user action, and the outbox
 *   drainer sends them one by one; a fresh connection per message means a relay that restarted, or dropped an idle
 *   connection, costs nothing and never fails a message on a stale socket, and each error belongs to one message.
 * - nodemailer's logger and debug output stay off: its debug log carries the AUTH exchange and the message text.
 *   The transport is built from the parsed SMTP_URL's parts, never from the URL, so nodemailer's URL options
 *   (`?tls.rejectUnauthorized=false`) cannot reach it.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type ConnectionOptions, rootCertificates } from 'node:tls';
import type { Mailbox, SmtpTarget } from '@ironclad/config/email';
import { createTransport, type NodemailerError } from 'nodemailer';
import { StartupError } from '../lifecycle/startup-error.js';
import { type MailTransport, messageOptions, SendError } from './message.js';

export interface SmtpTransportOptions {
  target: SmtpTarget;
  caFile?: string | undefined;
  from: Mailbox;
  /** Every wait (connect, greeting, each read) at once; for tests. The whole send gets four times this. */
  timeoutMs?: number | undefined;
}

/** How long each step may take: a relay that does not answer within seconds is not going to. */
const CONNECTION_TIMEOUT_MS = 5_000;
const GREETING_TIMEOUT_MS = 5_000;
/** Silence allowed between two replies (a relay may scan a message for a while after DATA). */
const SOCKET_TIMEOUT_MS = 15_000;
/** The whole send, so that a relay dripping a byte every few seconds cannot hold a message forever. */
const SEND_DEADLINE_MS = 60_000;

/** "smtps://smtp.example.com:465": the relay without user or password, for the start-up log and errors. */
export function smtpDescription(target: SmtpTarget): string {
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  const scheme = target.tls === 'implicit' ? 'smtps' : 'smtp';
  return `${scheme}://${host}:${target.port}${target.tls === 'none' ? '?tls=none' : ''}`;
}

const BEGIN = '-----BEGIN CERTIFICATE-----';
const END = '-----END CERTIFICATE-----';

/** The PEM certificate blocks of a file, in order (cut by their markers: other PEM blocks and text are skipped). */
function pemCertificates(text: string): string[] {
  const blocks: string[] = [];
  for (let start = text.indexOf(BEGIN); start >= 0; start = text.indexOf(BEGIN, start + BEGIN.length)) {
    const end = text.indexOf(END, start + BEGIN.length);
    if (end < 0) break;
    blocks.push(text.slice(start, end + END.length));
  }
  return blocks;
}

/** The certificates of SMTP_CA_FILE, or a one-line StartupError saying what is wrong with the file. */
export function readCaFile(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new StartupError(
      `SMTP_CA_FILE ${path} cannot be read (${code}): point it at a readable PEM file of the relay's certificate authority, or unset it`,
      { cause: error },
    );
  }
  const certificates = pemCertificates(text);
  if (certificates.length === 0) {
    throw new StartupError(
      `SMTP_CA_FILE ${path} holds no PEM certificate (-----BEGIN CERTIFICATE-----): point it at the relay's certificate authority`,
    );
  }
  for (const [index, pem] of certificates.entries()) {
    try {
      new X509Certificate(pem);
    } catch (error) {
      throw new StartupError(
        `SMTP_CA_FILE ${path}: certificate ${index + 1} of ${certificates.length} cannot be parsed; check the file`,
        { cause: error },
      );
    }
  }
  return certificates;
}

/** The spellings of the credentials that could end up in an error's text (AUTH PLAIN is base64). */
function secretsOf(target: SmtpTarget): string[] {
  const secrets: string[] = [];
  if (target.password) {
    const user = target.user ?? '';
    secrets.push(
      target.password,
      encodeURIComponent(target.password),
      Buffer.from(target.password).toString('base64'),
      Buffer.from(`\u0000${user}\u0000${target.password}`).toString('base64'),
    );
  }
  return secrets.filter((secret) => secret.length > 0).sort((a, b) => b.length - a.length);
}

function redact(text: string, secrets: string[]): string {
  let result = text;
  for (const secret of secrets) result = result.replaceAll(secret, '[redacted]');
  return result;
}

/**
 * Permanent only when the relay refused THIS message for good: a 5xx (not 503) to RCPT TO or to the message
 * (an unknown mailbox, a refused content). Everything else is about the relay or our settings and heals when they
 * do: 4xx, no connection, a timeout, no STARTTLS or a certificate we do not trust (even when the refusal of
 * STARTTLS came as a 5xx: a relay or a middlebox that strips TLS must not make us drop mail, or send it in plain
 * text), a refused login, a refused sender (EMAIL_FROM not allowed on the relay).
 */
function isPermanent(error: NodemailerError): boolean {
  if (error.permanent !== true) return false;
  if (error.code !== 'EENVELOPE' && error.code !== 'EMESSAGE') return false;
  return error.command === 'RCPT TO' || error.command === 'DATA';
}

/** A TLS failure about the relay's certificate (untrusted, expired, for another name), by Node's codes or words. */
function isCertificateProblem(error: NodemailerError): boolean {
  const code = error.originalCode ?? '';
  return /CERT|SIGNATURE|ISSUER/.test(code) || /certificate/i.test(error.message);
}

/** What the operator can do about the common failures, after nodemailer's own words. */
function hint(error: NodemailerError): string {
  if (isCertificateProblem(error)) {
    return " (the relay's certificate is not trusted for this host: SMTP_CA_FILE adds a private certificate authority)";
  }
  switch (error.code) {
    case 'EAUTH':
    case 'ENOAUTH':
      return ' (check the user and password in SMTP_URL)';
    case 'ETLS':
      return ' (STARTTLS is required with smtp://: use smtps:// for a relay with implicit TLS on port 465)';
    case 'EABORT':
      return ' (gave up: the whole send took longer than its deadline)';
    default:
      return '';
  }
}

export function sendErrorFrom(error: unknown, description: string, secrets: string[]): SendError {
  if (error instanceof SendError) return error;
  const failure = (error instanceof Error ? error : new Error(String(error))) as NodemailerError;
  // nodemailer's message carries the relay's reply after its own words; keep one line of it, cut only after the
  // credentials are out (a cut through a password would leave the part before it).
  const firstLine = redact(failure.message.split(/\r?\n/, 1)[0] ?? '', secrets).slice(0, 300);
  const codes = [failure.code, failure.originalCode].filter((code) => code !== undefined && code !== '');
  const code = codes.length > 0 ? ` [${codes.join(' ')}]` : '';
  return new SendError(`${description}: ${firstLine}${code}${hint(failure)}`, isPermanent(failure));
}

export function createSmtpTransport(options: SmtpTransportOptions): MailTransport {
  const { target } = options;
  const description = smtpDescription(target);
  const secrets = secretsOf(target);
  const extraCas = options.caFile === undefined ? undefined : readCaFile(options.caFile);
  const tls: ConnectionOptions = {
    rejectUnauthorized: true,
    minVersion: 'TLSv1.2',
    // `ca` replaces Node's trusted CAs rather than adding to them: pass both.
    ...(extraCas ? { ca: [...rootCertificates, ...extraCas] } : {}),
  };
  const step = options.timeoutMs;
  const transporter = createTransport({
    // Plain text is allowed only to loopback (config.email.smtp-plaintext): `localhost` is connected to as 127.0.0.1
    // itself, so the name cannot be resolved through DNS to somewhere else.
    host: target.tls === 'none' && target.host === 'localhost' ? '127.0.0.1' : target.host,
    port: target.port,
    secure: target.tls === 'implicit',
    requireTLS: target.tls === 'starttls',
    ignoreTLS: target.tls === 'none',
    ...(target.user === undefined ? {} : { auth: { user: target.user, pass: target.password ?? '' } }),
    tls,
    connectionTimeout: step ?? CONNECTION_TIMEOUT_MS,
    greetingTimeout: step ?? GREETING_TIMEOUT_MS,
    socketTimeout: step ?? SOCKET_TIMEOUT_MS,
    dnsTimeout: step ?? CONNECTION_TIMEOUT_MS,
    logger: false,
    debug: false,
    transactionLog: false,
  });
  const deadline = step === undefined ? SEND_DEADLINE_MS : step * 4;
  return {
    description,
    async send(email) {
      const message = messageOptions(email, options.from);
      try {
        const info = await transporter.sendMail({ ...message, signal: AbortSignal.timeout(deadline) });
        return { note: info.messageId };
      } catch (error) {
        throw sendErrorFrom(error, description, secrets);
      }
    },
    async close() {
      transporter.close();
    },
  };
}
