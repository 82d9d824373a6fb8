/**
 * npm run bench -- --scale: does the API's cost stay flat as the data grows?
 *
 * Two throw-away PostgreSQL databases:
 * - big: migrated to 0003, then seeded in SQL (generate_series) with --scale-users users and --scale-tasks tasks
 *   spread round-robin over them (so a typical user's rows lie on as many pages as they would after years of
 *   interleaved use), plus one heavy user with --heavy-tasks tasks (above the default TASK_QUOTA: written directly);
 *   then the API is started on it, which applies 0004 (due dates, the folded search column, three indexes) to the
 *   big table: that start is the migration's time on a big database.
 * - empty: migrated by the API, holding only the same typical and heavy user with the same number of tasks.
 * The same requests are timed one at a time (keep-alive) on both, alternating request by request between the two
 * databases so that a pause of the machine falls on both alike: p50/p99 of --samples requests each. The heavy
 * user's last page is reached by walking the Link header to the end. The report (artifacts/bench-scale-*.md|json)
 * has the table, EXPLAIN (ANALYZE, BUFFERS) of each query on the big database, and the table and index sizes.
 * The big database is dropped at the end unless --keep.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, statfsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hash } from '@node-rs/argon2';
import { readMigrationFiles } from 'drizzle-orm/migrator';
import pg from 'pg';
import { admin, pgConfig } from '../lib.mjs';
import { scaleTable } from './report.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const PASSWORD = 'benchmark-passphrase-9';
const SORTS = ['oldest', 'newest', 'due', 'title'];
const SECRET_KEY = randomBytes(48).toString('base64url');
const log = (text) => console.log(`[scale ${new Date().toISOString().slice(11, 19)}] ${text}`);

async function connect(database) {
  const client = new pg.Client({ ...pgConfig, database });
  await client.connect();
  return client;
}

/** Applies migrations 0000 … `upTo` as the server's migrator would (same bookkeeping), so the API applies the rest. */
async function migrateUpTo(client, upTo) {
  const migrations = readMigrationFiles({ migrationsFolder: join(root, 'server/drizzle') }).slice(0, upTo + 1);
  await client.query('CREATE SCHEMA IF NOT EXISTS "drizzle"');
  await client.query(
    'CREATE TABLE IF NOT EXISTS "drizzle"."__drizzle_migrations" (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at bigint)',
  );
  for (const migration of migrations) {
    await client.query('BEGIN');
    for (const statement of migration.sql) if (statement.trim()) await client.query(statement);
    await client.query('INSERT INTO "drizzle"."__drizzle_migrations" ("hash", "created_at") VALUES ($1, $2)', [
      migration.hash,
      migration.folderMillis,
    ]);
    await client.query('COMMIT');
  }
}

/**
 * Tasks numbered from..to for the user `userOf` (an SQL expression of i), in one statement. Titles and descriptions
 * vary (the title sort and search see different text); a third are completed. No due dates (the column comes with
 * 0004, after this insert on the big database).
 */
function insertTasks(from, to, userOf) {
  return `INSERT INTO tasks (user_id, title, description, completed, created_at, updated_at)
    SELECT ${userOf}, 'Task ' || md5(i::text), 'Details of task ' || i || ': ' || repeat(substr(md5(i::text), 1, 8) || ' ', 6),
      i % 3 = 0, now() - make_interval(secs => i % 100000), now() - make_interval(secs => i % 100000)
    FROM generate_series(${from}, ${to}) AS i`;
}

