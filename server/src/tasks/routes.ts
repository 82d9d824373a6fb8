/** /api/v1/tasks/: the caller's own tasks, nobody else's. */
import type { FastifyInstance } from 'fastify';
import { type Static, Type } from 'typebox';
import { notFound } from '../http/errors.js';
import { type Authenticate, authOf } from '../users/authenticate.js';
import { Message } from '../users/schemas.js';
import type { TaskChanges, TaskRepository } from './repository.js';
import { CreateHeaders, LIST_LIMIT_DEFAULT, ListQuery, Task, TaskInput, TaskParams, TaskPatch } from './schemas.js';

export interface TaskRoutesOptions {
  repository: TaskRepository;
  authenticate: Authenticate;
}

function cleaned(body: Static<typeof TaskPatch>): TaskChanges {
  const changes: TaskChanges = {};
  if (body.title !== undefined) changes.title = body.title.trim();
  if (body.description !== undefined) changes.description = body.description;
  if (body.completed !== undefined) changes.completed = body.completed;
  return changes;
}

export async function taskRoutes(app: FastifyInstance, { repository, authenticate }: TaskRoutesOptions): Promise<void> {
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
      const query = request.query as Static<typeof ListQuery>;
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
      const changes = cleaned(request.body as Static<typeof TaskInput>);
      const key = (request.headers as Static<typeof CreateHeaders>)['idempotency-key'];
      const { task, replayed } = await repository.create(
        authOf(request).userId,
        {
          title: changes.title as string,
          description: changes.description ?? '',
          completed: changes.completed ?? false,
        },
        key,
      );
      if (replayed) reply.header('idempotent-replayed', 'true');
      reply.code(201);
      return task;
    },
  );

  app.get(
    '/:id/',
    { schema: { params: TaskParams, response: { 200: Task }, tags: ['tasks'], summary: 'One of my tasks' } },
    async (request) => {
      const { id } = request.params as Static<typeof TaskParams>;
      const task = await repository.find(authOf(request).userId, id);
      if (!task) throw notFound();
      return task;
    },
  );

  const update = async (request: import('fastify').FastifyRequest) => {
    const { id } = request.params as Static<typeof TaskParams>;
    const task = await repository.update(authOf(request).userId, id, cleaned(request.body as Static<typeof TaskPatch>));
    if (!task) throw notFound();
    return task;
  };
  const updateSchema = { params: TaskParams, body: TaskPatch, response: { 200: Task }, tags: ['tasks'] };
  app.put('/:id/', { schema: { ...updateSchema, summary: 'Change some fields of a task' } }, update);
  app.patch('/:id/', { schema: { ...updateSchema, summary: 'Change some fields of a task' } }, update);

  app.delete(
    '/:id/',
    { schema: { params: TaskParams, response: { 200: Message }, tags: ['tasks'], summary: 'Delete a task' } },
    async (request) => {
      const { id } = request.params as Static<typeof TaskParams>;
      if (!(await repository.remove(authOf(request).userId, id))) throw notFound();
      return { message: `Task ${id} has been deleted.` };
    },
  );
}
