#!/usr/bin/env node
/**
 * The benchmark's floor: the same SQL as the API through the same driver (pg, prepared statements),
 * on bare node:http. No framework, no validation, no hardening: what the hardware and the database
 * allow. Never deploy this; it exists only to be measured beside the API.
 *
 * Env: PORT, SECRET_KEY, POSTGRES_DB, POSTGRES_USER, DB_HOST, DB_PORT, DB_POOL_MAX.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { verify } from '@node-rs/argon2';
import pg from 'pg';

const pool = new pg.Pool({
  host: process.env.DB_HOST ?? '127.0.0.1',
  port: Number(process.env.DB_PORT ?? 5432),
  user: process.env.POSTGRES_USER ?? 'postgres',
  database: process.env.POSTGRES_DB,
  max: Number(process.env.DB_POOL_MAX ?? 10),
});
const key = process.env.SECRET_KEY ?? '';
const COLUMNS = 'id, title, description, completed, created_at, updated_at';

const AUTH = {
  name: 'floor_auth',
  text: 'SELECT s.id AS session_id, u.id AS user_id, u.email FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ANY($1) AND s.expires_at > now() LIMIT 1',
};
const LIST = {
  name: 'floor_list',
  text: `SELECT ${COLUMNS} FROM tasks WHERE user_id = $1 ORDER BY id ASC LIMIT $2 OFFSET $3`,
};
const FIND = { name: 'floor_find', text: `SELECT ${COLUMNS} FROM tasks WHERE user_id = $1 AND id = $2` };
const CREATE = {
  name: 'floor_create',
  text: `INSERT INTO tasks (user_id, title, description, completed) VALUES ($1, $2, $3, $4) RETURNING ${COLUMNS}`,
};
const UPDATE = {
  name: 'floor_update',
  text: `UPDATE tasks SET completed = $3, updated_at = now() WHERE user_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
};
const USER = { name: 'floor_user', text: 'SELECT id, password_hash FROM users WHERE email = $1 LIMIT 1' };
const SESSION = {
  name: 'floor_session',
  text: "INSERT INTO sessions (token_hash, user_id, expires_at) VALUES ($1, $2, now() + interval '7 days')",
};

function send(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

async function user(req) {
  const token = (req.headers.authorization ?? '').split(' ')[1] ?? '';
  const { rows } = await pool.query({ ...AUTH, values: [[createHmac('sha256', key).update(token).digest('hex')]] });
  return rows[0];
}

function body(req) {
  return new Promise((resolve) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => {
      text += chunk;
    });
    req.on('end', () => resolve(text ? JSON.parse(text) : {}));
  });
}

const server = createServer(async (req, res) => {
  try {
    const [path] = (req.url ?? '/').split('?');
    if (path === '/api/v1/test/') return send(res, 200, { connected: true });
    if (path === '/api/v1/users/login/' && req.method === 'POST') {
      const { email, password } = await body(req);
      const { rows } = await pool.query({ ...USER, values: [email] });
      if (!rows[0] || !(await verify(rows[0].password_hash, password))) return send(res, 401, { error: 'no' });
      const token = `ict_${randomBytes(32).toString('base64url')}`;
      await pool.query({ ...SESSION, values: [createHmac('sha256', key).update(token).digest('hex'), rows[0].id] });
      return send(res, 200, { token, email });
    }
    const me = await user(req);
    if (!me) return send(res, 401, { error: 'no' });
    if (path === '/api/v1/tasks/' && req.method === 'GET') {
      const limit = Number(new URL(req.url, 'http://x').searchParams.get('limit') ?? 100);
      const { rows } = await pool.query({ ...LIST, values: [me.user_id, limit, 0] });
      return send(res, 200, rows);
    }
    if (path === '/api/v1/tasks/' && req.method === 'POST') {
      const input = await body(req);
      const { rows } = await pool.query({
        ...CREATE,
        values: [me.user_id, input.title, input.description ?? '', input.completed ?? false],
      });
      return send(res, 201, rows[0]);
    }
    const id = Number(path.split('/')[4]);
    if (req.method === 'GET') {
      const { rows } = await pool.query({ ...FIND, values: [me.user_id, id] });
      return rows[0] ? send(res, 200, rows[0]) : send(res, 404, { error: 'no' });
    }
    if (req.method === 'PUT') {
      const input = await body(req);
      const { rows } = await pool.query({ ...UPDATE, values: [me.user_id, id, input.completed ?? false] });
      return rows[0] ? send(res, 200, rows[0]) : send(res, 404, { error: 'no' });
    }
    send(res, 404, { error: 'no' });
  } catch {
    send(res, 500, { error: 'floor error' });
  }
});
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(`floor listening at http://127.0.0.1:${server.address().port}`);
});
process.on('SIGTERM', () => server.close(() => pool.end().then(() => process.exit(0))));
