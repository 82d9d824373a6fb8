/** Task queries. Every one is scoped to the owner, so another user's task is simply not found. */
import { and, asc, eq, inArray, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../db/connect.js';
import { tasks, users } from '../db/schema.js';
import type { CursorPosition } from './cursor.js';
import type { BulkAction, Sort } from './schemas.js';

const columns = {
  id: tasks.id,
  title: tasks.title,
  description: tasks.description,
  completed: tasks.completed,
  due_on: tasks.dueOn,
  created_at: tasks.createdAt,
  updated_at: tasks.updatedAt,
};

export interface TaskRow {
  id: number;
  title: string;
  description: string;
  completed: boolean;
  due_on: string | null;
  created_at: Date;
  updated_at: Date;
}

export interface TaskChanges {
  title?: string;
  description?: string;
  completed?: boolean;
  due_on?: string | null;
}

/** The list's filters, as the route resolved them. */
export interface TaskFilters {
  completed?: boolean | undefined;
  /** Search text, trimmed; folded and matched as a literal substring by the database. */
  q?: string | undefined;
  /** Only open tasks due before this date (`YYYY-MM-DD`). */
  overdueBefore?: string | undefined;
}

export interface ListRequest extends TaskFilters {
  sort: Sort;
  limit: number;
  offset?: number | undefined;
  /** Keyset: start right after this row (from a cursor). */
  after?: CursorPosition | undefined;
}

export interface TaskCounts {
  all: number;
  open: number;
  done: number;
  overdue: number;
}

/**
 * A listed task, with the sort key the next page's cursor starts from (absent for the plain list, whose cursor needs
 * only the id). The key stays on the row: the response schema's serializer writes only the Task's own fields.
 */
export type ListedTask = TaskRow & { sort_key?: string | null };

// The sort keys, written exactly as the indexes of db/schema.ts are, so that the planner can walk them.
const DUE_KEY = sql`coalesce(${tasks.dueOn}, 'infinity'::date)`;
const TITLE_KEY = sql`(left(ironclad_fold(${tasks.title}), 255) COLLATE "C")`;

/** The folded search as a LIKE pattern: `%`, `_` and `\` of the text are escaped, so they match only themselves. */
function searchMatches(q: string): SQL {
  // Backslash is LIKE's escape character; the replacements are parameters, so no quoting rule can bite.
  const pattern = sql`replace(replace(replace(ironclad_fold(${q}::text), ${'\\'}::text, ${'\\\\'}::text), '%', ${'\\%'}::text), '_', ${'\\_'}::text)`;
  return sql`${tasks.search} LIKE '%' || ${pattern} || '%'`;
}

/** The API's field names as the table's columns. */
function stored({ due_on, ...rest }: TaskChanges): Omit<TaskChanges, 'due_on'> & { dueOn?: string | null } {
  return due_on === undefined ? rest : { ...rest, dueOn: due_on };
}

function filterConditions(userId: number, filters: TaskFilters): SQL[] {
  const where: SQL[] = [eq(tasks.userId, userId)];
  if (filters.completed !== undefined) where.push(eq(tasks.completed, filters.completed));
  if (filters.overdueBefore !== undefined) {
    where.push(eq(tasks.completed, false), sql`${tasks.dueOn} < ${filters.overdueBefore}::date`);
  }
  if (filters.q !== undefined) where.push(searchMatches(filters.q));
  return where;
}

function ordering(sort: Sort): { key: SQL | undefined; orderBy: SQL[] } {
  switch (sort) {
    case 'oldest':
      return { key: undefined, orderBy: [sql`${tasks.id} ASC`] };
    case 'newest':
      return { key: undefined, orderBy: [sql`${tasks.id} DESC`] };
    case 'due':
      return { key: DUE_KEY, orderBy: [sql`${DUE_KEY} ASC`, sql`${tasks.id} ASC`] };
    case 'title':
      return { key: TITLE_KEY, orderBy: [sql`${TITLE_KEY} ASC`, sql`${tasks.id} ASC`] };
  }
}

/** Rows strictly after the cursor's row in the sort's order: a row comparison the (user_id, key, id) index serves. */
function afterCondition(sort: Sort, after: CursorPosition): SQL {
  switch (sort) {
    case 'oldest':
      return sql`${tasks.id} > ${after.id}`;
    case 'newest':
      return sql`${tasks.id} < ${after.id}`;
    case 'due':
      return sql`(${DUE_KEY}, ${tasks.id}) > (${after.key ?? 'infinity'}::date, ${after.id})`;
    case 'title':
      return sql`(${TITLE_KEY}, ${tasks.id}) > ((${after.key ?? ''}::text COLLATE "C"), ${after.id})`;
  }
}

export class TaskRepository {
  private readonly listAll;
  private readonly listByState;
  private readonly findOne;
  private readonly createOne;

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
    // Migration 0006's function: the owner's lock, the replay, the quota check and the insert in one round trip.
    // Its result columns carry the task's names; each is mapped as the table's column is (timestamps to Date).
    const arg = (name: string) => sql.placeholder(name);
    const out = <T>(name: string, column: Parameters<SQL['mapWith']>[0]) =>
      sql<T>`${sql.identifier(name)}`.mapWith(column);
    this.createOne = db
      .select({
        outcome: sql<'created' | 'replayed' | 'full' | 'gone'>`outcome`,
        id: out<number>('id', tasks.id),
        title: out<string>('title', tasks.title),
        description: out<string>('description', tasks.description),
        completed: out<boolean>('completed', tasks.completed),
        due_on: out<string | null>('due_on', tasks.dueOn),
        created_at: out<Date>('created_at', tasks.createdAt),
        updated_at: out<Date>('updated_at', tasks.updatedAt),
      })
      .from(
        sql`ironclad_create_task(${arg('userId')}, ${arg('title')}, ${arg('description')}, ${arg('completed')}, ${arg('dueOn')}, ${arg('idempotencyKey')}, ${arg('quota')})`,
      )
      .prepare('tasks_create');
  }

  list(userId: number, limit: number, offset: number, completed?: boolean): Promise<TaskRow[]> {
    return completed === undefined
      ? this.listAll.execute({ userId, limit, offset })
      : this.listByState.execute({ userId, limit, offset, completed });
  }

  /**
   * One page in the chosen order, filtered; each row carries its sort key for the next cursor. The seed's plain
   * list (oldest first, no search, no cursor) keeps its prepared statement.
   */
  async page(userId: number, request: ListRequest): Promise<ListedTask[]> {
    const plain =
      request.sort === 'oldest' &&
      request.q === undefined &&
      request.overdueBefore === undefined &&
      request.after === undefined;
    // The rows as drizzle made them: no copy per row (a profile of the list showed the copies and their GC).
    if (plain) return this.list(userId, request.limit, request.offset ?? 0, request.completed);
    const { key, orderBy } = ordering(request.sort);
    const where = filterConditions(userId, request);
    if (request.after) where.push(afterCondition(request.sort, request.after));
    const query = this.db
      .select({ ...columns, sort_key: key ? sql<string>`(${key})::text` : sql<null>`NULL::text` })
      .from(tasks)
      .where(and(...where))
      .orderBy(...orderBy)
      .limit(request.limit);
    return request.offset ? query.offset(request.offset) : query;
  }

  /** All, open, done and overdue (open, due before `today`), in one statement, optionally within a search. */
  async counts(userId: number, today: string, q?: string): Promise<TaskCounts> {
    const [row] = await this.db
      .select({
        all: sql<number>`count(*)::int`,
        open: sql<number>`(count(*) FILTER (WHERE NOT ${tasks.completed}))::int`,
        done: sql<number>`(count(*) FILTER (WHERE ${tasks.completed}))::int`,
        overdue: sql<number>`(count(*) FILTER (WHERE NOT ${tasks.completed} AND ${tasks.dueOn} < ${today}::date))::int`,
      })
      .from(tasks)
      .where(and(...filterConditions(userId, { q })));
    return row ?? { all: 0, open: 0, done: 0, overdue: 0 };
  }

  /**
   * complete / reopen / delete the given tasks of the owner, or delete all of its completed ones, in one transaction
   * and one statement (all or nothing). Ids already in the target state, gone, or another account's are simply not
   * changed. The owner's row is locked first, as create() does, so the two always lock in the same order.
   */
  async bulk(userId: number, action: BulkAction, ids: readonly number[]): Promise<number[]> {
    return this.db.transaction(async (tx) => {
      await tx.select({ id: users.id }).from(users).where(eq(users.id, userId)).for('update');
      const mine = and(eq(tasks.userId, userId), inArray(tasks.id, [...ids]));
      let rows: { id: number }[];
      switch (action) {
        case 'complete':
        case 'reopen': {
          const completed = action === 'complete';
          rows = await tx
            .update(tasks)
            .set({ completed, updatedAt: sql`now()` })
            .where(and(mine, eq(tasks.completed, !completed)))
            .returning({ id: tasks.id });
          break;
        }
        case 'delete':
          rows = await tx.delete(tasks).where(mine).returning({ id: tasks.id });
          break;
        case 'clear_completed':
          rows = await tx
            .delete(tasks)
            .where(and(eq(tasks.userId, userId), eq(tasks.completed, true)))
            .returning({ id: tasks.id });
          break;
      }
      return rows.map((row) => row.id).sort((a, b) => a - b);
    });
  }

  async find(userId: number, id: number): Promise<TaskRow | undefined> {
    const [row] = await this.findOne.execute({ userId, id });
    return row;
  }

  /**
   * Inserts the task, unless the owner already holds `quota` tasks (then `full`) or no longer exists (then `gone`: the
   * account was deleted after the request was authenticated). With an idempotency key, a second
   * create with the same key returns the task the first one made (`replayed`), so a client may safely retry a POST
   * whose answer it lost; a replay is answered even when the quota is full, since it stores nothing.
   *
   * One statement (migration 0006's `ironclad_create_task`), its own transaction: it locks the owner's row first, so
   * one account's creates run one at a time in every server process, and each check after the lock takes a fresh
   * snapshot that sees every earlier create: the quota is exact. Other accounts are not held up. The lock is held for
   * the database's own work and the commit, not for round trips through this process's event loop.
   */
  async create(
    userId: number,
    input: Required<TaskChanges>,
    quota: number,
    idempotencyKey?: string,
  ): Promise<{ task: TaskRow; replayed: boolean } | 'full' | 'gone'> {
    const [row] = await this.createOne.execute({
      userId,
      title: input.title,
      description: input.description,
      completed: input.completed,
      dueOn: input.due_on,
      idempotencyKey: idempotencyKey ?? null,
      quota,
    });
    if (!row) throw new Error('ironclad_create_task returned no row');
    if (row.outcome === 'full' || row.outcome === 'gone') return row.outcome;
    const { outcome, ...task } = row;
    return { task, replayed: outcome === 'replayed' };
  }

  /** Applies the given fields; with none, returns the task unchanged. */
  async update(userId: number, id: number, changes: TaskChanges): Promise<TaskRow | undefined> {
    if (Object.keys(changes).length === 0) return this.find(userId, id);
    const [row] = await this.db
      .update(tasks)
      .set({ ...stored(changes), updatedAt: sql`now()` })
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
