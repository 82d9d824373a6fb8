#!/usr/bin/env node
/**
 * The same-SQL floor: the API's own statements (copied from PostgreSQL's statement log of the API, same text, same
 * order, same round trips: the create's one call of migration 0006's function included) through the same driver (pg),
 * on bare node:http. No framework, no validation, no hardening, no budgets, no log: API / this floor is what the
 * framework and the hardening cost. Statements are named (prepared once per connection), as the API's hot ones are.
 * Never deploy this; it exists only to be measured beside the API.
 *
 * Env: PORT, SECRET_KEY, POSTGRES_DB, POSTGRES_USER, DB_HOST, DB_PORT, DB_POOL_MAX, TASK_QUOTA.
 */
import { createServer } from 'node:http';
import { body, login, pool, send, serve, tokenHash, tokenOf } from './floor-common.mjs';

const COLUMNS = '"id", "title", "description", "completed", "due_on", "created_at", "updated_at"';
const QUOTA = Number(process.env.TASK_QUOTA ?? 10_000);

// server/src/users/sessions.ts (session_lookup)
const AUTH = {
  name: 'floor_auth',
  text: 'select "sessions"."id", "users"."id", "users"."email", "sessions"."last_used_at" from "sessions" inner join "users" on "users"."id" = "sessions"."user_id" where ("sessions"."token_hash" = ANY($1) and "sessions"."expires_at" > now() and "sessions"."ended_at" is null) limit $2',
  rowMode: 'array',
};
// server/src/tasks/repository.ts: the plain list (tasks_list), one row more than the page (is there a next page?)
const LIST = {
  name: 'floor_list',
  text: `select ${COLUMNS} from "tasks" where "tasks"."user_id" = $1 order by "tasks"."id" asc limit $2 offset $3`,
};
const FIND = {
  name: 'floor_find',
  text: `select ${COLUMNS} from "tasks" where ("tasks"."user_id" = $1 and "tasks"."id" = $2)`,
};
// create(): migration 0006's function (the owner's lock, the quota check and the insert in one statement)
const CREATE = {
  name: 'floor_create',
  text: `select outcome, "id", "title", "description", "completed", "due_on", "created_at", "updated_at" from ironclad_create_task($1, $2, $3, $4, $5, $6, $7)`,
};
const UPDATE = {
  name: 'floor_update',
  text: `update "tasks" set "completed" = $1, "updated_at" = now() where ("tasks"."user_id" = $2 and "tasks"."id" = $3) returning ${COLUMNS}`,
};

async function userId(req) {
  const { rows } = await pool.query({ ...AUTH, values: [[tokenHash(tokenOf(req))], 1] });
  return rows[0]?.[1];
}

async function create(user, input) {
  const { rows } = await pool.query({
    ...CREATE,
    values: [
      user,
      input.title.trim(),
      input.description ?? '',
      input.completed ?? false,
      input.due_on ?? null,
      null,
      QUOTA,
    ],
  });
  const { outcome, ...task } = rows[0];
  return outcome === 'full' ? undefined : task;
}

const server = createServer(async (req, res) => {
  try {
    const [path, search] = (req.url ?? '/').split('?');
    if (path === '/api/v1/test/') return send(res, 200, { connected: true });
    if (path === '/api/v1/users/login/' && req.method === 'POST') return await login(req, res);
    const user = await userId(req);
    if (user === undefined) return send(res, 401, { error: 'no' });
    if (path === '/api/v1/tasks/' && req.method === 'GET') {
      const limit = Number(new URLSearchParams(search).get('limit') ?? 100);
      const { rows } = await pool.query({ ...LIST, values: [user, limit + 1, 0] });
      return send(res, 200, rows.slice(0, limit));
    }
    if (path === '/api/v1/tasks/' && req.method === 'POST') {
      const task = await create(user, await body(req));
      return task ? send(res, 201, task) : send(res, 409, { error: 'full' });
    }
    const id = Number(path.split('/')[4]);
    if (req.method === 'GET') {
      const { rows } = await pool.query({ ...FIND, values: [user, id] });
      return rows[0] ? send(res, 200, rows[0]) : send(res, 404, { error: 'no' });
    }
    if (req.method === 'PUT') {
      const input = await body(req);
      const { rows } = await pool.query({ ...UPDATE, values: [input.completed ?? false, user, id] });
      return rows[0] ? send(res, 200, rows[0]) : send(res, 404, { error: 'no' });
    }
    send(res, 404, { error: 'no' });
  } catch {
    send(res, 500, { error: 'floor error' });
  }
});
serve(server, 'floor');
