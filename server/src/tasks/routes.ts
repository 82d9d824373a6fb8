/** /api/v1/tasks/: the caller's own tasks, nobody else's. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { type Static, Type } from 'typebox';
import { type Authenticate, authOf, invalidToken } from '../http/auth.js';
import { HttpError, notFound } from '../http/errors.js';
import { Message } from '../http/schemas.js';
import { BULK_IDS_MAX, TASK_SEARCH_MAX } from '../rules/limits.js';
import { type CursorScope, CursorSealer } from './cursor.js';
import type { TaskChanges, TaskRepository } from './repository.js';
import {
  BulkInput,
  BulkResult,
  Counts,
  CountsQuery,
  CreateHeaders,
  LIST_LIMIT_DEFAULT,
  ListQuery,
  ListResponseHeaders,
  SEARCH_RULE,
  type Sort,
  Task,
  TaskInput,
  TaskParams,
  TaskPatch,
} from './schemas.js';

export interface TaskRoutesOptions {
  repository: TaskRepository;
  authenticate: Authenticate;
  /** Tasks one account may hold (TASK_QUOTA). */
  quota: number;
  /** SECRET_KEY: list cursors are sealed under a key derived from it. */
  secretKey: string;
}

function badQuery(field: string, message: string): HttpError {
  return new HttpError(400, 'Invalid query parameters.', { fields: { [field]: message } });
}

/** The search text, trimmed: the schema bounds it as sent; here 1 to TASK_SEARCH_MAX characters must remain. */
function searchText(q: string | undefined): string | undefined {
  if (q === undefined) return undefined;
  const trimmed = q.trim();
  // Characters are code points, as the schema's maxLength counts them.
  if (trimmed.length === 0 || [...trimmed].length > TASK_SEARCH_MAX) throw badQuery('q', SEARCH_RULE);
  return trimmed;
}

/** The server's calendar date in UTC, for callers that do not say theirs. */
function utcToday(): string {
  return new Date().toISOString().slice(0, 10);
}

/** The query parameters a next-page link repeats, in a fixed order; `after` is added last. */
const LINK_PARAMS = ['limit', 'sort', 'q', 'completed', 'overdue', 'today'] as const;

function cleaned(body: Static<typeof TaskPatch>): TaskChanges {
  const changes: TaskChanges = {};
  if (body.title !== undefined) changes.title = body.title.trim();
  if (body.description !== undefined) changes.description = body.description;
  if (body.completed !== undefined) changes.completed = body.completed;
  if (body.due_on !== undefined) changes.due_on = body.due_on;
  return changes;
}

