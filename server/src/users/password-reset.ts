/**
 * Password reset by email.
 *
 * Asking (POST /password/reset/) does the same work whatever the address: it writes an outbox row naming only the
 * address. No token exists yet, so the answer, its body and its time say nothing about whether an account has the
 * address. From that moment an older link of the account is refused (a newer request is queued), and the drainer's
 * new link replaces it.
 *
 * The drainer (email/outbox.ts) then looks the address up. For an account it makes the token (256 random bits,
 * stored only as its keyed hash, like session tokens), and sends `PUBLIC_URL/#reset=<token>`: in the fragment, so it
 * never reaches a server log, a proxy or a Referer header. A request older than PASSWORD_RESET_TTL, or older than the
 * account's last password change, is not sent.
 *
 * Using the link (POST /password/reset/confirm/) deletes it in the transaction that sets the password, so it works
 * once; the link also dies at PASSWORD_RESET_TTL, when a newer one is asked for, and when the password changes any
 * other way (change, or deleting the account).
 */
import { randomBytes } from 'node:crypto';
import { and, eq, gt, inArray, sql } from 'drizzle-orm';
import type { Db } from '../db/connect.js';
import { emailOutbox, passwordResets, users } from '../db/schema.js';
import { enqueueEmail, type OutboxJob, type OutgoingEmail } from '../email/outbox.js';
import type { ActivityLog } from './activity.js';
import type { ClientInfo } from './client-info.js';
import type { TokenHasher } from './tokens.js';

const PREFIX = 'icr_';
const RESET_TOKEN = /^icr_[A-Za-z0-9_-]{43}$/;

export function looksLikeResetToken(value: string): boolean {
  return RESET_TOKEN.test(value);
}

/**
 * The keyed hash of a reset token. Its own purpose in the hashed text, so a reset token's hash can never match a
 * session token's even if someone swapped the prefixes.
 */
function purpose(token: string): string {
  return `ironclad-reset\0${token}`;
}

export interface ResetEmailText {
  /** Where people open the app, without a trailing slash (PUBLIC_URL, never the request). */
  linkBase: () => string;
  ttlMs: number;
}

export class PasswordResets {
  constructor(
    private readonly db: Db,
    private readonly hasher: TokenHasher,
    private readonly activity: ActivityLog,
    private readonly text: ResetEmailText,
  ) {}

  /**
   * The request path: one outbox row, the same for every address (see the file comment). It deletes nothing: a
   * pending link that a newer request kills is refused from now on by `live()`, because deleting it here would make
   * the request slower exactly when an account has the address.
   */
  async request(email: string, client: ClientInfo): Promise<void> {
    await enqueueEmail(this.db, { kind: 'password-reset', recipient: email, client });
  }

  /** The drainer's side of a reset request: makes the link and its email, or nothing. */
  async compose(job: OutboxJob): Promise<OutgoingEmail | undefined> {
    const [user] = await this.db
      .select({ id: users.id, email: users.email, passwordChangedAt: users.passwordChangedAt })
      .from(users)
      .where(eq(users.email, job.recipient));
    if (!user) return undefined;
    const askedAt = new Date(job.createdAt).getTime();
    if (Date.now() - askedAt > this.text.ttlMs) return undefined;
    if (new Date(user.passwordChangedAt).getTime() > askedAt) return undefined;
    const token = PREFIX + randomBytes(32).toString('base64url');
    const expiresAt = new Date(Date.now() + this.text.ttlMs);
    await this.db.transaction(async (tx) => {
      const values = { userId: user.id, tokenHash: this.hasher.forStorage(purpose(token)), expiresAt };
      await tx
        .insert(passwordResets)
        .values(values)
        .onConflictDoUpdate({
          target: passwordResets.userId,
          set: { tokenHash: values.tokenHash, expiresAt, createdAt: sql`now()` },
        });
      // Once per request, however many attempts its email takes.
      if (job.attempts <= 1) {
        const client = { ip: job.ip, userAgent: job.userAgent };
        await this.activity.record(user.id, 'password-reset-requested', client, tx as unknown as Db);
      }
    });
    return resetEmail(user.email, `${this.text.linkBase()}/#reset=${token}`, this.text.ttlMs, job);
  }