async function seedBig(database, options) {
  const client = await connect(database);
  const timings = {};
  try {
    await migrateUpTo(client, 3);
    const passwordHash = await hash(PASSWORD);
    let began = Date.now();
    await client.query(
      `INSERT INTO users (email, password_hash) SELECT 'user' || i || '@scale.example', $1 FROM generate_series(1, ${options.users}) AS i`,
      [passwordHash],
    );
    timings.usersMs = Date.now() - began;
    log(`${options.users} users in ${timings.usersMs} ms`);
    // Bulk load: the secondary index is built once at the end, and the foreign key is true by construction.
    await client.query('DROP INDEX IF EXISTS tasks_user_id_id_idx');
    await client.query("SET session_replication_role = 'replica'");
    began = Date.now();
    const chunk = 1_000_000;
    for (let from = 1; from <= options.tasks; from += chunk) {
      const to = Math.min(options.tasks, from + chunk - 1);
      await client.query(insertTasks(from, to, `1 + (i % ${options.users})`));
      log(`tasks ${to}/${options.tasks} (${Math.round(to / ((Date.now() - began) / 1000))} rows/s)`);
    }
    const { rows } = await client.query(
      "INSERT INTO users (email, password_hash) VALUES ('heavy@scale.example', $1) RETURNING id",
      [passwordHash],
    );
    await client.query(insertTasks(1, options.heavyTasks, rows[0].id));
    timings.tasksMs = Date.now() - began;
    await client.query("SET session_replication_role = 'origin'");
    began = Date.now();
    await client.query('CREATE INDEX tasks_user_id_id_idx ON tasks USING btree (user_id, id)');
    await client.query('VACUUM ANALYZE tasks');
    await client.query('VACUUM ANALYZE users');
    timings.indexMs = Date.now() - began;
    timings.rowsPerSecond = Math.round((options.tasks + options.heavyTasks) / (timings.tasksMs / 1000));
    log(
      `tasks seeded in ${timings.tasksMs} ms (${timings.rowsPerSecond} rows/s), index + analyze ${timings.indexMs} ms`,
    );
    return { typical: `user${Math.ceil(options.users / 2)}@scale.example`, heavy: 'heavy@scale.example', timings };
  } finally {
    await client.end();
  }
}

/** The empty database: migrated by the API, then the same two users with the same numbers of tasks. */
async function seedSmall(database, perUser, heavyTasks) {
  const client = await connect(database);
  try {
    const passwordHash = await hash(PASSWORD);
    const ids = [];
    for (const email of ['typical@scale.example', 'heavy@scale.example']) {
      const { rows } = await client.query('INSERT INTO users (email, password_hash) VALUES ($1, $2) RETURNING id', [
        email,
        passwordHash,
      ]);
      ids.push(rows[0].id);
    }
    await client.query(insertTasks(1, perUser, ids[0]));
    await client.query(insertTasks(1, heavyTasks, ids[1]));
    await client.query('VACUUM ANALYZE tasks');
    return { typical: 'typical@scale.example', heavy: 'heavy@scale.example' };
  } finally {
    await client.end();
  }
}

