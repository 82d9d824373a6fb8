/**
 * The development outbox: without SMTP_URL every email is written as an .eml file to DATA_DIR/outbox/, so a
 * developer can open it (any mail program reads .eml) and click its link. The file is the real RFC 5322 message,
 * built by nodemailer's stream transport exactly as it would go to a relay; only the delivery differs.
 *
 * A reset link is a credential until it is used, so the folder is the owner's alone (0700) and so is each file
 * (0600), whatever the umask: both are set explicitly after creation. File names carry the time and a random
 * suffix, never anything from the message (no address in a directory listing).
 */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Mailbox } from '@ironclad/config/email';
import { createTransport } from 'nodemailer';
import { type MailTransport, messageOptions, SendError } from './message.js';

export interface FileTransportOptions {
  from: Mailbox;
  dataDir: string;
}

/** `20261201T102344.123Z-9f2c4e1ab03d.eml`: ISO 8601 basic format (no colons, valid on every filesystem), sortable. */
export function outboxFileName(now: Date): string {
  return `${now.toISOString().replace(/[-:]/g, '')}-${randomBytes(6).toString('hex')}.eml`;
}

export function createFileTransport(options: FileTransportOptions): MailTransport {
  const dir = resolve(options.dataDir, 'outbox');
  const composer = createTransport({ streamTransport: true, buffer: true, newline: 'windows' });
  return {
    description: `files in ${dir}`,
    async send(email) {
      const composed = messageOptions(email, options.from);
      let message: Buffer;
      try {
        const built = (await composer.sendMail(composed)).message;
        if (!Buffer.isBuffer(built)) throw new Error('not a buffer');
        message = built;
      } catch (error) {
        // The same message would fail the same way next time.
        throw new SendError(`the message could not be built (${(error as Error).message})`, true);
      }
      const path = join(dir, outboxFileName(new Date()));
      let created = false;
      try {
        await mkdir(dir, { recursive: true, mode: 0o700 });
        await chmod(dir, 0o700);
        // 'wx': never overwrite (the random suffix makes a clash practically impossible; this makes it harmless).
        const file = await open(path, 'wx', 0o600);
        created = true;
        try {
          await file.chmod(0o600);
          await file.writeFile(message);
          await file.sync();
        } finally {
          await file.close();
        }
      } catch (error) {
        // No half-written message left behind for a developer to open; the drainer retries the whole one.
        if (created) await rm(path, { force: true }).catch(() => {});
        const code = (error as NodeJS.ErrnoException).code ?? 'error';
        throw new SendError(`cannot write the email to ${dir} (${code})`, false);
      }
      return { note: path };
    },
    async close() {
      composer.close();
    },
  };
}
