/**
 * What expires without anyone asking: sessions past their expiry (ended ones included), reset links past theirs,
 * security events past ACTIVITY_RETENTION. Login and each new event already trim their own account; this hourly
 * round covers the accounts nobody uses any more, so stored rows stay bounded by time, not only by activity.
 * Every server process runs it; the deletes are idempotent and indexed, so running it twice costs little.
 */
import { lt, sql } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import type { Db } from '../db/connect.js';
import { sessions } from '../db/schema.js';
import type { ActivityLog } from './activity.js';
import { deleteExpiredResets } from './password-reset.js';

export const HOUSEKEEPING_EVERY_MS = 3_600_000;

export async function housekeeping(db: Db, activity: ActivityLog): Promise<void> {
  await db.delete(sessions).where(lt(sessions.expiresAt, sql`now()`));
  await deleteExpiredResets(db);
  await activity.trimAll();
}

/** Runs `housekeeping` now and every hour until the returned function is called. Failures are logged, not thrown. */
export function scheduleHousekeeping(db: Db, activity: ActivityLog, log: FastifyBaseLogger): () => void {
  const run = () =>
    housekeeping(db, activity).catch((error: unknown) => log.warn({ err: error }, 'housekeeping failed; will retry'));
  const first = setTimeout(run, 10_000);
  const timer = setInterval(run, HOUSEKEEPING_EVERY_MS);
  first.unref();
  timer.unref();
  return () => {
    clearTimeout(first);
    clearInterval(timer);
  };
}
