/**
 * The emails the zero-config server writes as .eml files under DATA_DIR/outbox/ (no SMTP_URL), read the way a
 * mail client would (mailparser undoes the quoted-printable body), for the browser tests to follow their links.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { simpleParser } from 'mailparser';

export interface Email {
  to: string;
  subject: string;
  text: string;
}

/** Waits for the next email to `address` that no earlier call returned. */
export async function nextEmail(outbox: string, address: string, taken: Set<string>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    let files: string[] = [];
    try {
      files = readdirSync(outbox).filter((file) => file.endsWith('.eml') && !taken.has(file));
    } catch {
      // The folder is made with the first email.
    }
    for (const file of files.sort()) {
      const parsed = await simpleParser(readFileSync(join(outbox, file)));
      const to = [parsed.to ?? []]
        .flat()
        .map((entry) => entry.text)
        .join(', ');
      if (!to.includes(address)) continue;
      taken.add(file);
      return { to, subject: parsed.subject ?? '', text: parsed.text ?? '' } satisfies Email;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no email to ${address} in ${outbox} within ${timeoutMs} ms`);
}

/** The reset link in an email's text: the word that contains `#reset=`. */
export function resetLinkIn(text: string): string {
  const at = text.indexOf('#reset=');
  if (at < 0) throw new Error(`no reset link in:\n${text}`);
  const start = Math.max(text.lastIndexOf(' ', at), text.lastIndexOf('\n', at)) + 1;
  const rest = text.slice(at).search(/\s/);
  return text.slice(start, rest < 0 ? undefined : at + rest);
}
