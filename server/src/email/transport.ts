// TEMPORARY (replaced by the mail helper's transport on merge): file outbox only.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Mailbox, PublicUrl, SmtpTarget } from '@ironclad/config/email';
import nodemailer from 'nodemailer';
import type { Mailer, OutgoingEmail } from './outbox.js';

export class SendError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
  }
}
export function defaultFrom(publicUrl: PublicUrl | undefined): Mailbox {
  return { name: 'Ironclad Tasks', address: `no-reply@${publicUrl?.hostname ?? 'localhost'}` };
}
export function createMailTransport(options: {
  smtp?: SmtpTarget;
  caFile?: string;
  from: Mailbox;
  dataDir: string;
  timeoutMs?: number;
}): Mailer {
  const dir = resolve(options.dataDir, 'outbox');
  const transport = nodemailer.createTransport({ streamTransport: true, buffer: true });
  return {
    description: `files in ${dir}`,
    async send(email: OutgoingEmail) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const info = await transport.sendMail({ from: options.from, ...email });
      const path = join(
        dir,
        `${new Date().toISOString().replace(/[:.]/g, '-')}-${Math.random().toString(36).slice(2)}.eml`,
      );
      writeFileSync(path, info.message as Buffer, { mode: 0o600 });
      return { note: path };
    },
    async close() {},
  };
}
