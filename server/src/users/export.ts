/**
 * GET /users/export/: everything stored about the account as one JSON document: the profile, every task, the live
 * sessions and the activity. Never a password hash, a token or a token's hash: each table is read with an explicit
 * column list, so a column added later is not exported by accident.
 *
 * Streamed in pages of EXPORT_PAGE tasks, so an account at its TASK_QUOTA (10,000 tasks of up to 10,000 characters)
 * costs the server one page of memory, not the whole document; a client that stops reading is cut after EXPORT_IDLE_MS.
 */
import { Readable } from 'node:stream';
import { and, asc, eq, gt } from 'drizzle-orm';
import type { Db } from '../db/connect.js';
import { tasks } from '../db/schema.js';
import { ACTIVITY_MAX_ROWS } from '../rules/limits.js';
import { type ActivityLog, type ActivityRow, FAILED_EVENTS_MAX } from './activity.js';
import type { UserInfoRow } from './repository.js';

/**
 * Tasks per page: at most 100 x (255 + 10,000 characters, up to 3 bytes each) ~ 3 MB in memory per export at the
 * quota's worst, while an ordinary account (short tasks) still takes few round trips.
 */
export const EXPORT_PAGE = 100;
/** A download that makes no progress for this long (a client that stopped reading) is cut. */
export const EXPORT_IDLE_MS = 30_000;

export interface ExportParts {
  account: UserInfoRow;
  /** Every session row the account has, ended ones (kept until they would have expired) included. */
  sessions: unknown[];
  activity: ActivityRow[];
  /** A pending reset link's times, or null. */
  password_reset: { created_at: Date; expires_at: Date } | null;
}

/** Reads what is small up front (so a database error is a clean 503, not a cut download), then streams the tasks. */
export async function exportParts(
  account: UserInfoRow,
  sessions: unknown[],
  activity: ActivityLog,
  passwordReset: ExportParts['password_reset'],
): Promise<ExportParts> {
  const events = await activity.list(account.id, ACTIVITY_MAX_ROWS + FAILED_EVENTS_MAX);
  return { account, sessions, activity: events, password_reset: passwordReset };
}

export function exportStream(db: Db, parts: ExportParts): Readable {
  async function* document(): AsyncGenerator<string> {
    const head = {
      format: 'ironclad-tasks-export',
      version: 1,
      exported_at: new Date().toISOString(),
      account: parts.account,
    };
    yield `${JSON.stringify(head).slice(0, -1)},"tasks":[`;
    let after = 0;
    let first = true;
    for (;;) {
      const page = await db
        .select({
          id: tasks.id,
          title: tasks.title,
          description: tasks.description,
          completed: tasks.completed,
          due_on: tasks.dueOn,
          created_at: tasks.createdAt,
          updated_at: tasks.updatedAt,
        })
        .from(tasks)
        .where(and(eq(tasks.userId, parts.account.id), gt(tasks.id, after)))
        .orderBy(asc(tasks.id))
        .limit(EXPORT_PAGE);
      if (page.length === 0) break;
      const chunk = page.map((task) => JSON.stringify(task)).join(',');
      yield first ? chunk : `,${chunk}`;
      first = false;
      after = page[page.length - 1]?.id ?? after;
      if (page.length < EXPORT_PAGE) break;
    }
    const tail = { sessions: parts.sessions, activity: parts.activity, password_reset: parts.password_reset };
    yield `],${JSON.stringify(tail).slice(1)}\n`;
  }
  return Readable.from(document());
}

export function exportFileName(now = new Date()): string {
  return `ironclad-tasks-export-${now.toISOString().slice(0, 10)}.json`;
}