const children = new Set();
function startApi(database) {
  const began = Date.now();
  const child = spawn(process.execPath, [join(root, 'server/dist/main.js')], {
    cwd: mkdtempSync(join(tmpdir(), 'ironclad-scale-')),
    env: {
      PATH: process.env.PATH,
      PORT: '0',
      SHUTDOWN_DRAIN: '0',
      POSTGRES_DB: database,
      POSTGRES_USER: pgConfig.user,
      DB_HOST: pgConfig.host,
      DB_PORT: String(pgConfig.port),
      SECRET_KEY,
      RATE_LIMIT_LOGIN: '1000000/1s',
      RATE_LIMIT_LOGIN_ACCOUNT: '1000000/1s',
      RATE_LIMIT_READS: '1000000/1s',
      RATE_LIMIT_WRITES: '1000000/1s',
      // The heavy user holds more than the default quota (seeded in SQL); its creates are timed, not refused.
      TASK_QUOTA: '10000000',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return new Promise((done, fail) => {
    let seen = '';
    // Applying 0004 to ten million rows takes minutes.
    const timer = setTimeout(() => fail(new Error('the API did not start within 60 minutes')), 3_600_000);
    child.stdout.on('data', (chunk) => {
      if (seen === null) return;
      seen += chunk;
      const match = /Server listening at (http:\/\/[^"\s]+)/.exec(seen);
      if (match) {
        clearTimeout(timer);
        seen = null;
        done({ child, url: match[1], startMs: Date.now() - began });
      }
    });
    child.on('exit', (code) => fail(new Error(`the API exited (${code}) before listening`)));
  });
}

async function stop(child) {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  await new Promise((done) => child.once('exit', done));
}

async function login(url, email) {
  const response = await fetch(`${url}/api/v1/users/login/`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: PASSWORD }),
  });
  if (response.status !== 200) throw new Error(`login ${email}: ${response.status}`);
  return (await response.json()).token;
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];

/** One timed request; throws unless the answer has the expected status. */
async function timedRequest(url, token, request) {
  const began = performance.now();
  const response = await fetch(`${url}${request.path}`, {
    method: request.method ?? 'GET',
    headers: { authorization: `Token ${token}`, 'content-type': 'application/json' },
    body: request.body,
  });
  await response.arrayBuffer();
  const ms = performance.now() - began;
  if (response.status !== (request.status ?? 200)) throw new Error(`${request.path}: ${response.status}`);
  return ms;
}

const summary = (durations) => {
  const sorted = [...durations].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
};

/**
 * `samples` requests on each side (big and empty database), alternating between them request by request (and which
 * goes first), so that a pause of this machine, of wrk's neighbours or of a garbage collection falls on both sides
 * alike instead of on whichever request type happened to be timed then. p50 and p99 in ms for each side.
 */
async function timeBoth(sides, requests, samples) {
  const durations = sides.map(() => []);
  for (let i = 0; i < samples; i++) {
    const order = i % 2 === 0 ? [0, 1] : [1, 0];
    for (const side of order)
      durations[side].push(await timedRequest(sides[side].url, sides[side].token, requests[side]));
  }
  return durations.map(summary);
}

/** Follows `Link: rel="next"` from `path` to the list's last page; answers that page's path and how many pages. */
async function lastPage(url, token, path) {
  let pages = 1;
  for (;;) {
    const response = await fetch(`${url}${path}`, { headers: { authorization: `Token ${token}` } });
    await response.arrayBuffer();
    const next = /<([^>]+)>;\s*rel="next"/.exec(response.headers.get('link') ?? '');
    if (!next) return { path, pages };
    path = next[1];
    pages++;
  }
}

/**
 * The requests timed for one user on both databases (big, empty): each sort's first page (and last, for the heavy
 * user), a search, counts, a task, a create. Answers `{ big: rows, empty: rows }`.
 */
async function measure(sides, heavy, samples) {
  for (const side of sides) side.token = await login(side.url, side.email);
  const rows = sides.map(() => []);
  const add = async (name, requests) => {
    const timed = await timeBoth(sides, Array.isArray(requests) ? requests : [requests, requests], samples);
    for (const [side, result] of timed.entries()) rows[side].push({ name, ...result });
  };
  // Unmeasured first: the processes have just started (cold JIT, a pool still opening connections), and the first
  // request type timed would otherwise carry that alone.
  await timeBoth(
    sides,
    [0, 1].map(() => ({ path: '/api/v1/tasks/?limit=100' })),
    samples,
  );
  for (const sort of SORTS) {
    const first = `/api/v1/tasks/?limit=100&sort=${sort}`;
    await add(`list sort=${sort}, first page`, { path: first });
    if (heavy) {
      const lasts = await Promise.all(sides.map((side) => lastPage(side.url, side.token, first)));
      // A kept big database (--scale-db) also holds the creates of earlier runs: its last page may come later.
      const pages = lasts[0].pages === lasts[1].pages ? lasts[0].pages : `${lasts[0].pages} / ${lasts[1].pages}`;
      await add(
        `list sort=${sort}, last page (page ${pages})`,
        lasts.map((last) => ({ path: last.path })),
      );
    }
  }
  await add('list completed=true', { path: '/api/v1/tasks/?limit=100&completed=true' });
  await add('search q=task', { path: '/api/v1/tasks/?limit=100&q=task' });
  await add('search q=zebra (no match)', { path: '/api/v1/tasks/?limit=100&q=zebra' });
  await add('counts', { path: '/api/v1/tasks/counts/' });
  const taskPaths = await Promise.all(
    sides.map(async (side) => {
      const listing = await fetch(`${side.url}/api/v1/tasks/?limit=1`, {
        headers: { authorization: `Token ${side.token}` },
      });
      const [task] = await listing.json();
      return { path: `/api/v1/tasks/${task.id}/` };
    }),
  );
  await add('get one task', taskPaths);
  await add('create', {
    path: '/api/v1/tasks/',
    method: 'POST',
    body: JSON.stringify({ title: 'scale' }),
    status: 201,
  });
  return { big: rows[0], empty: rows[1] };
}

/** EXPLAIN (ANALYZE, BUFFERS) of the API's statements (as in server/src/tasks/repository.ts) for one user. */
async function explainAll(database, email) {
  const client = await connect(database);
  const out = [];
  try {
    const { rows } = await client.query('SELECT id FROM users WHERE email = $1', [email]);
    const user = rows[0].id;
    const cols = 'id, title, description, completed, due_on, created_at, updated_at';
    const dueKey = "coalesce(due_on, 'infinity'::date)";
    const titleKey = '(left(ironclad_fold(title), 255) COLLATE "C")';
    // The row just before the last page of each sort: where the last page's keyset cursor starts.
    const before = async (key, order) => {
      const { rows: r } = await client.query(
        `SELECT ${key}::text AS key, id FROM tasks WHERE user_id = $1 ORDER BY ${order} OFFSET greatest((SELECT count(*) FROM tasks WHERE user_id = $1) - 101, 0) LIMIT 1`,
        [user],
      );
      return r[0] ?? { key: null, id: 0 };
    };
    const oldest = await before('id', 'id ASC');
    const newest = await before('id', 'id DESC');
    const due = await before(dueKey, `${dueKey}, id`);
    const title = await before(titleKey, `${titleKey}, id`);
    const search =
      "search LIKE '%' || replace(replace(replace(ironclad_fold($2::text), '\\', '\\\\'), '%', '\\%'), '_', '\\_') || '%'";
    const queries = [
      ['list oldest, first page', `SELECT ${cols} FROM tasks WHERE user_id = $1 ORDER BY id ASC LIMIT 101 OFFSET 0`],
      [
        'list oldest, last page',
        `SELECT ${cols} FROM tasks WHERE user_id = $1 AND id > ${oldest.id} ORDER BY id ASC LIMIT 101`,
      ],
      ['list newest, first page', `SELECT ${cols} FROM tasks WHERE user_id = $1 ORDER BY id DESC LIMIT 101`],
      [
        'list newest, last page',
        `SELECT ${cols} FROM tasks WHERE user_id = $1 AND id < ${newest.id} ORDER BY id DESC LIMIT 101`,
      ],
      [
        'list due, first page',
        `SELECT ${cols}, ${dueKey}::text FROM tasks WHERE user_id = $1 ORDER BY ${dueKey} ASC, id ASC LIMIT 101`,
      ],
      [
        'list due, last page',
        `SELECT ${cols}, ${dueKey}::text FROM tasks WHERE user_id = $1 AND (${dueKey}, id) > ('${due.key}'::date, ${due.id}) ORDER BY ${dueKey} ASC, id ASC LIMIT 101`,
      ],
      [
        'list title, first page',
        `SELECT ${cols}, ${titleKey}::text FROM tasks WHERE user_id = $1 ORDER BY ${titleKey} ASC, id ASC LIMIT 101`,
      ],
      [
        'list title, last page',
        `SELECT ${cols}, ${titleKey}::text FROM tasks WHERE user_id = $1 AND (${titleKey}, id) > (('${title.key}'::text COLLATE "C"), ${title.id}) ORDER BY ${titleKey} ASC, id ASC LIMIT 101`,
      ],
      [
        'list completed=true',
        `SELECT ${cols} FROM tasks WHERE user_id = $1 AND completed = true ORDER BY id ASC LIMIT 101 OFFSET 0`,
      ],
      ['search q=task', `SELECT ${cols} FROM tasks WHERE user_id = $1 AND ${search} ORDER BY id ASC LIMIT 101`, 'task'],
      [
        'search q=zebra',
        `SELECT ${cols} FROM tasks WHERE user_id = $1 AND ${search} ORDER BY id ASC LIMIT 101`,
        'zebra',
      ],
      [
        'counts',
        `SELECT count(*)::int, (count(*) FILTER (WHERE NOT completed))::int, (count(*) FILTER (WHERE completed))::int, (count(*) FILTER (WHERE NOT completed AND due_on < current_date))::int FROM tasks WHERE user_id = $1`,
      ],
    ];
    for (const [name, text, q] of queries) {
      const { rows: plan } = await client.query(`EXPLAIN (ANALYZE, BUFFERS) ${text}`, q ? [user, q] : [user]);
      out.push({ name, plan: plan.map((r) => r['QUERY PLAN']).join('\n') });
    }
  } finally {
    await client.end();
  }
  return out;
}

async function sizes(database) {
  const client = await connect(database);
  try {
    const { rows } = await client.query(`
      SELECT c.relname AS name, CASE c.relkind WHEN 'i' THEN 'index' ELSE 'table' END AS kind,
             pg_relation_size(c.oid) AS bytes, pg_size_pretty(pg_relation_size(c.oid)) AS size
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'public' AND c.relkind IN ('r', 'i') AND pg_relation_size(c.oid) > 1000000
      ORDER BY pg_relation_size(c.oid) DESC`);
    const { rows: total } = await client.query('SELECT pg_size_pretty(pg_database_size(current_database())) AS size');
    return { relations: rows, database: total[0].size };
  } finally {
    await client.end();
  }
}

/** Free bytes where PostgreSQL keeps its data, when it is on this machine; undefined otherwise. */
async function freeBytes() {
  try {
    const client = await connect('postgres');
    const { rows } = await client.query('SHOW data_directory');
    await client.end();
    const stats = statfsSync(rows[0].data_directory);
    return stats.bavail * stats.bsize;
  } catch {
    return undefined;
  }
}

export async function runScale(options) {
  // ~170 bytes a task with its indexes (measured: 1.7 GB for 10 M), doubled for the 0004 rewrite.
  const needed = (options.tasks + options.heavyTasks) * 400;
  const free = await freeBytes();
  if (free !== undefined && free < needed) {
    throw new Error(`not enough disk: ${(free / 1e9).toFixed(1)} GB free, ~${(needed / 1e9).toFixed(1)} GB needed`);
  }
  const tag = randomBytes(4).toString('hex');
  const big = options.db ?? `ironclad_scale_${tag}`;
  const empty = `ironclad_scale_empty_${tag}`;
  const perUser = Math.round(options.tasks / options.users);
  const report = { options, stamp: new Date().toISOString(), perUser };
  try {
    await admin(`CREATE DATABASE ${empty}`);
    let bigUsers = { typical: `user${Math.ceil(options.users / 2)}@scale.example`, heavy: 'heavy@scale.example' };
    if (options.db) {
      log(`reusing ${big} (seeded and migrated by an earlier --keep run with the same sizes)`);
    } else {
      await admin(`CREATE DATABASE ${big}`);
      log(
        `seeding ${big}: ${options.users} users, ${options.tasks} tasks (~${perUser} each), heavy ${options.heavyTasks}`,
      );
      bigUsers = await seedBig(big, options);
      report.seed = bigUsers.timings;
      log('starting the API on the big database (applies migration 0004)');
      const bigApi = await startApi(big);
      report.migration0004Ms = bigApi.startMs;
      log(`API ready after ${bigApi.startMs} ms (migration 0004 on the big table included)`);
      await stop(bigApi.child);
    }
    // A second start on the migrated big database: nothing to apply.
    const again = await startApi(big);
    report.startMigratedMs = again.startMs;
    const emptyApi = await startApi(empty);
    const emptyUsers = await seedSmall(empty, perUser, options.heavyTasks);
    // Write back what the seed and the migration dirtied before timing anything: otherwise the checkpoint that follows
    // a 6 GB table rewrite runs during the first requests timed (the first sort's p99 on the big database was
    // x1.6-2.5 the empty one's in every full-size run, and within noise at 2,000,000 tasks).
    const checkpointStarted = Date.now();
    try {
      await admin('CHECKPOINT', { database: big });
    } catch (error) {
      // CHECKPOINT needs a superuser or pg_checkpoint; without it the run goes on, and the report says so.
      report.checkpointSkipped = error.message;
      log(`CHECKPOINT refused (${error.message}): the first requests may be timed during the checkpoint`);
    }
    // …and what the kernel still holds dirty for any file (PostgreSQL's WAL and data alike) on this machine.
    execFileSync('sync');
    report.checkpointMs = Date.now() - checkpointStarted;
    log(`CHECKPOINT + sync after seeding and migrating: ${report.checkpointMs} ms`);
    report.measured = {};
    for (const [label, heavy, bigEmail, emptyEmail] of [
      ['typical', false, bigUsers.typical, emptyUsers.typical],
      ['heavy', true, bigUsers.heavy, emptyUsers.heavy],
    ]) {
      log(`measuring the ${label} user`);
      report.measured[label] = await measure(
        [
          { url: again.url, email: bigEmail },
          { url: emptyApi.url, email: emptyEmail },
        ],
        heavy,
        options.samples,
      );
    }
    await stop(again.child);
    await stop(emptyApi.child);
    report.explain = { typical: await explainAll(big, bigUsers.typical), heavy: await explainAll(big, bigUsers.heavy) };
    report.sizes = await sizes(big);
  } catch (error) {
    report.error = String(error?.stack ?? error);
    throw error;
  } finally {
    for (const child of children) await stop(child);
    await admin(`DROP DATABASE IF EXISTS ${empty} WITH (FORCE)`).catch(() => {});
    if (!options.keep && !options.db) await admin(`DROP DATABASE IF EXISTS ${big} WITH (FORCE)`).catch(() => {});
    else log(`kept ${big} (drop it with: DROP DATABASE ${big})`);
    // Whatever was measured is written, also when a later step failed.
    write(report);
  }
}

function write(report) {
  const markdown = scaleTable(report);
  console.log(`\n${markdown}`);
  mkdirSync(join(root, 'artifacts'), { recursive: true });
  const file = `artifacts/bench-scale-${report.stamp.replace(/[:.]/g, '-')}`;
  writeFileSync(join(root, `${file}.md`), markdown);
  writeFileSync(join(root, `${file}.json`), `${JSON.stringify(report, null, 2)}\n`);
  console.log(`written to ${file}.md and .json`);
}
