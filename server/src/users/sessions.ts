/**
 * Session tokens in the database: issue, look up (one indexed query for session and user), list, end, revoke.
 *
 * A session ended by anything but its own logout (from the sessions list, "log out everywhere", a password change or
 * reset) keeps its row, marked with why, until it would have expired: the browser that still holds the token is then
 * told the reason (GET /users/sessions/ shows only live ones). Every instance reads the same table on every request,
 * so an end takes effect at once on every server process.
 */
import { and, desc, eq, gt, inArray, isNull, lt, ne, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../db/connect.js';
import { sessions, users } from '../db/schema.js';
import type { AuthContext, EndReason, RefusalReason } from '../http/auth.js';
import type { ClientInfo } from './client-info.js';
import { generateToken, looksLikeToken, type TokenHasher } from './tokens.js';

/**
 * Session rows one account may hold (live and ended together): a new login past it drops the oldest, so logging in
 * again and again can neither grow the table nor make the sessions list and the export heavy.
 */
export const SESSIONS_PER_ACCOUNT = 100;

/** last_used_at is written at most this often per session, so that reading stays reading. */
const TOUCH_EVERY_MS = 60_000;

export interface SessionRow {
  id: number;
  created_at: Date;
  last_used_at: Date;
  expires_at: Date;
  user_agent: string | null;
  ip: string | null;
}

export class SessionStore {
  private readonly lookupStatement;

  constructor(
    private readonly db: Db,
    private readonly hasher: TokenHasher,
    private readonly ttlMs: number,
  ) {
    // Prepared once: this runs on every authenticated request.
    this.lookupStatement = db
      .select({ sessionId: sessions.id, userId: users.id, email: users.email, lastUsedAt: sessions.lastUsedAt })
      .from(sessions)
      .innerJoin(users, eq(users.id, sessions.userId))
      .where(
        and(
          sql`${sessions.tokenHash} = ANY(${sql.placeholder('hashes')})`,
          gt(sessions.expiresAt, sql`now()`),
          isNull(sessions.endedAt),
        ),
      )
      .limit(1)
      .prepare('session_lookup');
  }

  /** Makes a new session for the user and returns its token (the only time it exists in clear). */
  async issue(userId: number, client: ClientInfo, db: Db = this.db): Promise<string> {
    const token = generateToken();
    await db.insert(sessions).values({
      tokenHash: this.hasher.forStorage(token),
      userId,
      expiresAt: new Date(Date.now() + this.ttlMs),
      userAgent: client.userAgent,
      ip: client.ip,
    });
    const oldestKept = db
      .select({ id: sessions.id })
      .from(sessions)
      .where(eq(sessions.userId, userId))
      .orderBy(desc(sessions.id))
      .offset(SESSIONS_PER_ACCOUNT - 1)
      .limit(1);
    await db.delete(sessions).where(and(eq(sessions.userId, userId), lt(sessions.id, sql`(${oldestKept})`)));
    return token;
  }

  async lookup(token: string): Promise<AuthContext | undefined> {
    if (!looksLikeToken(token)) return undefined;
    const [row] = await this.lookupStatement.execute({ hashes: this.hasher.candidates(token) });
    if (!row) return undefined;
    const { lastUsedAt, ...auth } = row;
    if (Date.now() - new Date(lastUsedAt).getTime() > TOUCH_EVERY_MS) this.touch(auth.sessionId);
    return auth;
  }

  /**
   * "Last used" for the sessions list. Not awaited and allowed to fail (a read-only database, a stop under way):
   * it is a hint for the account's owner, never worth failing or slowing the request that is being served.
   */
  private touch(sessionId: number): void {
    this.db
      .update(sessions)
      .set({ lastUsedAt: sql`now()` })
      .where(eq(sessions.id, sessionId))
      .then(
        () => undefined,
        () => undefined,
      );
  }

  /** Why a token that did not authenticate does not: only asked on the refusal path. */
  async whyRefused(token: string): Promise<RefusalReason> {
    if (!looksLikeToken(token)) return 'invalid';
    const [row] = await this.db
      .select({ endReason: sessions.endReason, expiresAt: sessions.expiresAt })
      .from(sessions)
      .where(inArray(sessions.tokenHash, this.hasher.candidates(token)))
      .limit(1);
    if (!row) return 'invalid';
    if (row.endReason) return row.endReason as EndReason;
    return 'expired';
  }

  /** The account's live sessions, newest first. */
  async list(userId: number): Promise<SessionRow[]> {
    return this.db
      .select({
        id: sessions.id,
        created_at: sessions.createdAt,
        last_used_at: sessions.lastUsedAt,
        expires_at: sessions.expiresAt,
        user_agent: sessions.userAgent,
        ip: sessions.ip,
      })
      .from(sessions)
      .where(and(eq(sessions.userId, userId), gt(sessions.expiresAt, sql`now()`), isNull(sessions.endedAt)))
      .orderBy(desc(sessions.id));
  }

  /** Every row the account has, ended ones included (the export). */
  async listAll(userId: number) {
    return this.db
      .select({
        id: sessions.id,
        created_at: sessions.createdAt,
        last_used_at: sessions.lastUsedAt,
        expires_at: sessions.expiresAt,
        user_agent: sessions.userAgent,
        ip: sessions.ip,
        ended_at: sessions.endedAt,
        end_reason: sessions.endReason,
      })
      .from(sessions)
      .where(eq(sessions.userId, userId))
      .orderBy(desc(sessions.id));
  }

  /** The caller's own logout: nobody is left to be told why, so the row goes. */
  async revoke(sessionId: number): Promise<void> {
    await this.db.delete(sessions).where(eq(sessions.id, sessionId));
  }

  /** Ends one live session of the account; false when it has no such session (another account's id included). */
  async end(userId: number, sessionId: number, reason: EndReason, db: Db = this.db): Promise<boolean> {
    return (await this.endWhere(userId, reason, eq(sessions.id, sessionId), db)) > 0;
  }

  /** Ends every live session of the account, or every one but `except`; answers how many. */
  async endAll(userId: number, reason: EndReason, options: { except?: number; db?: Db } = {}): Promise<number> {
    const others = options.except === undefined ? undefined : ne(sessions.id, options.except);
    return this.endWhere(userId, reason, others, options.db ?? this.db);
  }

  /** Marks the account's live sessions that match `which` as ended (the row stays to say why); answers how many. */
  private async endWhere(userId: number, reason: EndReason, which: SQL | undefined, db: Db): Promise<number> {
    const ended = await db
      .update(sessions)
      .set({ endedAt: sql`now()`, endReason: reason })
      .where(and(eq(sessions.userId, userId), isNull(sessions.endedAt), gt(sessions.expiresAt, sql`now()`), which))
      .returning({ id: sessions.id });
    return ended.length;
  }

  /**
   * Drops the user's expired sessions, ended ones included (their reason is of no use once they would have expired
   * anyway); called at login so the table does not grow without bound.
   */
  async purgeExpired(userId: number): Promise<void> {
    await this.db.delete(sessions).where(and(eq(sessions.userId, userId), lt(sessions.expiresAt, sql`now()`)));
  }
}
