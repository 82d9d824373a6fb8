/** /api/v1/tasks/: the caller's own tasks, nobody else's. */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { type Static, Type } from 'typebox';
import { type Authenticate, authOf } from '../http/auth.js';
import { HttpError, notFound } from '../http/errors.js';
import { Message } from '../http/schemas.js';
import type { TaskChanges, TaskRepository } from './repository.js';
import { CreateHeaders, LIST_LIMIT_DEFAULT, ListQuery, Task, TaskInput, TaskParams, TaskPatch } from './schemas.js';

export interface TaskRoutesOptions {
  repository: TaskRepository;
  authenticate: Authenticate;
  /** Tasks one account may hold (TASK_QUOTA). */
  quota: number;
}

function cleaned(body: Static<typeof TaskPatch>): TaskChanges {
  const changes: TaskChanges = {};
  if (body.title !== undefined) changes.title = body.title.trim();
  if (body.description !== undefined) changes.description = body.description;
  if (body.completed !== undefined) changes.completed = body.completed;
  return changes;
}

export const taskRoutes: FastifyPluginAsyncTypebox<TaskRoutesOptions> = async (
  app,
  { repository, authenticate, quota },
) => {
  app.addHook('onRequest', authenticate);

  app.get(
    '/',
    {
      // One route; ignoreTrailingSlash still answers /api/v1/tasks, and the OpenAPI document names the seed's path.
      prefixTrailingSlash: 'slash',
      schema: {
        querystring: ListQuery,
        response: { 200: Type.Array(Task) },
        tags: ['tasks'],
        summary: 'List my tasks, oldest first',
      },
    },
    async (request) => {
      const { query } = request;
      const completed = query.completed === undefined ? undefined : query.completed === 'true';
      return repository.list(authOf(request).userId, query.limit ?? LIST_LIMIT_DEFAULT, query.offset ?? 0, completed);
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
      const { title, description = '', completed = false } = request.body;
      const created = await repository.create(
        authOf(request).userId,
        { title: title.trim(), description, completed },
        quota,
        request.headers['idempotency-key'],
      );
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
