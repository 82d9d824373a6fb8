/**
 * What breaks first when instances × DB_POOL_MAX outgrow PostgreSQL's max_connections, and what PgBouncer changes
 * (docs/scaling.md quotes its output). Starts SERVERS built servers (default 4) with DB_POOL_MAX=POOL (default 30) on
 * one throw-away database of the test PostgreSQL server (127.0.0.1:5432, max_connections 100 by default), loads each
 * with `wrk -c48` on the list of 10 for DURATION seconds (default 10), and prints requests, req/s and the answers by
 * status; then the same through a real PgBouncer in transaction mode (20 server connections, max_client_conn 1000).
 *
 *   npm run build && npx tsx scripts/connection-budget.ts          # needs wrk and pgbouncer (apt-get install)
 */
import { spawn } from 'node:child_process';
import { GOOD_PASSWORD, uniqueEmail } from '@ironclad/testkit/accounts';
import { createTestDatabase, postgresEnv } from '@ironclad/testkit/database';
import { startPgBouncer } from '@ironclad/testkit/pgbouncer';
import { json, type Running, start, stop } from '@ironclad/testkit/process';

const SERVERS = Number(process.env.SERVERS ?? 4);
const POOL = process.env.POOL ?? '30';
const DURATION = Number(process.env.DURATION ?? 10);
// Budgets far above what wrk sends, so every refusal counted below is the database's.
const settings = {
  RATE_LIMIT_READS: '1000000/1m',
  RATE_LIMIT_WRITES: '1000000/1m',
  LOG_LEVEL: 'info',
  DB_POOL_MAX: POOL,
};

/** A JSON call to the API (testkit's `json`), with the session token when there is one. */
async function call(url: string, init: { token?: string; body?: unknown } = {}) {
  const answer = await json(url, {
    method: init.body === undefined ? 'GET' : 'POST',
    headers: init.token ? { authorization: `Token ${init.token}` } : {},
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  return answer.body as { token?: string };
}

function wrk(args: string[]): Promise<string> {
  return new Promise((done, fail) => {
    const child = spawn('wrk', args);
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk;
    });
    child.on('error', fail);
    child.on('exit', () => done(output));
  });
}

const database = await createTestDatabase();
try {
  const seeder = await start({ ...postgresEnv(database.name), ...settings });
  const email = uniqueEmail('connections');
  await call(`${seeder.url}/api/v1/users/signup/`, { body: { email, password: GOOD_PASSWORD } });
  const { token } = await call(`${seeder.url}/api/v1/users/login/`, { body: { email, password: GOOD_PASSWORD } });
  for (let i = 0; i < 10; i++) await call(`${seeder.url}/api/v1/tasks/`, { token, body: { title: `task ${i}` } });
  await stop(seeder);

  const round = async (label: string, env: Record<string, string>) => {
    const servers: Running[] = [];
    for (let i = 0; i < SERVERS; i++) servers.push(await start({ ...postgresEnv(database.name), ...settings, ...env }));
    const outputs = await Promise.all(
      servers.map((server) =>
        wrk([
          '-t1',
          '-c48',
          `-d${DURATION}s`,
          '-H',
          `Authorization: Token ${token}`,
          `${server.url}/api/v1/tasks/?limit=10`,
        ]),
      ),
    );
    const logs = servers.map((server) => server.output()).join('\n');
    for (const server of servers) await stop(server);
    let requests = 0;
    let perSecond = 0;
    for (const output of outputs) {
      requests += Number(/(\d+) requests in/.exec(output)?.[1] ?? 0);
      perSecond += Number(/Requests\/sec:\s+([\d.]+)/.exec(output)?.[1] ?? 0);
    }
    const statuses: Record<string, number> = {};
    for (const match of logs.matchAll(/"status":(\d+)/g)) {
      const status = match[1] as string;
      statuses[status] = (statuses[status] ?? 0) + 1;
    }
    const tooMany = logs.split('\n').filter((line) => line.includes('"code":"53300"')).length;
    process.stdout.write(
      `${label}: ${SERVERS} servers x DB_POOL_MAX ${POOL}, ${requests} requests, ${perSecond.toFixed(0)} req/s, answers ${JSON.stringify(statuses)}, "too many clients" logged ${tooMany} times\n`,
    );
  };

  await round('PostgreSQL directly', {});
  const bouncer = await startPgBouncer('transaction', {
    settings: { max_client_conn: '1000', default_pool_size: '20' },
  });
  try {
    await round('PgBouncer (transaction, 20 server connections)', {
      DB_HOST: bouncer.host,
      DB_PORT: String(bouncer.port),
      DB_POOL_MODE: 'transaction',
    });
  } finally {
    await bouncer.stop();
  }
} finally {
  await database.drop();
}
