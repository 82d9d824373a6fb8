/** Task queries. Every one is scoped to the owner, so another user's task is simply not found. */
import { and, asc, eq, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../db/connect.js';
import { tasks, users } from '../db/schema.js';

const columns = {
  id: tasks.id,
  title: tasks.title,
  description: tasks.description,
  completed: tasks.completed,
  created_at: tasks.createdAt,
  updated_at: tasks.updatedAt,
};

export interface TaskRow {
  id: number;
  title: string;
  description: string;
  completed: boolean;
  created_at: Date;
  updated_at: Date;
}

export interface TaskChanges {
  title?: string;
  description?: string;
  completed?: boolean;
}

export class TaskRepository {
  private readonly listAll;
  private readonly listByState;
  private readonly findOne;

  constructor(private readonly db: Db) {
    const owner = eq(tasks.userId, sql.placeholder('userId'));
    // Prepared once: listing and reading are the hot paths.
    const page = (where: SQL | undefined, name: string) =>
      db
        .select(columns)
        .from(tasks)
        .where(where)
        .orderBy(asc(tasks.id))
        .limit(sql.placeholder('limit'))
        .offset(sql.placeholder('offset'))
        .prepare(name);
    this.listAll = page(owner, 'tasks_list');
    this.listByState = page(and(owner, eq(tasks.completed, sql.placeholder('completed'))), 'tasks_list_by_state');
    this.findOne = db
      .select(columns)
      .from(tasks)
      .where(and(owner, eq(tasks.id, sql.placeholder('id'))))
      .prepare('tasks_find');
  }

  list(userId: number, limit: number, offset: number, completed?: boolean): Promise<TaskRow[]> {
    return completed === undefined
      ? this.listAll.execute({ userId, limit, offset })
      : this.listByState.execute({ userId, limit, offset, completed });
  }

  async find(userId: number, id: number): Promise<TaskRow | undefined> {
    const [row] = await this.findOne.execute({ userId, id });
    return row;
  }

  /**
   * Inserts the task, unless the owner already holds `quota` tasks (then `full`). With an idempotency key, a second
   * create with the same key returns the task the first one made (`replayed`), so a client may safely retry a POST
   * whose answer it lost; a replay is answered even when the quota is full, since it stores nothing.
   *
   * The owner's row is locked first, so one account's creates run one at a time in every server process: the count
   * that follows sees every earlier create, and the quota is exact. Other accounts are not held up.
   */
  async create(
    userId: number,
    input: Required<TaskChanges>,
    quota: number,
    idempotencyKey?: string,
  ): Promise<{ task: TaskRow; replayed: boolean } | 'full'> {
    return this.db.transaction(async (tx) => {
      await tx.select({ id: users.id }).from(users).where(eq(users.id, userId)).for('update');
      if (idempotencyKey !== undefined) {
        const [existing] = await tx
          .select(columns)
          .from(tasks)
          .where(and(eq(tasks.userId, userId), eq(tasks.idempotencyKey, idempotencyKey)));
        if (existing) return { task: existing, replayed: true };
      }
      // Is there a quota-th task? Reads at most `quota` index entries, and stops there.
      const [last] = await tx
        .select({ id: tasks.id })
        .from(tasks)
        .where(eq(tasks.userId, userId))
        .orderBy(asc(tasks.id))
        .limit(1)
        .offset(quota - 1);
      if (last) return 'full';
      const [row] = await tx
        .insert(tasks)
        .values({ userId, ...input, ...(idempotencyKey === undefined ? {} : { idempotencyKey }) })
        .returning(columns);
      return { task: row as TaskRow, replayed: false };
    });
  }

  /** Applies the given fields; with none, returns the task unchanged. */
  async update(userId: number, id: number, changes: TaskChanges): Promise<TaskRow | undefined> {
    if (Object.keys(changes).length === 0) return this.find(userId, id);
    const [row] = await this.db
      .update(tasks)
      .set({ ...changes, updatedAt: sql`now()` })
      .where(and(eq(tasks.userId, userId), eq(tasks.id, id)))
      .returning(columns);
    return row;
  }

  async remove(userId: number, id: number): Promise<boolean> {
    const rows = await this.db
      .delete(tasks)
      .where(and(eq(tasks.userId, userId), eq(tasks.id, id)))
      .returning({ id: tasks.id });
    return rows.length > 0;
  }
}