export const taskRoutes: FastifyPluginAsyncTypebox<TaskRoutesOptions> = async (
  app,
  { repository, authenticate, quota, secretKey },
) => {
  const cursors = new CursorSealer(secretKey);
  app.addHook('onRequest', authenticate);

  app.get(
    '/',
    {
      // One route; ignoreTrailingSlash still answers /api/v1/tasks, and the OpenAPI document names the seed's path.
      prefixTrailingSlash: 'slash',
      schema: {
        querystring: ListQuery,
        response: {
          200: Type.Array(Task, {
            description:
              'A page of my tasks. When more may follow: `Link: <same path and query with after=CURSOR>; rel="next"`.',
            headers: ListResponseHeaders,
          }),
        },
        tags: ['tasks'],
        summary: 'List my tasks: sorted, filtered, searched, paged by offset or by cursor',
      },
    },
    async (request, reply) => {
      const { query } = request;
      const { userId } = authOf(request);
      if (query.after !== undefined && query.offset !== undefined) {
        throw badQuery('after', 'cannot be combined with offset');
      }
      const sort: Sort = query.sort ?? 'oldest';
      const limit = query.limit ?? LIST_LIMIT_DEFAULT;
      const q = searchText(query.q);
      const overdue = query.overdue === 'true';
      const today = overdue ? (query.today ?? utcToday()) : query.today;
      const completed = query.completed === undefined ? undefined : query.completed === 'true';
      const scope: CursorScope = {
        userId,
        sort,
        filters: { completed: query.completed, q, overdue: overdue ? today : undefined },
      };
      let after: ReturnType<CursorSealer['open']>;
      if (query.after !== undefined) {
        after = cursors.open(scope, query.after);
        if (!after) {
          const why =
            'is not a cursor of this list (edited, or made for another sort, filter or account): start again from the first page';
          throw new HttpError(400, 'Invalid query parameters.', { fields: { after: why }, detail: `after ${why}` });
        }
      }
      // One row more than asked tells whether a next page exists, without a count.
      const rows = await repository.page(userId, {
        sort,
        limit: limit + 1,
        offset: query.offset,
        after,
        completed,
        q,
        overdueBefore: overdue ? today : undefined,
      });
      const page = rows.slice(0, limit);
      const last = page.at(-1);
      if (rows.length > limit && last) {
        const next = new URLSearchParams();
        const values: Record<(typeof LINK_PARAMS)[number], string | undefined> = {
          limit: query.limit === undefined ? undefined : String(limit),
          sort: query.sort,
          q,
          completed: query.completed,
          overdue: overdue ? 'true' : undefined,
          today: overdue ? today : query.today,
        };
        for (const name of LINK_PARAMS) {
          const value = values[name];
          if (value !== undefined) next.set(name, value);
        }
        next.set('after', cursors.seal(scope, { key: last.sort_key ?? null, id: last.id }));
        const path = request.url.split('?', 1)[0];
        reply.header('link', `<${path}?${next.toString()}>; rel="next"`);
      }
      // The rows as they are: the response schema (Task, additionalProperties false) serializes only the Task's
      // fields, so the sort key is never sent and no per-row copy is needed to drop it.
      return page;
    },
  );

  app.get(
    '/counts/',
    {
      schema: {
        querystring: CountsQuery,
        response: { 200: Counts },
        tags: ['tasks'],
        summary: 'How many of my tasks are open, done and overdue (open, due before `today`), within a search',
      },
    },
    async (request) => {
      const { query } = request;
      return repository.counts(authOf(request).userId, query.today ?? utcToday(), searchText(query.q));
    },
  );

  app.post(
    '/bulk/',
    {
      schema: {
        body: BulkInput,
        response: { 200: BulkResult },
        tags: ['tasks'],
        summary: 'Complete, reopen or delete several of my tasks, or clear the completed ones: all or nothing',
      },
    },
    async (request) => {
      const { action, ids } = request.body;
      if (action === 'clear_completed' && ids !== undefined) {
        throw new HttpError(400, 'Invalid request body.', { fields: { ids: 'is not allowed with clear_completed' } });
      }
      if (action !== 'clear_completed' && ids === undefined) {
        throw new HttpError(400, 'Invalid request body.', {
          fields: { ids: `is required with ${action}: list 1 to ${BULK_IDS_MAX} different task ids` },
        });
      }
      const changed = await repository.bulk(authOf(request).userId, action, ids ?? []);
      return { action, changed, count: changed.length };
    },
  );

  app.post(
    '/',
    {
      prefixTrailingSlash: 'slash',
      schema: {
        headers: CreateHeaders,
        body: TaskInput,
        response: { 201: Task },
        tags: ['tasks'],
        summary: 'Create a task (send Idempotency-Key to make retries safe)',
      },
    },
    async (request, reply) => {
      const { title, description = '', completed = false, due_on = null } = request.body;
      const created = await repository.create(
        authOf(request).userId,
        { title: title.trim(), description, completed, due_on },
        quota,
        request.headers['idempotency-key'],
      );
      // The account was deleted while this request was under way (its sessions with it): as for an ended session.
      if (created === 'gone') throw invalidToken();
      if (created === 'full') {
        throw new HttpError(
          409,
          `Task limit reached: an account may hold at most ${quota} tasks. Delete some to add more.`,
          { limit: quota },
        );
      }
      const { task, replayed } = created;
      if (replayed) reply.header('idempotent-replayed', 'true');
      reply.code(201);
      return task;
    },
  );

  app.get(
    '/:id/',
    { schema: { params: TaskParams, response: { 200: Task }, tags: ['tasks'], summary: 'One of my tasks' } },
    async (request) => {
      const { id } = request.params;
      const task = await repository.find(authOf(request).userId, id);
      if (!task) throw notFound();
      return task;
    },
  );

  // PUT and PATCH are both partial updates, as in the seed.
  for (const method of ['PUT', 'PATCH'] as const) {
    app.route({
      method,
      url: '/:id/',
      schema: {
        params: TaskParams,
        body: TaskPatch,
        response: { 200: Task },
        tags: ['tasks'],
        summary: 'Change some fields of a task',
      },
      handler: async (request) => {
        const { id } = request.params;
        const task = await repository.update(authOf(request).userId, id, cleaned(request.body));
        if (!task) throw notFound();
        return task;
      },
    });
  }

  app.delete(
    '/:id/',
    { schema: { params: TaskParams, response: { 200: Message }, tags: ['tasks'], summary: 'Delete a task' } },
    async (request) => {
      const { id } = request.params;
      if (!(await repository.remove(authOf(request).userId, id))) throw notFound();
      return { message: `Task ${id} has been deleted.` };
    },
  );
};
