/**
 * A real SMTP server on a loopback port for the email tests (the `smtp-server` package, the server side of the
 * nodemailer project; messages parsed back with `mailparser`). It speaks STARTTLS, implicit TLS or plain text,
 * with a certificate signed by a throwaway CA (certificates.ts, made once per test process by openssl, so a sink
 * restarted on the same port presents a certificate the same CA file still vouches for).
 *
 *   const sink = await startSmtpSink({ tls: 'starttls', auth: { user: 'relay', password: 'pw' } });
 *   // SMTP_URL=sink.url SMTP_CA_FILE=sink.caFile
 *   const mail = await sink.waitForMessage((m) => m.subject === 'Reset your password');
 *   await sink.stop();                                 // the relay goes away: sends fail, temporarily
 *   const again = await startSmtpSink({ tls: 'starttls', port: sink.port });   // and comes back
 *
 * TLS sinks need openssl: gate their suites with gateFor(..., ['openssl']). A plain-text sink needs nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ParsedMail, simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { type CertificateAuthority, makeCertificateAuthority } from './certificates.js';

export interface SmtpSinkOptions {
  /** 'starttls': plain until STARTTLS (which it offers); 'implicit': TLS from the first byte; 'none': no TLS at all. */
  tls: 'starttls' | 'implicit' | 'none';
  /** Require AUTH (PLAIN or LOGIN) with these; without it any client may send. */
  auth?: { user: string; password: string };
  /** Listen on this port (to come back where a stopped sink was); a free one by default. */
  port?: number;
  /** Recipients answered `550 5.1.1` at RCPT TO (an unknown mailbox). */
  rejectRecipients?: RegExp | ((address: string) => boolean);
  /** Answer every message at the end of DATA with 451 4.3.0 (temporary) or 554 5.6.0 (permanent) instead of taking it. */
  failWith?: 'temporary' | 'permanent';
  /**
   * STARTTLS sinks only: leave STARTTLS out of the EHLO answer while still accepting the command, as a middlebox
   * that strips it from the capability list would (the client must upgrade anyway, or send nothing).
   */
  hideStartTls?: boolean;
}

/** One accepted message with what the SMTP session knew about it. */
export interface Delivery {
  message: ParsedMail;
  /** The message exactly as received (CRLF line ends, headers as written by the client). */
  raw: string;
  /** Whether the session was encrypted (implicit TLS or after STARTTLS) when DATA arrived. */
  secure: boolean;
  /** The AUTH user name, when the client logged in. */
  user: string | undefined;
  mailFrom: string | undefined;
  rcptTo: string[];
}

export interface SmtpSink {
  readonly port: number;
  /** An SMTP_URL that points at this sink, with its credentials when it requires AUTH. */
  readonly url: string;
  /** PEM file of the CA that signed the sink's certificate (SMTP_CA_FILE); undefined for tls: 'none'. */
  readonly caFile: string | undefined;
  /** Every accepted message, parsed, in arrival order. */
  readonly messages: ParsedMail[];
  /** The same messages with their raw text and session facts. */
  readonly deliveries: Delivery[];
  /** The first message (already received or still to come) that matches; rejects after timeoutMs. */
  waitForMessage(predicate?: (message: ParsedMail) => boolean, timeoutMs?: number): Promise<ParsedMail>;
  /** Stops listening and drops open sessions at once; the port is free when this resolves. */
  stop(): Promise<void>;
}

let authority: CertificateAuthority | undefined;