  /** The account a live link belongs to, without using it (so a bad link costs no password hash). */
  async peek(token: string): Promise<number | undefined> {
    if (!looksLikeResetToken(token)) return undefined;
    const [row] = await this.db.select({ userId: passwordResets.userId }).from(passwordResets).where(this.live(token));
    return row?.userId;
  }

  /** Uses the link inside the caller's transaction: answers its account once, then never again. */
  async consume(token: string, tx: Db): Promise<number | undefined> {
    if (!looksLikeResetToken(token)) return undefined;
    const [row] = await tx.delete(passwordResets).where(this.live(token)).returning({ userId: passwordResets.userId });
    return row?.userId;
  }

  /** The account's pending link, as the export shows it (times only; never its hash). */
  async pending(userId: number): Promise<{ created_at: Date; expires_at: Date } | null> {
    const [row] = await this.db
      .select({ created_at: passwordResets.createdAt, expires_at: passwordResets.expiresAt })
      .from(passwordResets)
      .where(eq(passwordResets.userId, userId));
    return row ?? null;
  }

  /** Queued reset requests for an address (deleting its account leaves nothing of it queued). */
  async forgetAddress(email: string, tx: Db = this.db): Promise<void> {
    await tx.delete(emailOutbox).where(eq(emailOutbox.recipient, email));
  }

  /** Any other password change kills a pending link. */
  async clear(userId: number, tx: Db = this.db): Promise<void> {
    await tx.delete(passwordResets).where(eq(passwordResets.userId, userId));
  }

  /**
   * The link is this token's, not expired, and no newer reset request for the account's address is queued (that
   * one's email will carry the link that replaces this one).
   */
  private live(token: string) {
    const newer = sql`EXISTS (SELECT 1 FROM ${emailOutbox} JOIN ${users} ON ${users.email} = ${emailOutbox.recipient}
      WHERE ${users.id} = ${passwordResets.userId} AND ${emailOutbox.kind} = 'password-reset'
      AND ${emailOutbox.createdAt} > ${passwordResets.createdAt})`;
    return and(
      inArray(passwordResets.tokenHash, this.hasher.candidates(purpose(token))),
      gt(passwordResets.expiresAt, sql`now()`),
      sql`NOT ${newer}`,
    );
  }
}

/** Deletes links past their expiry (housekeeping). */
export async function deleteExpiredResets(db: Db): Promise<void> {
  await db.delete(passwordResets).where(sql`${passwordResets.expiresAt} < now()`);
}

function minutes(ms: number): string {
  const count = Math.round(ms / 60_000);
  return count === 1 ? '1 minute' : `${count} minutes`;
}

function askedFrom(job: OutboxJob): string {
  return job.ip ? ` It was asked from the address ${job.ip}.` : '';
}

function resetEmail(to: string, link: string, ttlMs: number, job: OutboxJob): OutgoingEmail {
  return {
    to,
    subject: 'Reset your Ironclad Tasks password',
    text: [
      'Hello,',
      '',
      `Someone asked to reset the password of the Ironclad Tasks account ${to}.${askedFrom(job)}`,
      '',
      `To choose a new password, open this link within ${minutes(ttlMs)}:`,
      '',
      link,
      '',
      'The link works once. If you did not ask for it, ignore this email: your password stays as it is.',
      '',
      '— Ironclad Tasks',
    ].join('\n'),
  };
}

/** The notice after any password change (by the account's owner or through a reset link). */
export function passwordChangedEmail(to: string, linkBase: string, job: OutboxJob): OutgoingEmail {
  return {
    to,
    subject: 'Your Ironclad Tasks password was changed',
    text: [
      'Hello,',
      '',
      `The password of the Ironclad Tasks account ${to} was just changed.${askedFrom(job)} Every other signed-in device was signed out.`,
      '',
      `If this was not you, reset your password now ("Forgot password?" at ${linkBase}/) and check the account's sessions and activity.`,
      '',
      '— Ironclad Tasks',
    ].join('\n'),
  };
}
