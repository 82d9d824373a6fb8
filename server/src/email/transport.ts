/**
 * How an email leaves the server: through the relay of SMTP_URL (smtp.ts), or, without one, as an .eml file in
 * DATA_DIR/outbox/ for development (files.ts). The outbox drainer calls send() and decides about retries from
 * SendError.permanent; this module never retries by itself.
 *
 *   const mail = createMailTransport({ smtp: config.SMTP_URL, caFile: config.SMTP_CA_FILE,
 *     from: config.EMAIL_FROM ?? defaultFrom(config.PUBLIC_URL), dataDir: config.DATA_DIR });
 *   log.info(`email: ${mail.description}`);
 */
import { isIP } from 'node:net';
import type { Mailbox, PublicUrl, SmtpTarget } from '@ironclad/config/email';
import { createFileTransport } from './files.js';
import type { MailTransport } from './message.js';
import { createSmtpTransport } from './smtp.js';

export { type MailTransport, type OutgoingEmail, SendError } from './message.js';

export interface MailTransportOptions {
  /** SMTP_URL, parsed; without it emails become files. */
  smtp?: SmtpTarget | undefined;
  /** SMTP_CA_FILE: read and checked here, at once (a StartupError when it is missing or holds no certificate). */
  caFile?: string | undefined;
  from: Mailbox;
  dataDir: string;
  /** For tests: every SMTP wait (connect, greeting, replies) takes at most this long. */
  timeoutMs?: number | undefined;
}

export function createMailTransport(options: MailTransportOptions): MailTransport {
  if (options.smtp) {
    return createSmtpTransport({
      target: options.smtp,
      caFile: options.caFile,
      from: options.from,
      timeoutMs: options.timeoutMs,
    });
  }
  return createFileTransport({ from: options.from, dataDir: options.dataDir });
}

/**
 * EMAIL_FROM's default: "Ironclad Tasks <no-reply@host of PUBLIC_URL>", or no-reply@localhost without one. An IP
 * address is not a mail domain (it would have to be written as a [literal], which EMAIL_FROM does not accept
 * either), so a PUBLIC_URL on an address gets localhost too: set EMAIL_FROM for a real sender.
 */
export function defaultFrom(publicUrl: PublicUrl | undefined): Mailbox {
  const host = publicUrl?.hostname;
  const domain = host && isIP(host.replace(/^\[|\]$/g, '')) === 0 ? host : 'localhost';
  return { name: 'Ironclad Tasks', address: `no-reply@${domain}` };
}