/** The sinks' CA and certificate, made once per process (openssl takes a moment) and deleted at exit. */
function sinkCertificates(): CertificateAuthority {
  if (!authority) {
    const dir = mkdtempSync(join(tmpdir(), 'ironclad-smtp-sink-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    authority = makeCertificateAuthority(dir, 'Ironclad test SMTP CA');
  }
  return authority;
}

/** An Error that smtp-server answers with `code message`. */
function reply(code: number, message: string): Error & { responseCode: number } {
  return Object.assign(new Error(message), { responseCode: code });
}

function sinkUrl(options: SmtpSinkOptions, port: number): string {
  const credentials = options.auth
    ? `${encodeURIComponent(options.auth.user)}:${encodeURIComponent(options.auth.password)}@`
    : '';
  const scheme = options.tls === 'implicit' ? 'smtps' : 'smtp';
  const query = options.tls === 'none' ? '?tls=none' : '';
  return `${scheme}://${credentials}127.0.0.1:${port}${query}`;
}

export async function startSmtpSink(options: SmtpSinkOptions): Promise<SmtpSink> {
  const certificates = options.tls === 'none' ? undefined : sinkCertificates();
  const deliveries: Delivery[] = [];
  const messages: ParsedMail[] = [];
  const waiters = new Set<(message: ParsedMail) => void>();
  const rejects = (address: string) => {
    const rule = options.rejectRecipients;
    if (!rule) return false;
    return typeof rule === 'function' ? rule(address) : rule.test(address);
  };

  const serverOptions: SMTPServerOptions = {
    logger: false,
    // No reverse DNS for 127.0.0.1: it is slow where no resolver answers, and tells a test nothing.
    disableReverseLookup: true,
    // stop() should not wait half a minute for a client that is mid-session (a "killed" relay).
    closeTimeout: 50,
    secure: options.tls === 'implicit',
    ...(certificates ? { key: certificates.key, cert: certificates.cert } : {}),
    // 'none' really has no TLS: the command is refused, not merely left out of EHLO.
    disabledCommands: options.tls === 'none' ? ['STARTTLS'] : [],
    hideSTARTTLS: options.tls === 'none' || options.hideStartTls === true,
    authMethods: ['PLAIN', 'LOGIN'],
    authOptional: !options.auth,
    // As a real relay: AUTH only once the session is encrypted (except a plain-text sink, which never is).
    allowInsecureAuth: options.tls === 'none',
    onAuth(auth, _session, callback) {
      const expected = options.auth;
      if (expected && auth.username === expected.user && auth.password === expected.password) {
        callback(null, { user: auth.username });
        return;
      }
      callback(reply(535, '5.7.8 Authentication credentials invalid'));
    },
    onRcptTo(address, _session, callback) {
      if (rejects(address.address)) {
        callback(reply(550, `5.1.1 <${address.address}>: Recipient address rejected: no such mailbox`));
        return;
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', (error) => callback(error));
      stream.on('end', () => {
        if (options.failWith === 'temporary') {
          callback(reply(451, '4.3.0 Temporary failure, try again later'));
          return;
        }
        if (options.failWith === 'permanent') {
          callback(reply(554, '5.6.0 Message refused'));
          return;
        }
        const raw = Buffer.concat(chunks).toString('utf8');
        simpleParser(raw).then(
          (message) => {
            const mailFrom = session.envelope.mailFrom;
            deliveries.push({
              message,
              raw,
              secure: session.secure,
              user: typeof session.user === 'string' ? session.user : undefined,
              mailFrom: mailFrom ? mailFrom.address : undefined,
              rcptTo: session.envelope.rcptTo.map((recipient) => recipient.address),
            });
            messages.push(message);
            for (const waiter of waiters) waiter(message);
            callback();
          },
          (error: unknown) => callback(error instanceof Error ? error : new Error(String(error))),
        );
      });
    },
  };
  const server = new SMTPServer(serverOptions);
  // A client that hangs up mid-session is an error event on the server; the tests do that on purpose.
  server.on('error', () => {});

  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.server.off('error', reject);
      resolve();
    });
  });
  const port = (server.server.address() as { port: number }).port;

  let stopped: Promise<void> | undefined;
  return {
    port,
    url: sinkUrl(options, port),
    caFile: certificates?.caFile,
    messages,
    deliveries,
    waitForMessage(predicate = () => true, timeoutMs = 10_000) {
      const found = messages.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise<ParsedMail>((resolve, reject) => {
        const waiter = (message: ParsedMail) => {
          if (!predicate(message)) return;
          clearTimeout(timer);
          waiters.delete(waiter);
          resolve(message);
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(
            new Error(`no matching message reached the SMTP sink in ${timeoutMs} ms (${messages.length} received)`),
          );
        }, timeoutMs);
        waiters.add(waiter);
      });
    },
    stop() {
      stopped ??= new Promise<void>((resolve) => server.close(() => resolve()));
      return stopped;
    },
  };
}
