/** Session tokens in the database: issue, look up (one indexed query for session and user), revoke. */
import { and, eq, gt, lt, sql } from 'drizzle-orm';
import type { Db } from '../db/connect.js';
import { sessions, users } from '../db/schema.js';
import type { AuthContext } from '../http/auth.js';
import { generateToken, looksLikeToken, type TokenHasher } from './tokens.js';

export class SessionStore {
  private readonly lookupStatement;

  constructor(
    private readonly db: Db,
    private readonly hasher: TokenHasher,
    private readonly ttlMs: number,
  ) {
    // Prepared once: this runs on every authenticated request.
    this.lookupStatement = db
      .select({ sessionId: sessions.id, userId: users.id, email: users.email })
      .from(sessions)
      .innerJoin(users, eq(users.id, sessions.userId))
      .where(and(sql`${sessions.tokenHash} = ANY(${sql.placeholder('hashes')})`, gt(sessions.expiresAt, sql`now()`)))
      .limit(1)
      .prepare('session_lookup');
  }

  /** Makes a new session for the user and returns its token (the only time it exists in clear). */
  async issue(userId: number, db: Db = this.db): Promise<string> {
    const token = generateToken();
    await db.insert(sessions).values({
      tokenHash: this.hasher.forStorage(token),
      userId,
      expiresAt: new Date(Date.now() + this.ttlMs),
    });
    return token;
  }

  async lookup(token: string): Promise<AuthContext | undefined> {
    if (!looksLikeToken(token)) return undefined;
    const [row] = await this.lookupStatement.execute({ hashes: this.hasher.candidates(token) });
    return row;
  }

  async revoke(sessionId: number): Promise<void> {
    await this.db.delete(sessions).where(eq(sessions.id, sessionId));
  }

  /** Drops the user's expired sessions; called at login so the table does not grow without bound. */
  async purgeExpired(userId: number): Promise<void> {
    await this.db.delete(sessions).where(and(eq(sessions.userId, userId), lt(sessions.expiresAt, sql`now()`)));
  }
}
