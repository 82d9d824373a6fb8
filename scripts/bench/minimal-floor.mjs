#!/usr/bin/env node
/**
 * The minimal floor: the least work each endpoint needs, on bare node:http + pg (prepared statements over TCP).
 * API / this floor is what everything costs: the framework and hardening, and also the SQL's shape.
 *
 * - Authentication is still done: the token's keyed hash (HMAC-SHA256 under SECRET_KEY, as stored) is looked up
 *   by the unique index on sessions.token_hash (one hash, `=`, no join with users: no endpoint here needs the
 *   email), and the expiry and "ended" checks are made on the row in JavaScript.
 * - The list is one indexed query (tasks_user_id_id_idx) of exactly the page's rows, answered in the API's JSON
 *   shape (the same seven fields, timestamps as ISO 8601 by JSON.stringify of pg's Date). No next-page probe row.
 * - A create is one INSERT … RETURNING: no transaction, no owner lock, no quota, no idempotency key (features the
 *   API has and this floor does not, so part of the create's gap is the quota's exactness).
 * - An update is one UPDATE … RETURNING; a read one indexed SELECT; login as the other floor (argon2 dominates).
 * Never deploy this; it exists only to be measured beside the API.
 *
 * Env: PORT, SECRET_KEY, POSTGRES_DB, POSTGRES_USER, DB_HOST, DB_PORT, DB_POOL_MAX.
 */
import { createServer } from 'node:http';
import { body, login, pool, send, serve, tokenHash, tokenOf } from './floor-common.mjs';

const COLUMNS = 'id, title, description, completed, due_on, created_at, updated_at';
const AUTH = {
  name: 'min_auth',
  text: 'SELECT user_id, expires_at, ended_at FROM sessions WHERE token_hash = $1',
  rowMode: 'array',
};
const LIST = { name: 'min_list', text: `SELECT ${COLUMNS} FROM tasks WHERE user_id = $1 ORDER BY id LIMIT $2` };
const FIND = { name: 'min_find', text: `SELECT ${COLUMNS} FROM tasks WHERE user_id = $1 AND id = $2` };
const CREATE = {
  name: 'min_create',
  text: `INSERT INTO tasks (user_id, title, description, completed, due_on) VALUES ($1, $2, $3, $4, $5) RETURNING ${COLUMNS}`,
};
const UPDATE = {
  name: 'min_update',
  text: `UPDATE tasks SET completed = $3, updated_at = now() WHERE user_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
};

async function userId(req) {
  const { rows } = await pool.query({ ...AUTH, values: [tokenHash(tokenOf(req))] });
  const [user, expiresAt, endedAt] = rows[0] ?? [];
  return user !== undefined && endedAt === null && expiresAt > Date.now() ? user : undefined;
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
      const { rows } = await pool.query({ ...LIST, values: [user, limit] });
      return send(res, 200, rows);
    }
    if (path === '/api/v1/tasks/' && req.method === 'POST') {
      const input = await body(req);
      const { rows } = await pool.query({
        ...CREATE,
        values: [user, input.title, input.description ?? '', input.completed ?? false, input.due_on ?? null],
      });
      return send(res, 201, rows[0]);
    }
    const id = Number(path.split('/')[4]);
    if (req.method === 'GET') {
      const { rows } = await pool.query({ ...FIND, values: [user, id] });
      return rows[0] ? send(res, 200, rows[0]) : send(res, 404, { error: 'no' });
    }
    if (req.method === 'PUT') {
      const input = await body(req);
      const { rows } = await pool.query({ ...UPDATE, values: [user, id, input.completed ?? false] });
      return rows[0] ? send(res, 200, rows[0]) : send(res, 404, { error: 'no' });
    }
    send(res, 404, { error: 'no' });
  } catch {
    send(res, 500, { error: 'floor error' });
  }
});
serve(server, 'minimal floor');
