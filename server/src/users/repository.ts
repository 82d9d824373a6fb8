/** Account queries: the only code that reads or writes the users table (sessions.ts keeps the sessions table). */
import { eq, sql } from 'drizzle-orm';
import type { Db } from '../db/connect.js';
import { users } from '../db/schema.js';

export interface UserInfoRow {
  id: number;
  email: string;
  created_at: Date;
}

export interface Credentials {
  id: number;
  passwordHash: string;
}

const UNIQUE_VIOLATION = '23505';

function isUniqueViolation(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current && depth < 5; depth++) {
    if ((current as { code?: unknown }).code === UNIQUE_VIOLATION) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

export class UsersRepository {
  constructor(private readonly db: Db) {}

  /**
   * Creates the account and, in the same transaction, runs `withUser` on it (signup issues the first
   * session there), so there is never an account whose signup failed halfway. Answers undefined,
   * with nothing written, when the email is already registered.
   */
  async create<T>(
    email: string,
    passwordHash: string,
    withUser: (userId: number, tx: Db) => Promise<T>,
  ): Promise<{ value: T } | undefined> {
    try {
      return await this.db.transaction(async (tx) => {
        const [user] = await tx.insert(users).values({ email, passwordHash }).returning({ id: users.id });
        // A transaction offers the same query API as the database handle it came from.
        return { value: await withUser((user as { id: number }).id, tx as unknown as Db) };
      });
    } catch (error) {
      if (isUniqueViolation(error)) return undefined;
      throw error;
    }
  }

  /** What login checks a password against; undefined for an unknown email. */
  async credentials(email: string): Promise<Credentials | undefined> {
    const [row] = await this.db
      .select({ id: users.id, passwordHash: users.passwordHash })
      .from(users)
      .where(eq(users.email, email))
      .limit(1);
    return row;
  }

  /** The account's email and password hash, for routes that ask for the password again. */
  async credentialsById(id: number): Promise<{ email: string; passwordHash: string } | undefined> {
    const [row] = await this.db
      .select({ email: users.email, passwordHash: users.passwordHash })
      .from(users)
      .where(eq(users.id, id));
    return row;
  }

  /** Sets a new password (inside the caller's transaction); a reset asked for before now is void from here on. */
  async setPassword(id: number, passwordHash: string, db: Db = this.db): Promise<boolean> {
    const updated = await db
      .update(users)
      .set({ passwordHash, passwordChangedAt: sql`now()` })
      .where(eq(users.id, id))
      .returning({ id: users.id });
    return updated.length > 0;
  }

  /** Deletes the account; its tasks, sessions, events, reset link and queued emails go with it (ON DELETE CASCADE). */
  async delete(id: number, db: Db = this.db): Promise<boolean> {
    const deleted = await db.delete(users).where(eq(users.id, id)).returning({ id: users.id });
    return deleted.length > 0;
  }

  async info(id: number): Promise<UserInfoRow | undefined> {
    const [row] = await this.db
      .select({ id: users.id, email: users.email, created_at: users.createdAt })
      .from(users)
      .where(eq(users.id, id));
    return row;
  }
}
