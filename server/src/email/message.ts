/**
 * What every mail transport shares: the email the outbox hands over, the error it gets back, and the one place an
 * email becomes nodemailer's message options. The MIME text itself (encoded words, line folding, quoted-printable)
 * is always nodemailer's: nothing here writes a header line by hand.
 */
import type { Mailbox } from '@ironclad/config/email';
import type { SendMailOptions } from 'nodemailer';

export interface OutgoingEmail {
  /** One plain address (the account's email): no display name, no list. */
  to: string;
  subject: string;
  text: string;
  html?: string;
}

/**
 * A send that did not deliver. `permanent`: the relay refused this message for good (a 5xx answer to the recipient
 * or the message, such as an unknown mailbox), or it can never be sent (not one plain address); retrying would get
 * the same answer. Otherwise temporary: the relay answered 4xx, could not be reached, timed out, did not offer TLS
 * or presented a certificate we do not trust, or refused our login. Those are about the relay or its settings, not
 * the message, and the outbox keeps the message for later. The message never holds a credential.
 */
export class SendError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
    this.name = 'SendError';
  }
}

export interface MailTransport {
  /**
   * Delivers or throws SendError. Resolves with a short note for the log: the message id, or for the file outbox
   * the path of the .eml written. Never includes a credential.
   */
  send(email: OutgoingEmail): Promise<{ note: string }>;
  /** For the start-up log: "smtps://smtp.example.com:465" without user or password, or "files in /abs/data/outbox". */
  readonly description: string;
  close(): Promise<void>;
}

/**
 * One plain address and nothing else: no display name, no second address, no space or control character (a line
 * break would start a new header). The routes only store addresses their schema accepted; this holds the line at
 * the last step too, and nodemailer gets a structured recipient, never text to parse.
 */
const PLAIN_ADDRESS = /^[^\s\p{Cc}@<>,;:"()[\]\\]+@[^\s\p{Cc}@<>,;:"()[\]\\]+$/u;
const CONTROL = /\p{Cc}/u;

/**
 * Nodemailer's options for `email` from `from`, or a permanent SendError for what must never be sent: a recipient
 * that is not one plain address, a subject with a line break or another control character (it would be a header
 * injection if anything downstream wrote it raw). Subjects are ours, so refusing costs nothing.
 */
export function messageOptions(email: OutgoingEmail, from: Mailbox): SendMailOptions {
  if (email.to.length > 254 || !PLAIN_ADDRESS.test(email.to)) {
    throw new SendError('the recipient is not one plain email address', true);
  }
  if (CONTROL.test(email.subject)) {
    throw new SendError('the subject holds a line break or another control character', true);
  }
  return {
    from: { name: from.name ?? '', address: from.address },
    to: { name: '', address: email.to },
    // The envelope is stated, not derived from the headers: exactly one RCPT TO, the address checked above.
    envelope: { from: from.address, to: [email.to] },
    subject: email.subject,
    text: email.text,
    ...(email.html === undefined ? {} : { html: email.html }),
    // Our messages carry no attachments: nodemailer must never read a file or fetch a URL on a message's behalf.
    disableFileAccess: true,
    disableUrlAccess: true,
  };
}
