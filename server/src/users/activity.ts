/**
 * The account's security events (GET /users/activity/): what happened, when, from which address and client.
 * Bounded twice, so nobody can grow it without limit (failed logins by strangers included): events older than
 * ACTIVITY_RETENTION go, and only the newest ACTIVITY_MAX_ROWS per account stay. Both are applied on every write (an
 * indexed range delete on (user_id, id)) and by the hourly housekeeping (email/housekeeping.ts) for idle accounts.
 */
import { and, desc, eq, inArray, lt, lte, notInArray, sql } from 'drizzle-orm';
import type { Db } from '../db/connect.js';
import { securityEvents } from '../db/schema.js';
import { ACTIVITY_MAX_ROWS } from '../rules/limits.js';
import type { ClientInfo } from './client-info.js';

export const ACTIVITY_KINDS = [
  'signup',
  'login',
  'login-failed',
  'password-check-failed',
  'logout',
  'password-changed',
  'password-reset-requested',
  'password-reset-completed',
  'session-ended',
  'logout-all',
  'export',
] as const;
export type ActivityKind = (typeof ACTIVITY_KINDS)[number];

/**
 * Failures anyone can cause (wrong passwords at login; with a session, at password change or deletion) are kept
 * apart, at most this many: strangers can never push the owner's own events (signup, logins, changes) out.
 */
export const FAILED_EVENTS_MAX = 200;
const FAILURES: readonly ActivityKind[] = ['login-failed', 'password-check-failed'];

/** How many events GET /activity/ answers (the export has them all). */
export const ACTIVITY_PAGE = 200;

export interface ActivityRow {
  id: number;
  kind: string;
  at: Date;
  ip: string | null;
  user_agent: string | null;
}

export class ActivityLog {
  constructor(
    private readonly db: Db,
    private readonly retentionMs: number,
  ) {}

  async record(userId: number, kind: ActivityKind, client: ClientInfo, db: Db = this.db): Promise<void> {
    await db.insert(securityEvents).values({ userId, kind, ip: client.ip, userAgent: client.userAgent });
    await this.trim(userId, FAILURES.includes(kind), db);
  }

  /**
   * Drops what is past the retention, and beyond the newest of the same class (failures: FAILED_EVENTS_MAX; the
   * rest: ACTIVITY_MAX_ROWS) of one account.
   */
  async trim(userId: number, failures: boolean, db: Db = this.db): Promise<void> {
    const sameClass = failures
      ? inArray(securityEvents.kind, [...FAILURES])
      : notInArray(securityEvents.kind, [...FAILURES]);
    const oldestKept = db
      .select({ id: securityEvents.id })
      .from(securityEvents)
      .where(and(eq(securityEvents.userId, userId), sameClass))
      .orderBy(desc(securityEvents.id))
      .offset((failures ? FAILED_EVENTS_MAX : ACTIVITY_MAX_ROWS) - 1)
      .limit(1);
    await db
      .delete(securityEvents)
      .where(
        and(
          eq(securityEvents.userId, userId),
          sql`(${lt(securityEvents.at, new Date(Date.now() - this.retentionMs))} OR (${sameClass} AND ${lt(securityEvents.id, sql`(${oldestKept})`)}))`,
        ),
      );
  }

  /** Every account's events past the retention (housekeeping). */
  async trimAll(): Promise<void> {
    await this.db.delete(securityEvents).where(lte(securityEvents.at, new Date(Date.now() - this.retentionMs)));
  }

  async list(userId: number, limit = ACTIVITY_PAGE): Promise<ActivityRow[]> {
    return this.db
      .select({
        id: securityEvents.id,
        kind: securityEvents.kind,
        at: securityEvents.at,
        ip: securityEvents.ip,
        user_agent: securityEvents.userAgent,
      })
      .from(securityEvents)
      .where(eq(securityEvents.userId, userId))
      .orderBy(desc(securityEvents.id))
      .limit(limit);
  }
}
