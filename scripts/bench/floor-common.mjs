/**
 * What both floors share: the pool, the token's keyed hash (HMAC-SHA256 under SECRET_KEY, as the API stores it),
 * a JSON body reader, the answer writer and the login (argon2 verify). Neither floor is hardened: never deploy one.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { verify } from '@node-rs/argon2';
import pg from 'pg';

export const pool = new pg.Pool({
  host: process.env.DB_HOST ?? '127.0.0.1',
  port: Number(process.env.DB_PORT ?? 5432),
  user: process.env.POSTGRES_USER ?? 'postgres',
  database: process.env.POSTGRES_DB,
  max: Number(process.env.DB_POOL_MAX ?? 10),
});
const key = process.env.SECRET_KEY ?? '';

export const tokenHash = (token) => createHmac('sha256', key).update(token).digest('hex');

/** The token of `Authorization: Token <token>`, or ''. */
export const tokenOf = (req) => (req.headers.authorization ?? '').split(' ')[1] ?? '';

export function send(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

export function body(req) {
  return new Promise((resolve) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => {
      text += chunk;
    });
    req.on('end', () => resolve(text ? JSON.parse(text) : {}));
  });
}

const USER = { name: 'floor_user', text: 'SELECT id, password_hash FROM users WHERE email = $1 LIMIT 1' };
const SESSION = {
  name: 'floor_session',
  text: "INSERT INTO sessions (token_hash, user_id, expires_at) VALUES ($1, $2, now() + interval '7 days')",
};

/** POST /api/v1/users/login/: the password check dominates (argon2), as in the API. */
export async function login(req, res) {
  const { email, password } = await body(req);
  const { rows } = await pool.query({ ...USER, values: [email] });
  if (!rows[0] || !(await verify(rows[0].password_hash, password))) return send(res, 401, { error: 'no' });
  const token = `ict_${randomBytes(32).toString('base64url')}`;
  await pool.query({ ...SESSION, values: [tokenHash(token), rows[0].id] });
  return send(res, 200, { token, email });
}

/** Listens on PORT (0: any) on loopback and says where, as the bench runner waits for; stops on SIGTERM. */
export function serve(server, name) {
  server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
    console.log(`${name} listening at http://127.0.0.1:${server.address().port}`);
  });
  process.on('SIGTERM', () => server.close(() => pool.end().then(() => process.exit(0))));
}
