/**
 * The account's security events (GET /users/activity/): what happened, when, from which address and client.
 * Bounded twice, so nobody can grow it without limit (failed logins by strangers included): events older than
 * ACTIVITY_RETENTION go, and only the newest ACTIVITY_MAX_ROWS per account stay. Both are applied on every write (an
 * indexed range delete on (user_id, id)) and by the hourly housekeeping (email/housekeeping.ts) for idle accounts.
 */
import { and, desc, eq, lt, lte, sql } from 'drizzle-orm';
import type { Db } from '../db/connect.js';
import { securityEvents } from '../db/schema.js';
import { ACTIVITY_MAX_ROWS } from '../rules/limits.js';
import type { ClientInfo } from './client-info.js';

export const ACTIVITY_KINDS = [
  'signup',
  'login',
  'login-failed',
  'logout',
  'password-changed',
  'password-reset-requested',
  'password-reset-completed',
  'session-ended',
  'logout-all',
  'export',
] as const;
export type ActivityKind = (typeof ACTIVITY_KINDS)[number];

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
    await this.trim(userId, db);
  }

  /** Drops what is past the retention or beyond the newest ACTIVITY_MAX_ROWS of one account. */
  async trim(userId: number, db: Db = this.db): Promise<void> {
    const oldestKept = db
      .select({ id: securityEvents.id })
      .from(securityEvents)
      .where(eq(securityEvents.userId, userId))
      .orderBy(desc(securityEvents.id))
      .offset(ACTIVITY_MAX_ROWS - 1)
      .limit(1);
    await db
      .delete(securityEvents)
      .where(
        and(
          eq(securityEvents.userId, userId),
          sql`(${lt(securityEvents.at, new Date(Date.now() - this.retentionMs))} OR ${lt(securityEvents.id, sql`(${oldestKept})`)})`,
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
