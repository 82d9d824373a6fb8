/**
 * The durable outbox: an email is a row written in the same transaction as what caused it, and a drainer in every
 * server process sends the rows and deletes them once the relay took them. So a request never waits for SMTP, an
 * SMTP outage only delays mail, and a crash between the request and the send loses nothing: the row is still there
 * at the next start (or on another instance).
 *
 * Several processes share the table: a drainer claims a few due rows at a time with `FOR UPDATE SKIP LOCKED` and a
 * lease (locked_until), so two never send the same row, and a row whose drainer died is taken again once its lease
 * is over. Delivery is at least once: a process killed after the relay accepted a message and before its row was
 * deleted sends it again after the lease (for a reset email that second message carries a new link, which replaces
 * the first).
 *
 * Hand-written rather than a job-queue library: pg-boss and graphile-worker need a real PostgreSQL server (LISTEN,
 * their own schema and functions, session-level features that break behind PgBouncer in transaction mode), while
 * this table works the same on the embedded database and through any pooler, with one indexed UPDATE per poll.
 */
import { and, asc, eq, inArray, isNull, lt, lte, or, sql } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../db/connect.js';
import { emailOutbox } from '../db/schema.js';
import type { ClientInfo } from '../users/client-info.js';

export type EmailKind = 'password-reset' | 'password-changed';

export interface OutgoingEmail {
  to: string;
  subject: string;
  text: string;
}

/** What delivers: SMTP or the .eml folder (email/transport.ts). */
export interface Mailer {
  send(email: OutgoingEmail): Promise<{ note: string }>;
  readonly description: string;
  close(): Promise<void>;
}

export type OutboxJob = typeof emailOutbox.$inferSelect;

/** Turns a claimed row into the email to send, or undefined when there is nothing to send any more. */
export type Composer = (job: OutboxJob) => Promise<OutgoingEmail | undefined>;

export interface OutboxOptions {
  /** How often an idle drainer looks for due rows written by other processes. */
  pollMs: number;
  /** How long a claim lasts; longer than a send can take (the transport's timeouts). */
  leaseMs: number;
  /** Past this age an undelivered email is given up (logged as an error). */
  giveUpAfterMs: number;
  /** Rows claimed per round. */
  batch: number;
}

export const OUTBOX_DEFAULTS: OutboxOptions = {
  pollMs: 5_000,
  leaseMs: 90_000,
  giveUpAfterMs: 3 * 86_400_000,
  batch: 10,
};

/** Retry delay after the nth failed attempt: 5 s doubling to an hour, with ±20% jitter so instances spread out. */
export function retryDelayMs(attempts: number, random = Math.random): number {
  const base = Math.min(5_000 * 2 ** Math.max(0, attempts - 1), 3_600_000);
  return Math.round(base * (0.8 + 0.4 * random()));
}

/** Writes an email to send; pass the transaction of what caused it. */
export async function enqueueEmail(
  db: Db,
  job: { kind: EmailKind; recipient: string; userId?: number; client: ClientInfo },
): Promise<void> {
  await db.insert(emailOutbox).values({
    kind: job.kind,
    recipient: job.recipient,
    userId: job.userId ?? null,
    ip: job.client.ip,
    userAgent: job.client.userAgent,
  });
}

function describeFailure(error: unknown): { permanent: boolean; text: string } {
  const permanent = (error as { permanent?: unknown }).permanent === true;
  const message = error instanceof Error ? error.message : String(error);
  return { permanent, text: message.slice(0, 200) };
}

export class EmailOutbox {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = true;

  constructor(
    private readonly db: Db,
    private readonly mailer: Mailer,
    private readonly compose: Record<EmailKind, Composer>,
    private readonly log: FastifyBaseLogger,
    private readonly options: OutboxOptions = OUTBOX_DEFAULTS,
  ) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.poke();
  }

  /** Something was just enqueued here: look now instead of at the next poll. */
  poke(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.running = this.drain().finally(() => {
      this.running = undefined;
      if (this.stopped) return;
      if (this.again) {
        this.again = false;
        this.poke();
        return;
      }
      this.timer = setTimeout(() => this.poke(), this.options.pollMs);
      this.timer.unref();
    });
  }

  /** Stops polling and waits for the round in flight (its claims are released or completed). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
    await this.mailer.close();
  }

  /** Waits for the round in flight, then sends whatever is still due (tests, and anyone who must see it sent). */
  async flush(): Promise<void> {
    while (this.running) await this.running;
    await this.drain();
  }

  /** Sends everything due now; rounds until none is left. Errors are logged, never thrown. */
  async drain(): Promise<void> {
    try {
      for (;;) {
        const jobs = await this.claim();
        if (jobs.length === 0) return;
        for (const job of jobs) await this.deliver(job);
        if (this.stopped) return;
      }
    } catch (error) {
      // The database is away (or read-only): the rows wait for it; nothing was lost.
      this.log.warn({ err: error }, 'email outbox: could not reach the database; will retry');
    }
  }

  private async claim(): Promise<OutboxJob[]> {
    const due = this.db
      .select({ id: emailOutbox.id })
      .from(emailOutbox)
      .where(
        and(
          lte(emailOutbox.nextAttemptAt, sql`now()`),
          or(isNull(emailOutbox.lockedUntil), lt(emailOutbox.lockedUntil, sql`now()`)),
        ),
      )
      .orderBy(asc(emailOutbox.id))
      .limit(this.options.batch)
      .for('update', { skipLocked: true });
    return this.db
      .update(emailOutbox)
      .set({
        attempts: sql`${emailOutbox.attempts} + 1`,
        lockedUntil: sql`now() + ${`${this.options.leaseMs} milliseconds`}::interval`,
      })
      .where(inArray(emailOutbox.id, due))
      .returning();
  }

  private async deliver(job: OutboxJob): Promise<void> {
    const context = { email_id: job.id, kind: job.kind, attempt: job.attempts };
    let email: OutgoingEmail | undefined;
    try {
      email = await this.compose[job.kind as EmailKind]?.(job);
    } catch (error) {
      return this.retryLater(job, error, context);
    }
    if (!email) {
      // Nothing to send any more (no account has the address, the request is stale): not an error, and the log
      // does not say which, so it tells nobody whether an address has an account.
      await this.done(job);
      return;
    }
    try {
      const { note } = await this.mailer.send(email);
      await this.done(job);
      this.log.info({ ...context, outbox: note }, 'email sent');
    } catch (error) {
      const failure = describeFailure(error);
      if (failure.permanent) {
        await this.done(job);
        this.log.error({ ...context, error: failure.text }, 'email refused by the relay for good; dropped');
        return;
      }
      await this.retryLater(job, error, context);
    }
  }

  private async done(job: OutboxJob): Promise<void> {
    await this.db.delete(emailOutbox).where(eq(emailOutbox.id, job.id));
  }

  private async retryLater(job: OutboxJob, error: unknown, context: Record<string, unknown>): Promise<void> {
    const failure = describeFailure(error);
    const age = Date.now() - new Date(job.createdAt).getTime();
    if (age > this.options.giveUpAfterMs) {
      await this.done(job);
      this.log.error({ ...context, error: failure.text }, 'email undeliverable for too long; dropped');
      return;
    }
    const delayMs = retryDelayMs(job.attempts);
    await this.db
      .update(emailOutbox)
      .set({
        nextAttemptAt: new Date(Date.now() + delayMs),
        lockedUntil: null,
        lastError: failure.text,
      })
      .where(eq(emailOutbox.id, job.id));
    this.log.warn({ ...context, error: failure.text, retry_in_ms: delayMs }, 'email not sent yet; will retry');
  }
}
